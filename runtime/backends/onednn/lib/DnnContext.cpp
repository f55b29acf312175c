//===- DnnContext.cpp - Layout conversions at op boundaries ---------------===//

#include "DnnContext.h"

namespace kdrt::onednn {

CacheKey &CacheKey::add(const dnnl::memory::desc &desc) {
  const dnnl_memory_desc_t &d = desc.data;
  int rank = d.ndims;
  add(int64_t(rank));
  appendRaw(d.dims, size_t(rank) * sizeof(d.dims[0]));
  appendRaw(d.padded_dims, size_t(rank) * sizeof(d.padded_dims[0]));
  appendRaw(d.padded_offsets, size_t(rank) * sizeof(d.padded_offsets[0]));
  add(int64_t(d.data_type)).add(int64_t(d.offset0)).add(int64_t(d.format_kind));
  if (d.format_kind == dnnl_blocked) {
    const dnnl_blocking_desc_t &b = d.format_desc.blocking;
    appendRaw(b.strides, size_t(rank) * sizeof(b.strides[0]));
    add(int64_t(b.inner_nblks));
    appendRaw(b.inner_blks, size_t(b.inner_nblks) * sizeof(b.inner_blks[0]));
    appendRaw(b.inner_idxs, size_t(b.inner_nblks) * sizeof(b.inner_idxs[0]));
  } else {
    appendRaw(&d.format_desc, sizeof(d.format_desc));
  }
  add(int64_t(d.extra.flags)).add(int64_t(d.extra.compensation_mask));
  add(double(d.extra.scale_adjust)).add(int64_t(d.extra.asymm_compensation_mask));
  return *this;
}

void run(const dnnl::primitive &primitive, dnnl::stream &stream,
         const Args &args) {
  // Few arguments (a convolution with post-ops has under ten): on the stack.
  constexpr size_t kMax = 32;
  dnnl_exec_arg_t list[kMax];
  size_t count = 0;
  for (const auto &[key, value] : args.items()) {
    if (count == kMax)
      throw dnnl::error(dnnl_invalid_arguments, "too many arguments");
    list[count++] = {key, value.get(/*allow_empty=*/true)};
  }
  dnnl::error::wrap_c_api(
      dnnl_primitive_execute(primitive.get(), stream.get(), int(count), list),
      "could not execute a primitive");
}

memory wrap(DnnContext &ctx, const memory::desc &desc, const float *data) {
  CacheKey key("memory");
  key.add(static_cast<const void *>(data)).add(desc);
  if (memory *found = ctx.memories.find(key))
    return *found;
  if (ctx.memories.size() >= DnnContext::kMaxMemories)
    ctx.memories.clear();
  return ctx.memories.insert(
      key, memory(desc, ctx.engine, const_cast<float *>(data)));
}

dnnl::reorder cachedReorder(DnnContext &ctx, const memory::desc &from,
                            const memory::desc &to) {
  CacheKey key("reorder");
  key.add(from).add(to);
  struct Entry {
    dnnl::reorder primitive;
  };
  return ctx.cache
      .getOrCreate<Entry>(key,
                          [&] {
                            return Entry{dnnl::reorder(
                                dnnl::reorder::primitive_desc(
                                    ctx.engine, from, ctx.engine, to))};
                          })
      .primitive;
}

memory inLayout(DnnContext &ctx, const memory &user,
                const memory::desc &wanted) {
  if (user.get_desc() == wanted)
    return user;
  memory converted(wanted, ctx.engine);
  memory source = user; // execute() takes non-const handles.
  cachedReorder(ctx, user.get_desc(), wanted)
      .execute(ctx.stream, source, converted);
  return converted;
}

memory weightsInLayout(DnnContext &ctx, const Tensor &weight,
                       const memory::desc &plain, const memory::desc &wanted) {
  if (plain == wanted || weight.version() == 0)
    return inLayout(ctx, wrap(ctx, plain, weight.data()), wanted);
  CacheKey key("weight");
  key.add(static_cast<const void *>(weight.data())).add(wanted);
  ReorderedWeight *cached = ctx.weights.find(key);
  if (!cached)
    cached = &ctx.weights.insert(key, {0, memory(wanted, ctx.engine)});
  if (cached->version != weight.version()) {
    memory user = wrap(ctx, plain, weight.data());
    cachedReorder(ctx, plain, wanted).execute(ctx.stream, user, cached->memory);
    cached->version = weight.version();
  }
  return cached->memory;
}

OutputMemory::OutputMemory(DnnContext &ctx, const memory &user,
                           const memory::desc &wanted)
    : user_(user),
      primitive_(user.get_desc() == wanted ? user
                                           : memory(wanted, ctx.engine)) {}

void OutputMemory::prefill(DnnContext &ctx, const memory &source) {
  if (source.get_data_handle() == primitive_.get_data_handle())
    return;
  cachedReorder(ctx, source.get_desc(), primitive_.get_desc())
      .execute(ctx.stream, {{DNNL_ARG_FROM, source},
                            {DNNL_ARG_TO, primitive_}});
}

void OutputMemory::commit(DnnContext &ctx) {
  if (primitive_.get() != user_.get())
    cachedReorder(ctx, primitive_.get_desc(), user_.get_desc())
        .execute(ctx.stream, primitive_, user_);
}

void reorderInto(DnnContext &ctx, const Tensor &from, const Tensor &to) {
  memory source = wrap(ctx, from), target = wrap(ctx, to);
  cachedReorder(ctx, source.get_desc(), target.get_desc())
      .execute(ctx.stream, source, target);
}

namespace {
/// Row-major and channels-last lay out [N, C, 1, 1] alike: such a tensor is
/// in either layout as it is (a global pooling's output, for one).
bool layoutFree(const Tensor &tensor) {
  return tensor.dim(2) == 1 && tensor.dim(3) == 1;
}
} // namespace

const Tensor &SameLayout::in(const Tensor &tensor) {
  if (tensor.layout() == target_ || tensor.rank() != 4)
    return tensor;
  if (layoutFree(tensor)) {
    inputs_.push_back(std::make_unique<Tensor>(tensor.withLayout(target_)));
    return *inputs_.back();
  }
  auto copy = std::make_unique<Tensor>(
      Tensor::owning(tensor.shape()).withLayout(target_));
  reorderInto(ctx_, tensor, *copy);
  inputs_.push_back(std::move(copy));
  return *inputs_.back();
}

Tensor &SameLayout::out(Tensor &tensor) {
  if (tensor.layout() == target_ || tensor.rank() != 4)
    return tensor;
  if (layoutFree(tensor)) {
    relabelled_.push_back(std::make_unique<Tensor>(tensor.withLayout(target_)));
    return *relabelled_.back();
  }
  auto temp = std::make_unique<Tensor>(
      Tensor::owning(tensor.shape()).withLayout(target_));
  outputs_.emplace_back(&tensor, std::move(temp));
  return *outputs_.back().second;
}

void SameLayout::commit() {
  for (auto &[tensor, temp] : outputs_)
    reorderInto(ctx_, *temp, *tensor);
  ctx_.stream.wait();
}

} // namespace kdrt::onednn

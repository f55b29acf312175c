//===- DnnContext.cpp - Layout conversions at op boundaries ---------------===//

#include "DnnContext.h"

namespace kdrt::onednn {

dnnl::reorder cachedReorder(DnnContext &ctx, const memory::desc &from,
                            const memory::desc &to) {
  CacheKey key("reorder");
  key.addBytes(&from.data, sizeof(from.data))
      .addBytes(&to.data, sizeof(to.data));
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
  memory user = wrap(ctx, plain, weight.data());
  if (plain == wanted || weight.version() == 0)
    return inLayout(ctx, user, wanted);
  std::string key;
  const float *address = weight.data();
  key.append(reinterpret_cast<const char *>(&address), sizeof(address));
  key.append(reinterpret_cast<const char *>(&wanted.data),
             sizeof(wanted.data));
  ReorderedWeight &cached = ctx.weights[key];
  if (!cached.memory)
    cached.memory = memory(wanted, ctx.engine);
  if (cached.version != weight.version()) {
    cachedReorder(ctx, plain, wanted).execute(ctx.stream, user, cached.memory);
    cached.version = weight.version();
  }
  return cached.memory;
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

const Tensor &SameLayout::in(const Tensor &tensor) {
  if (tensor.layout() == target_ || tensor.rank() != 4)
    return tensor;
  auto copy = std::make_unique<Tensor>(
      Tensor::owning(tensor.shape()).withLayout(target_));
  reorderInto(ctx_, tensor, *copy);
  inputs_.push_back(std::move(copy));
  return *inputs_.back();
}

Tensor &SameLayout::out(Tensor &tensor) {
  if (tensor.layout() == target_ || tensor.rank() != 4)
    return tensor;
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

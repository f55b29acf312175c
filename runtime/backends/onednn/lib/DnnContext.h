//===- DnnContext.h - Engine, stream, cache and memory helpers --*- C++ -*-===//
//
// What every oneDNN op implementation shares: the CPU engine, the one stream,
// the primitive cache, and the conversions between runtime Tensors (fp32,
// row-major or, for rank-4 activations, channels-last) and oneDNN memories.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_ONEDNN_DNNCONTEXT_H
#define KDRT_ONEDNN_DNNCONTEXT_H

#include "PrimitiveCache.h"

#include "kdrt/Status.h"
#include "kdrt/Tensor.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace kdrt::onednn {

using dnnl::memory;
using Dims = memory::dims;
/// A primitive's execution arguments in a flat list: what
/// primitive::execute takes as an unordered_map, without the node
/// allocations per call (run() passes them to oneDNN's C API).
class Args {
public:
  Args() = default;
  Args(std::initializer_list<std::pair<int, memory>> items) {
    for (const auto &[key, value] : items)
      (*this)[key] = value;
  }
  /// The memory under `key`, added (empty) when missing.
  memory &operator[](int key) {
    for (auto &item : items_)
      if (item.first == key)
        return item.second;
    items_.emplace_back(key, memory());
    return items_.back().second;
  }
  const std::vector<std::pair<int, memory>> &items() const { return items_; }

private:
  std::vector<std::pair<int, memory>> items_;
};

/// Executes `primitive` on the context's stream with `args`.
void run(const dnnl::primitive &primitive, dnnl::stream &stream,
         const Args &args);

/// A weight reordered into a primitive's layout, valid while the weight
/// keeps the version it was made from (Tensor::version).
struct ReorderedWeight {
  uint64_t version = 0;
  dnnl::memory memory;
};

/// A convolution weight with a per-output-channel scale folded in, and the
/// bias that goes with it (Convolution.cpp): valid while the weight keeps
/// its version and the scale, shift and bias their values.
struct FoldedWeight {
  uint64_t version = 0;
  /// The values the fold was made from (`bias` empty for a convolution
  /// without one).
  std::vector<float> scale, shift, bias;
  /// weight[o] * scale[o], in the primitive's layout.
  dnnl::memory weights;
  /// bias[o] * scale[o] + shift[o].
  std::vector<float> foldedBias;
};

struct DnnContext {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  PrimitiveCache cache;
  /// By weight address and wanted layout.
  KeyedStore<ReorderedWeight> weights;
  /// By weight address and wanted layout.
  KeyedStore<FoldedWeight> foldedWeights;
  /// The memories wrap() made, by data address and descriptor: a oneDNN
  /// memory over a caller's pointer is a descriptor and that pointer, so
  /// one made earlier for the same pair is the same memory, and making one
  /// allocates. Cleared when it grows past kMaxMemories (training makes
  /// temporaries at new addresses).
  KeyedStore<memory> memories;
  static constexpr size_t kMaxMemories = 4096;
};

inline Dims dimsOf(const Shape &shape) { return Dims(shape.dims()); }

/// Row-major fp32 descriptor of `dims`.
inline memory::desc plainDesc(const Dims &dims) {
  Dims strides(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;)
    strides[d - 1] = strides[d] * dims[d];
  return memory::desc(dims, memory::data_type::f32, strides);
}

/// fp32 descriptor of `dims` stored in `layout` (channels-last: rank 4,
/// N, H, W, C in memory).
inline memory::desc layoutDesc(const Dims &dims, Layout layout) {
  if (layout == Layout::ChannelsLast && dims.size() == 4)
    return memory::desc(dims, memory::data_type::f32,
                        memory::format_tag::nhwc);
  return plainDesc(dims);
}

/// The descriptor of a tensor's data as it lies in memory.
inline memory::desc descOf(const Tensor &tensor) {
  return layoutDesc(dimsOf(tensor.shape()), tensor.layout());
}

/// A descriptor that lets the primitive choose the layout.
inline memory::desc anyDesc(const Dims &dims) {
  return memory::desc(dims, memory::data_type::f32, memory::format_tag::any);
}

/// A oneDNN memory over a tensor's data. oneDNN takes non-const pointers;
/// inputs are only read.
memory wrap(DnnContext &ctx, const memory::desc &desc, const float *data);
inline memory wrap(DnnContext &ctx, const Tensor &tensor) {
  return wrap(ctx, descOf(tensor), tensor.data());
}

/// A cached reorder between two layouts.
dnnl::reorder cachedReorder(DnnContext &ctx, const memory::desc &from,
                            const memory::desc &to);

/// `user` in the layout `wanted`: `user` itself when the layouts agree,
/// otherwise a new memory filled by a reorder.
memory inLayout(DnnContext &ctx, const memory &user,
                const memory::desc &wanted);

/// `weight` (laid out as `plain`) in the layout `wanted`. A versioned weight
/// (a parameter the executor tracks) is reordered once per version into a
/// buffer kept for it, so a frozen teacher or an evaluation reorders each
/// weight once and a trained weight reuses its buffer every step; an
/// unversioned one is reordered into a new memory as inLayout does.
memory weightsInLayout(DnnContext &ctx, const Tensor &weight,
                       const memory::desc &plain, const memory::desc &wanted);

/// An output the primitive writes in its own layout and that must end up in
/// the plain `user` memory: commit() reorders when the layouts differ.
class OutputMemory {
public:
  OutputMemory(DnnContext &ctx, const memory &user,
               const memory::desc &wanted);
  const memory &primitiveMemory() const { return primitive_; }
  /// Copies `source` (plain) into the primitive's output first, for a sum
  /// post-op that accumulates onto the destination.
  void prefill(DnnContext &ctx, const memory &source);
  void commit(DnnContext &ctx);

private:
  memory user_, primitive_;
};

/// Puts the tensors of one call into one layout, for kernels that read
/// their data and gradients alike (batch norm, pooling, elementwise): an
/// operand already in `target` is used in place; any other is reordered
/// into a temporary (inputs on in(), outputs on commit()). The executor
/// places most neighbours alike, so this runs only where a row-major
/// consumer meets a channels-last producer.
class SameLayout {
public:
  SameLayout(DnnContext &ctx, Layout target) : ctx_(ctx), target_(target) {}
  const Tensor &in(const Tensor &tensor);
  const Tensor *in(const Tensor *tensor) { return tensor ? &in(*tensor) : nullptr; }
  Tensor &out(Tensor &tensor);
  Tensor *out(Tensor *tensor) { return tensor ? &out(*tensor) : nullptr; }
  /// Writes every temporary output into its tensor.
  void commit();

private:
  DnnContext &ctx_;
  Layout target_;
  std::vector<std::unique_ptr<Tensor>> inputs_;
  std::vector<std::pair<Tensor *, std::unique_ptr<Tensor>>> outputs_;
  /// Outputs whose layouts coincide ([N, C, 1, 1]): views of the tensor
  /// itself, nothing to write back.
  std::vector<std::unique_ptr<Tensor>> relabelled_;
};

/// Copies `from` into `to` (same shape), converting the layout.
void reorderInto(DnnContext &ctx, const Tensor &from, const Tensor &to);

/// Runs `body` and turns oneDNN exceptions into Status: a primitive oneDNN
/// cannot create for these attributes is an unimplemented case, anything
/// else internal.
template <typename Body> Status guarded(const char *op, Body body) {
  try {
    return body();
  } catch (const dnnl::error &error) {
    std::string message = std::string("onednn ") + op + ": " + error.what();
    if (error.status == dnnl_unimplemented)
      return Status::unimplemented(message);
    return Status::internal(message);
  } catch (const std::bad_alloc &) {
    return Status::outOfMemory(std::string("onednn ") + op +
                               ": out of memory");
  }
}

} // namespace kdrt::onednn

#endif // KDRT_ONEDNN_DNNCONTEXT_H

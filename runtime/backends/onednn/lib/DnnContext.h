//===- DnnContext.h - Engine, stream, cache and memory helpers --*- C++ -*-===//
//
// What every oneDNN op implementation shares: the CPU engine, the one stream,
// the primitive cache, and the conversions between runtime Tensors (plain
// row-major fp32) and oneDNN memories.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_ONEDNN_DNNCONTEXT_H
#define KDRT_ONEDNN_DNNCONTEXT_H

#include "PrimitiveCache.h"

#include "kdrt/Status.h"
#include "kdrt/Tensor.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <unordered_map>

namespace kdrt::onednn {

using dnnl::memory;
using Dims = memory::dims;
using Args = std::unordered_map<int, memory>;

struct DnnContext {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  PrimitiveCache cache;
};

inline Dims dimsOf(const Shape &shape) { return Dims(shape.dims()); }

/// Row-major fp32 descriptor of `dims` (the runtime's only layout).
inline memory::desc plainDesc(const Dims &dims) {
  Dims strides(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;)
    strides[d - 1] = strides[d] * dims[d];
  return memory::desc(dims, memory::data_type::f32, strides);
}

/// A descriptor that lets the primitive choose the layout.
inline memory::desc anyDesc(const Dims &dims) {
  return memory::desc(dims, memory::data_type::f32, memory::format_tag::any);
}

/// A oneDNN memory over a tensor's data. oneDNN takes non-const pointers;
/// inputs are only read.
inline memory wrap(DnnContext &ctx, const memory::desc &desc,
                   const float *data) {
  return memory(desc, ctx.engine, const_cast<float *>(data));
}
inline memory wrap(DnnContext &ctx, const Tensor &tensor) {
  return wrap(ctx, plainDesc(dimsOf(tensor.shape())), tensor.data());
}

/// A cached reorder between two layouts.
dnnl::reorder cachedReorder(DnnContext &ctx, const memory::desc &from,
                            const memory::desc &to);

/// `user` in the layout `wanted`: `user` itself when the layouts agree,
/// otherwise a new memory filled by a reorder.
memory inLayout(DnnContext &ctx, const memory &user,
                const memory::desc &wanted);

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

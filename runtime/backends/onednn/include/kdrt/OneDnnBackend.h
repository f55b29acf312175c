//===- OneDnnBackend.h - The oneDNN CPU backend -----------------*- C++ -*-===//
//
// A Backend on the oneDNN CPU engine with one stream. Memory is 64-byte
// aligned host memory, so tensors stay plain row-major (NCHW) at every op
// boundary; inside an op, convolutions let oneDNN pick blocked layouts
// (format_tag::any) and reorder at the boundary.
//
// Primitives and their descriptors are created once per (op, shapes,
// attributes) key and reused; cacheStats() counts hits and misses.
//
// How each entry runs
// -------------------
//   entry                  | implementation
//   -----------------------+-------------------------------------------------
//   conv2d (+fused)        | convolution fwd / bwd data / bwd weights (+bias);
//                          | fwd with ConvPrecision::Bf16 on a CPU with native
//                          | bf16: bf16 input and weight, fp32 accumulation,
//                          | bias and output;
//                          | post-ops as attributes: eltwise, sum, binary
//                          | mul/add per channel (scale-shift; a leading one
//                          | on a tracked weight is folded into the weight
//                          | and bias instead, once per version); a chain with
//                          | more than one sum runs conv+bias as a primitive
//                          | and the chain as an OpenMP loop
//   linear (+fused)        | matmul (bias, same post-ops); backward: matmuls,
//                          | bias gradient by a reduction primitive
//   matMul (batched)       | matmul with strided (transposed) operands
//   batchNorm              | batch_normalization (training: batch statistics,
//                          | running stats updated here as the reference does;
//                          | inference: global stats), fwd and bwd
//   layerNorm              | layer_normalization over the flattened trailing
//                          | dims, fwd and bwd
//   activation             | eltwise relu / gelu_erf / logistic / tanh
//   softmax, log-softmax   | softmax / logsoftmax; temperature by an eltwise
//                          | linear scaling of the input and of the gradient
//   pool2d max / avg       | pooling (max, avg include/exclude padding); the
//                          | max backward replays the forward for its
//                          | workspace, as backward entries are stateless
//   resize bilinear        | resampling linear (half-pixel, align_corners =
//                          | false; checked against the reference)
//   resize nearest / area  | OpenMP over planes, reference kernel per plane:
//                          | oneDNN's nearest rounds half-pixel centres, the
//                          | runtime's nearest is floor(dst * in / out)
//   binary add / mul       | binary with broadcast; backward: binary and a
//                          | reduction primitive for the broadcast operand
//   concat                 | concat fwd; bwd: OpenMP slice copies
//   reshape, dropout,      | OpenMP loops (same dropout mask function as the
//   tokens                 | reference)
//   group norm             | OpenMP over (sample, group) rows, vectorised
//                          | per-channel loops, fwd and bwd (oneDNN 2.6 has
//                          | no group norm)
//   adaptive pool (uneven),| OpenMP over samples / planes, reference kernel
//   l2-normalize           | per slice (oneDNN 2.6 has no uneven adaptive
//                          | windows)
//   attention pool, cls,   | reference kernels (small, not on the hot path)
//   position embedding,    |
//   select token           |
//   multi-head attention   | projections on matmul; per-head products as
//                          | batched matmuls over strided views of the
//                          | [B, N, D] activations; softmax fwd / bwd
//   losses, RKD, DKD       | reference kernels (one pass over [B, K] logits)
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_ONEDNNBACKEND_H
#define KDRT_ONEDNNBACKEND_H

#include "kdrt/Backend.h"
#include "kdrt/reference/HostReferenceBackend.h"

#include <cstdint>
#include <memory>

namespace kdrt {

struct PrimitiveCacheStats {
  /// Lookups that found a primitive created earlier.
  int64_t hits = 0;
  /// Lookups that had to create a primitive (and its descriptor).
  int64_t misses = 0;
};

/// Entries oneDNN does not accelerate are the reference backend's own (the
/// table above says which); this class overrides only the others.
class OneDnnBackend : public HostReferenceBackend {
public:
  const char *name() const override { return "onednn"; }
  /// Primitive-cache counters since creation (or the last reset).
  virtual PrimitiveCacheStats cacheStats() const = 0;
  virtual void resetCacheStats() = 0;
  /// OpenMP threads the backend runs with.
  virtual int threads() const = 0;
  /// Whether a forward convolution with ConvPrecision::Bf16 runs in bf16:
  /// oneDNN's effective ISA has native bf16 (avx512_core_bf16 or above).
  /// Otherwise it runs in fp32, as emulated bf16 would be slower.
  virtual bool nativeBf16Convolutions() const = 0;
};

/// A oneDNN CPU backend. `threads` <= 0 uses one thread per core.
std::unique_ptr<OneDnnBackend> createOneDnnBackend(int threads = 0);

} // namespace kdrt

#endif // KDRT_ONEDNNBACKEND_H

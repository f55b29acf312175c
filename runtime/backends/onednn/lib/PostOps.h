//===- PostOps.h - Post-op chains as oneDNN attributes ----------*- C++ -*-===//

#ifndef KDRT_ONEDNN_POSTOPS_H
#define KDRT_ONEDNN_POSTOPS_H

#include "DnnContext.h"

#include "kdrt/Backend.h"

namespace kdrt::onednn {

dnnl::algorithm eltwiseAlgorithm(ActivationKind kind);

/// A post-op chain translated to primitive attributes plus the extra
/// execution arguments its binary post-ops read.
struct FusedPostOps {
  /// False when the chain cannot be expressed as attributes (a second sum
  /// with a scale other than 1); the caller then applies it as a loop.
  bool expressible = true;
  dnnl::primitive_attr attr;
  Args args;
  /// The residual the sum post-op accumulates onto (copied into the
  /// destination before execution), or null.
  const Tensor *sumResidual = nullptr;
};

/// `channelDims` is the per-channel operand's broadcast shape ({1, O, 1, 1}
/// for conv, {1, O} for linear); `outputDims` the destination's. Without
/// `withAttributes` only `args`, `sumResidual` and `expressible` are filled:
/// the attributes are needed only to create a primitive, the arguments on
/// every call.
FusedPostOps fusePostOps(DnnContext &ctx, const PostOpChain &chain,
                         const PostOpTensors &tensors, const Dims &channelDims,
                         const Dims &outputDims, bool withAttributes = true);

/// Validates the chain's tensors as the reference does.
Status checkPostOpTensors(const char *op, const PostOpChain &chain,
                          const PostOpTensors &tensors, const Shape &output,
                          int64_t channels);

/// Applies the chain on the host (the path for inexpressible chains).
void applyPostOpsOnHost(const PostOpChain &chain, const PostOpTensors &tensors,
                        Tensor &output, int64_t channels, int64_t inner);

/// gradPre = gradOutput * slope(output) for a chain that
/// reference::checkFusedBackwardChain accepts (OpenMP loop).
void postOpGradient(const PostOpChain &chain, const Tensor &output,
                    const Tensor &gradOutput, Tensor &gradPre);

/// Adds the chain's attributes to a primitive's cache key.
void addToKey(CacheKey &key, const PostOpChain &chain);

} // namespace kdrt::onednn

#endif // KDRT_ONEDNN_POSTOPS_H

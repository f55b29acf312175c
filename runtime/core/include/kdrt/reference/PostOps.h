//===- PostOps.h - Reference post-op chains of conv and linear --*- C++ -*-===//
//
// The oracle of fused conv / linear: the post-ops run one after another over
// the finished output, exactly as the unfused ops would. Backends that fuse
// the chain into their kernels are compared against this.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_POSTOPS_H
#define KDRT_REFERENCE_POSTOPS_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/Activation.h"
#include "kdrt/reference/TensorRef.h"

#include <vector>

namespace kdrt::reference {

/// The tensors a chain reads (see kdrt::PostOpTensors), as typed views.
template <typename T> struct PostOpRefs {
  std::vector<TensorRef<const T>> residuals, scales, shifts;
};

/// Checks that `tensors` hold exactly what `chain` reads, with the right
/// shapes for an output of shape `output` whose channel count is `channels`.
template <typename T>
Status checkPostOps(const char *op, const PostOpChain &chain,
                    const PostOpRefs<T> &tensors, const Shape &output,
                    int64_t channels) {
  if (chain.count < 0 || chain.count > PostOpChain::kCapacity)
    return shapeError(op, "post-op chain has an invalid length");
  size_t sums = 0, scaleShifts = 0;
  for (int k = 0; k < chain.count; ++k) {
    if (chain.ops[k].kind == PostOpKind::Sum)
      ++sums;
    else if (chain.ops[k].kind == PostOpKind::ScaleShift)
      ++scaleShifts;
  }
  if (tensors.residuals.size() != sums)
    return shapeError(op, "post-ops need " + std::to_string(sums) +
                              " residual tensor(s), got " +
                              std::to_string(tensors.residuals.size()));
  if (tensors.scales.size() != scaleShifts ||
      tensors.shifts.size() != scaleShifts)
    return shapeError(op, "post-ops need " + std::to_string(scaleShifts) +
                              " scale and shift tensor(s)");
  for (const auto &residual : tensors.residuals) {
    KDRT_RETURN_IF_ERROR(checkPresent(op, "post-op residual", residual));
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "post-op residual", residual.shape, output));
  }
  for (size_t k = 0; k < scaleShifts; ++k) {
    KDRT_RETURN_IF_ERROR(checkPresent(op, "post-op scale", tensors.scales[k]));
    KDRT_RETURN_IF_ERROR(checkPresent(op, "post-op shift", tensors.shifts[k]));
    KDRT_RETURN_IF_ERROR(checkShape(op, "post-op scale",
                                    tensors.scales[k].shape, Shape{channels}));
    KDRT_RETURN_IF_ERROR(checkShape(op, "post-op shift",
                                    tensors.shifts[k].shape, Shape{channels}));
  }
  return Status::success();
}

/// Applies `chain` in place to `output`; element i belongs to channel
/// (i / inner) % channels (inner = H*W for conv, 1 for linear). Call
/// checkPostOps first.
template <typename T>
void applyPostOps(const PostOpChain &chain, const PostOpRefs<T> &tensors,
                  TensorRef<T> output, int64_t channels, int64_t inner) {
  size_t nextResidual = 0, nextScaleShift = 0;
  for (int k = 0; k < chain.count; ++k) {
    const PostOp &postOp = chain.ops[k];
    switch (postOp.kind) {
    case PostOpKind::Activation:
      for (int64_t i = 0; i < output.numElements(); ++i)
        output[i] = detail::activate(postOp.activation, output[i]);
      break;
    case PostOpKind::Sum: {
      const TensorRef<const T> &residual = tensors.residuals[nextResidual++];
      for (int64_t i = 0; i < output.numElements(); ++i)
        output[i] += T(postOp.sumScale) * residual[i];
      break;
    }
    case PostOpKind::ScaleShift: {
      const TensorRef<const T> &scale = tensors.scales[nextScaleShift];
      const TensorRef<const T> &shift = tensors.shifts[nextScaleShift++];
      for (int64_t i = 0; i < output.numElements(); ++i) {
        int64_t c = (i / inner) % channels;
        output[i] = output[i] * scale[c] + shift[c];
      }
      break;
    }
    }
  }
}

/// The fused backward supports a chain of one activation whose slope its
/// output determines; see Backend::conv2dFusedBackward.
inline Status checkFusedBackwardChain(const char *op,
                                      const PostOpChain &chain) {
  if (chain.count == 0)
    return Status::success();
  const PostOp &postOp = chain.ops[0];
  if (chain.count == 1 && postOp.kind == PostOpKind::Activation &&
      postOp.activation != ActivationKind::Gelu)
    return Status::success();
  return shapeError(op, "fused backward supports only a single relu, sigmoid "
                        "or tanh post-op; train with the ops unfused");
}

/// Slope of an activation expressed through its output y = act(x).
template <typename T> T slopeFromOutput(ActivationKind kind, T y) {
  switch (kind) {
  case ActivationKind::Relu:
    return y > T(0) ? T(1) : T(0);
  case ActivationKind::Sigmoid:
    return y * (T(1) - y);
  case ActivationKind::Tanh:
    return T(1) - y * y;
  case ActivationKind::Gelu:
    break;
  }
  return T(1);
}

/// gradPre = gradOutput * slope(output) for a chain accepted by
/// checkFusedBackwardChain (a copy of gradOutput for an empty chain).
template <typename T>
void postOpGradient(const PostOpChain &chain, TensorRef<const T> output,
                    TensorRef<const T> gradOutput, std::vector<T> &gradPre) {
  gradPre.assign(gradOutput.data, gradOutput.data + gradOutput.numElements());
  if (chain.count == 0)
    return;
  for (size_t i = 0; i < gradPre.size(); ++i)
    gradPre[i] *= slopeFromOutput(chain.ops[0].activation, output[int64_t(i)]);
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_POSTOPS_H

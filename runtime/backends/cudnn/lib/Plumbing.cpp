//===- Plumbing.cpp - binary, concat, reshape and dropout -----------------===//
//
// Broadcast binaries index rhs through per-dimension strides (0 on
// broadcast dimensions) computed here once per call; concat moves strided
// slices; reshape is a device copy; dropout draws the reference's mask
// (DropoutMask.h) element by element.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/Plumbing.h"

namespace kdrt::cudnn {

using reference::checkShape;
using reference::shapeError;

namespace {

/// numpy broadcasting of rhs to lhs, as reference::detail::broadcastIndices
/// checks it, as strides instead of an index table.
Status broadcastMap(const char *op, const Shape &lhs, const Shape &rhs,
                    BroadcastMap &map) {
  if (rhs.rank() > lhs.rank())
    return shapeError(op, "cannot broadcast " + rhs.toString() + " to " +
                              lhs.toString());
  if (lhs.rank() > size_t(BroadcastMap::kMaxRank))
    return shapeError(op, "rank " + std::to_string(lhs.rank()) +
                              " exceeds the GPU backend's limit of " +
                              std::to_string(BroadcastMap::kMaxRank));
  size_t offset = lhs.rank() - rhs.rank();
  map = BroadcastMap();
  map.rank = int(lhs.rank());
  for (size_t d = 0; d < lhs.rank(); ++d)
    map.dims[d] = lhs[d];
  int64_t stride = 1;
  for (size_t d = rhs.rank(); d-- > 0;) {
    if (rhs[d] != lhs[d + offset] && rhs[d] != 1)
      return shapeError(op, "cannot broadcast " + rhs.toString() + " to " +
                                lhs.toString());
    map.rhsStrides[d + offset] = rhs[d] == 1 ? 0 : stride;
    stride *= rhs[d];
  }
  return Status::success();
}

} // namespace

Status CudnnBackendImpl::binaryForward(const BinaryDesc &desc,
                                       const Tensor &lhs, const Tensor &rhs,
                                       Tensor &output) {
  BroadcastMap map;
  KDRT_RETURN_IF_ERROR(broadcastMap("binary", lhs.shape(), rhs.shape(), map));
  KDRT_RETURN_IF_ERROR(
      checkShape("binary", "output", output.shape(), lhs.shape()));
  KDRT_LAUNCH(launchBinaryForward(stream(), desc.kind == BinaryKind::Add,
                                  lhs.data(), rhs.data(), output.data(),
                                  lhs.numElements(), map));
  return Status::success();
}

Status CudnnBackendImpl::binaryBackward(const BinaryDesc &desc,
                                        const Tensor &lhs, const Tensor &rhs,
                                        const Tensor &gradOutput,
                                        Tensor *gradLhs, Tensor *gradRhs) {
  const char *op = "binary";
  BroadcastMap map;
  KDRT_RETURN_IF_ERROR(broadcastMap(op, lhs.shape(), rhs.shape(), map));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradOutput", gradOutput.shape(), lhs.shape()));
  if (gradLhs)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradLhs", gradLhs->shape(), lhs.shape()));
  if (gradRhs)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradRhs", gradRhs->shape(), rhs.shape()));
  KDRT_LAUNCH(launchBinaryBackward(
      stream(), desc.kind == BinaryKind::Add, lhs.data(), rhs.data(),
      gradOutput.data(), dataOf(gradLhs), dataOf(gradRhs), lhs.numElements(),
      rhs.numElements(), map));
  return Status::success();
}

Status CudnnBackendImpl::concatForward(const ConcatDesc &desc,
                                       const std::vector<const Tensor *> &inputs,
                                       Tensor &output) {
  std::vector<Shape> shapes;
  for (const Tensor *input : inputs) {
    if (!input)
      return shapeError("concat", "every input must be given");
    shapes.push_back(input->shape());
  }
  KDRT_RETURN_IF_ERROR(
      reference::detail::concatCheck(desc, shapes, output.shape()));
  int64_t outer = reference::productOf(output.shape(), 0, desc.axis);
  int64_t inner = reference::productOf(output.shape(), desc.axis + 1,
                                       output.rank());
  int64_t outRow = output.dim(desc.axis) * inner, offset = 0;
  for (const Tensor *input : inputs) {
    int64_t row = input->dim(desc.axis) * inner;
    KDRT_LAUNCH(launchStridedCopy(stream(), input->data(), row, 0,
                                  output.data(), outRow, offset, outer, row));
    offset += row;
  }
  return Status::success();
}

Status CudnnBackendImpl::concatBackward(const ConcatDesc &desc,
                                        const Tensor &gradOutput,
                                        const std::vector<Tensor *> &gradInputs) {
  std::vector<Shape> shapes;
  for (const Tensor *grad : gradInputs) {
    if (!grad)
      return shapeError("concat", "every input gradient must be given: it "
                                  "carries the input's shape");
    shapes.push_back(grad->shape());
  }
  KDRT_RETURN_IF_ERROR(
      reference::detail::concatCheck(desc, shapes, gradOutput.shape()));
  int64_t outer = reference::productOf(gradOutput.shape(), 0, desc.axis);
  int64_t inner = reference::productOf(gradOutput.shape(), desc.axis + 1,
                                       gradOutput.rank());
  int64_t outRow = gradOutput.dim(desc.axis) * inner, offset = 0;
  for (Tensor *grad : gradInputs) {
    int64_t row = grad->dim(desc.axis) * inner;
    KDRT_LAUNCH(launchStridedCopy(stream(), gradOutput.data(), outRow, offset,
                                  grad->data(), row, 0, outer, row));
    offset += row;
  }
  return Status::success();
}

static Status deviceCopy(cudaStream_t stream, const Tensor &from,
                         Tensor &to) {
  if (from.numElements() != to.numElements())
    return shapeError("reshape", "cannot reshape " + from.shape().toString() +
                                     " to " + to.shape().toString());
  if (from.numElements() == 0 || from.data() == to.data())
    return Status::success();
  KDRT_CUDA(cudaMemcpyAsync(to.data(), from.data(), from.sizeInBytes(),
                            cudaMemcpyDeviceToDevice, stream));
  return Status::success();
}

Status CudnnBackendImpl::reshapeForward(const ReshapeDesc &,
                                        const Tensor &input, Tensor &output) {
  return deviceCopy(stream(), input, output);
}

Status CudnnBackendImpl::reshapeBackward(const ReshapeDesc &,
                                         const Tensor &gradOutput,
                                         Tensor &gradInput) {
  return deviceCopy(stream(), gradOutput, gradInput);
}

Status CudnnBackendImpl::dropoutForward(const DropoutDesc &desc,
                                        const Tensor &input, Tensor &output,
                                        Tensor &mask) {
  if (!(desc.p >= 0 && desc.p <= 1))
    return shapeError("dropout", "p must lie in [0, 1]");
  KDRT_RETURN_IF_ERROR(
      checkShape("dropout", "output", output.shape(), input.shape()));
  KDRT_RETURN_IF_ERROR(
      checkShape("dropout", "mask", mask.shape(), input.shape()));
  float keepScale = desc.p < 1 ? float(1.0 / (1.0 - desc.p)) : 0.0f;
  KDRT_LAUNCH(launchDropoutForward(stream(), input.data(), output.data(),
                                   mask.data(), input.numElements(), desc.seed,
                                   desc.p, keepScale));
  return Status::success();
}

Status CudnnBackendImpl::dropoutBackward(const DropoutDesc &,
                                         const Tensor &mask,
                                         const Tensor &gradOutput,
                                         Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(
      checkShape("dropout", "gradOutput", gradOutput.shape(), mask.shape()));
  KDRT_RETURN_IF_ERROR(
      checkShape("dropout", "gradInput", gradInput.shape(), mask.shape()));
  KDRT_LAUNCH(launchMultiply(stream(), gradOutput.data(), mask.data(),
                             gradInput.data(), mask.numElements()));
  return Status::success();
}

} // namespace kdrt::cudnn

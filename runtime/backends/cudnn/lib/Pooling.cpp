//===- Pooling.cpp - pooling and resizing ---------------------------------===//
//
// 2-D max / avg pooling through cudnnPoolingForward / Backward (the backward
// replays the forward for cuDNN's y argument, as backward entries are
// stateless). Adaptive pooling (uneven bins) and resizing are kernels.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/Pooling.h"
#include "kdrt/reference/Resize.h"

namespace kdrt::cudnn {

using reference::checkShape;

namespace {

/// Pooling descriptor plus input and output tensor descriptors.
class PoolSetup {
public:
  PoolSetup() = default;
  PoolSetup(const PoolSetup &) = delete;
  PoolSetup &operator=(const PoolSetup &) = delete;
  ~PoolSetup() {
    if (pooling)
      cudnnDestroyPoolingDescriptor(pooling);
  }

  Status init(const Pool2dDesc &desc, const Shape &in, const Shape &out) {
    KDRT_RETURN_IF_ERROR(checkIntRange(
        "pool2d", {desc.kernelH, desc.kernelW, desc.padH, desc.padW,
                   desc.strideH, desc.strideW}));
    KDRT_RETURN_IF_ERROR(x.init(in[0], in[1], in[2], in[3]));
    KDRT_RETURN_IF_ERROR(y.init(out[0], out[1], out[2], out[3]));
    cudnnPoolingMode_t mode =
        desc.mode == PoolMode::Max ? CUDNN_POOLING_MAX_DETERMINISTIC
        : desc.countIncludePad     ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                               : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    KDRT_CUDNN(cudnnCreatePoolingDescriptor(&pooling));
    KDRT_CUDNN(cudnnSetPooling2dDescriptor(
        pooling, mode, CUDNN_NOT_PROPAGATE_NAN, int(desc.kernelH),
        int(desc.kernelW), int(desc.padH), int(desc.padW), int(desc.strideH),
        int(desc.strideW)));
    return Status::success();
  }

  TensorDescriptor x, y;
  cudnnPoolingDescriptor_t pooling = nullptr;
};

int resizeCode(ResizeMode mode) {
  switch (mode) {
  case ResizeMode::Bilinear:
    return kResizeBilinear;
  case ResizeMode::Nearest:
    return kResizeNearest;
  case ResizeMode::Area:
    return kResizeArea;
  }
  return kResizeBilinear;
}

} // namespace

Status CudnnBackendImpl::pool2dForward(const Pool2dDesc &desc,
                                       const Tensor &input, Tensor &output) {
  Shape outShape;
  KDRT_RETURN_IF_ERROR(
      reference::detail::pool2dOutputShape(desc, input.shape(), outShape));
  KDRT_RETURN_IF_ERROR(
      checkShape("pool2d", "output", output.shape(), outShape));
  if (output.numElements() == 0)
    return Status::success();
  PoolSetup setup;
  KDRT_RETURN_IF_ERROR(setup.init(desc, input.shape(), outShape));
  const float one = 1.0f, zero = 0.0f;
  KDRT_CUDNN(cudnnPoolingForward(cudnn(), setup.pooling, &one, setup.x.get(),
                                 input.data(), &zero, setup.y.get(),
                                 output.data()));
  return Status::success();
}

Status CudnnBackendImpl::pool2dBackward(const Pool2dDesc &desc,
                                        const Tensor &input,
                                        const Tensor &gradOutput,
                                        Tensor &gradInput) {
  Shape outShape;
  KDRT_RETURN_IF_ERROR(
      reference::detail::pool2dOutputShape(desc, input.shape(), outShape));
  KDRT_RETURN_IF_ERROR(
      checkShape("pool2d", "gradOutput", gradOutput.shape(), outShape));
  KDRT_RETURN_IF_ERROR(
      checkShape("pool2d", "gradInput", gradInput.shape(), input.shape()));
  if (gradOutput.numElements() == 0)
    return Status::success();
  PoolSetup setup;
  KDRT_RETURN_IF_ERROR(setup.init(desc, input.shape(), outShape));
  DeviceBuffer replay;
  KDRT_RETURN_IF_ERROR(scratch(outShape.numElements(), replay));
  const float one = 1.0f, zero = 0.0f;
  KDRT_CUDNN(cudnnPoolingForward(cudnn(), setup.pooling, &one, setup.x.get(),
                                 input.data(), &zero, setup.y.get(),
                                 replay.data()));
  KDRT_CUDNN(cudnnPoolingBackward(
      cudnn(), setup.pooling, &one, setup.y.get(), replay.data(),
      setup.y.get(), gradOutput.data(), setup.x.get(), input.data(), &zero,
      setup.x.get(), gradInput.data()));
  return Status::success();
}

Status CudnnBackendImpl::adaptivePoolForward(const AdaptivePoolDesc &desc,
                                             const Tensor &input,
                                             Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::detail::adaptivePoolCheck(
      desc, input.shape(), output.shape(), "output"));
  KDRT_LAUNCH(launchAdaptivePoolForward(
      stream(), desc.mode == PoolMode::Max, input.data(), output.data(),
      input.dim(0) * input.dim(1), input.dim(2), input.dim(3), desc.outputH,
      desc.outputW));
  return Status::success();
}

Status CudnnBackendImpl::adaptivePoolBackward(const AdaptivePoolDesc &desc,
                                              const Tensor &input,
                                              const Tensor &gradOutput,
                                              Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(reference::detail::adaptivePoolCheck(
      desc, input.shape(), gradOutput.shape(), "gradOutput"));
  KDRT_RETURN_IF_ERROR(checkShape("adaptive_pool", "gradInput",
                                  gradInput.shape(), input.shape()));
  KDRT_LAUNCH(launchAdaptivePoolBackward(
      stream(), desc.mode == PoolMode::Max, input.data(), gradOutput.data(),
      gradInput.data(), input.dim(0) * input.dim(1), input.dim(2),
      input.dim(3), desc.outputH, desc.outputW));
  return Status::success();
}

Status CudnnBackendImpl::resizeForward(const ResizeDesc &desc,
                                       const Tensor &input, Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::detail::resizeCheck(
      desc, input.shape(), output.shape(), "output"));
  KDRT_LAUNCH(launchResizeForward(stream(), resizeCode(desc.mode),
                                  input.data(), output.data(),
                                  input.dim(0) * input.dim(1), input.dim(2),
                                  input.dim(3), desc.outputH, desc.outputW));
  return Status::success();
}

Status CudnnBackendImpl::resizeBackward(const ResizeDesc &desc,
                                        const Tensor &gradOutput,
                                        Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(reference::detail::resizeCheck(
      desc, gradInput.shape(), gradOutput.shape(), "gradOutput"));
  KDRT_LAUNCH(launchResizeBackward(
      stream(), resizeCode(desc.mode), gradOutput.data(), gradInput.data(),
      gradInput.dim(0) * gradInput.dim(1), gradInput.dim(2), gradInput.dim(3),
      desc.outputH, desc.outputW));
  return Status::success();
}

} // namespace kdrt::cudnn

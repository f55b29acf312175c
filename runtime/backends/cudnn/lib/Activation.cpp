//===- Activation.cpp - activations and softmax ---------------------------===//
//
// Forward relu / sigmoid / tanh through cudnnActivationForward; gelu (exact
// erf form, which cuDNN's legacy API lacks) and every backward are kernels:
// the backward entry receives the input, whose slope a kernel computes
// directly. Softmax and log-softmax run through cuDNN over rows
// ([rows, length, 1, 1], instance mode); the temperature scales the input
// beforehand and the backward's result through cuDNN's alpha.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/Softmax.h"

namespace kdrt::cudnn {

using reference::checkShape;

Status CudnnBackendImpl::activationForward(const ActivationDesc &desc,
                                           const Tensor &input,
                                           Tensor &output) {
  KDRT_RETURN_IF_ERROR(
      checkShape("activation", "output", output.shape(), input.shape()));
  int64_t count = input.numElements();
  if (desc.kind == ActivationKind::Gelu || count == 0 ||
      !checkIntRange("activation", {count}).ok()) {
    KDRT_LAUNCH(launchActivationForward(stream(), activationCodeOf(desc.kind),
                                        input.data(), output.data(), count));
    return Status::success();
  }
  cudnnActivationMode_t mode = desc.kind == ActivationKind::Relu
                                   ? CUDNN_ACTIVATION_RELU
                               : desc.kind == ActivationKind::Sigmoid
                                   ? CUDNN_ACTIVATION_SIGMOID
                                   : CUDNN_ACTIVATION_TANH;
  cudnnActivationDescriptor_t activation = nullptr;
  KDRT_CUDNN(cudnnCreateActivationDescriptor(&activation));
  Status status = cudnnStatus(
      cudnnSetActivationDescriptor(activation, mode, CUDNN_NOT_PROPAGATE_NAN,
                                   0.0),
      "cudnnSetActivationDescriptor");
  TensorDescriptor tensor;
  if (status.ok())
    status = tensor.init(1, count, 1, 1);
  const float one = 1.0f, zero = 0.0f;
  if (status.ok())
    status = cudnnStatus(cudnnActivationForward(cudnn(), activation, &one,
                                                tensor.get(), input.data(),
                                                &zero, tensor.get(),
                                                output.data()),
                         "cudnnActivationForward");
  cudnnDestroyActivationDescriptor(activation);
  return status;
}

Status CudnnBackendImpl::activationBackward(const ActivationDesc &desc,
                                            const Tensor &input,
                                            const Tensor &gradOutput,
                                            Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(checkShape("activation", "gradOutput",
                                  gradOutput.shape(), input.shape()));
  KDRT_RETURN_IF_ERROR(checkShape("activation", "gradInput",
                                  gradInput.shape(), input.shape()));
  KDRT_LAUNCH(launchActivationBackward(
      stream(), activationCodeOf(desc.kind), input.data(), gradOutput.data(),
      gradInput.data(), input.numElements()));
  return Status::success();
}

Status CudnnBackendImpl::softmaxForward(const SoftmaxDesc &desc,
                                        const Tensor &input, Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::detail::softmaxCheck(
      desc, input.shape(), output.shape(), "output"));
  int64_t length = input.dim(input.rank() - 1);
  int64_t rows = input.numElements() / length;
  if (rows == 0)
    return Status::success();
  TensorDescriptor tensor;
  KDRT_RETURN_IF_ERROR(tensor.init(rows, length, 1, 1));
  const float *x = input.data();
  DeviceBuffer scaled;
  if (desc.temperature != 1.0) {
    KDRT_RETURN_IF_ERROR(scratch(input.numElements(), scaled));
    KDRT_LAUNCH(launchScale(stream(), input.data(), scaled.data(),
                            input.numElements(),
                            float(1.0 / desc.temperature)));
    x = scaled.data();
  }
  const float one = 1.0f, zero = 0.0f;
  KDRT_CUDNN(cudnnSoftmaxForward(
      cudnn(), desc.log ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE,
      CUDNN_SOFTMAX_MODE_INSTANCE, &one, tensor.get(), x, &zero, tensor.get(),
      output.data()));
  return Status::success();
}

Status CudnnBackendImpl::softmaxBackward(const SoftmaxDesc &desc,
                                         const Tensor &output,
                                         const Tensor &gradOutput,
                                         Tensor &gradInput) {
  KDRT_RETURN_IF_ERROR(reference::detail::softmaxCheck(
      desc, output.shape(), gradOutput.shape(), "gradOutput"));
  KDRT_RETURN_IF_ERROR(
      checkShape("softmax", "gradInput", gradInput.shape(), output.shape()));
  int64_t length = output.dim(output.rank() - 1);
  int64_t rows = output.numElements() / length;
  if (rows == 0)
    return Status::success();
  TensorDescriptor tensor;
  KDRT_RETURN_IF_ERROR(tensor.init(rows, length, 1, 1));
  // d(x / T) / dx = 1 / T, applied as cuDNN's output scale.
  const float invTemperature = float(1.0 / desc.temperature), zero = 0.0f;
  KDRT_CUDNN(cudnnSoftmaxBackward(
      cudnn(), desc.log ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE,
      CUDNN_SOFTMAX_MODE_INSTANCE, &invTemperature, tensor.get(),
      output.data(), tensor.get(), gradOutput.data(), &zero, tensor.get(),
      gradInput.data()));
  return Status::success();
}

} // namespace kdrt::cudnn

//===- Activation.h - Reference elementwise activations ---------*- C++ -*-===//

#ifndef KDRT_REFERENCE_ACTIVATION_H
#define KDRT_REFERENCE_ACTIVATION_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

#include <cmath>

namespace kdrt::reference {

namespace detail {
template <typename T> T activate(ActivationKind kind, T x) {
  switch (kind) {
  case ActivationKind::Relu:
    return x > T(0) ? x : T(0);
  case ActivationKind::Gelu:
    return T(0.5) * x * (T(1) + std::erf(x / std::sqrt(T(2))));
  case ActivationKind::Sigmoid:
    return T(1) / (T(1) + std::exp(-x));
  case ActivationKind::Tanh:
    return std::tanh(x);
  }
  return x;
}

template <typename T> T activationSlope(ActivationKind kind, T x) {
  switch (kind) {
  case ActivationKind::Relu:
    return x > T(0) ? T(1) : T(0);
  case ActivationKind::Gelu: {
    const T invSqrt2Pi = T(0.3989422804014327);
    return T(0.5) * (T(1) + std::erf(x / std::sqrt(T(2)))) +
           x * invSqrt2Pi * std::exp(-x * x / T(2));
  }
  case ActivationKind::Sigmoid: {
    T s = activate(ActivationKind::Sigmoid, x);
    return s * (T(1) - s);
  }
  case ActivationKind::Tanh: {
    T t = std::tanh(x);
    return T(1) - t * t;
  }
  }
  return T(1);
}
} // namespace detail

template <typename T>
Status activationForward(const ActivationDesc &desc, TensorRef<const T> input,
                         TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(
      checkShape("activation", "output", output.shape, input.shape));
  for (int64_t i = 0; i < input.numElements(); ++i)
    output[i] = detail::activate(desc.kind, input[i]);
  return Status::success();
}

template <typename T>
Status activationBackward(const ActivationDesc &desc, TensorRef<const T> input,
                          TensorRef<const T> gradOutput,
                          TensorRef<T> gradInput) {
  KDRT_RETURN_IF_ERROR(
      checkShape("activation", "gradOutput", gradOutput.shape, input.shape));
  KDRT_RETURN_IF_ERROR(
      checkShape("activation", "gradInput", gradInput.shape, input.shape));
  for (int64_t i = 0; i < input.numElements(); ++i)
    gradInput[i] = gradOutput[i] * detail::activationSlope(desc.kind, input[i]);
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_ACTIVATION_H

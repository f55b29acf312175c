//===- Softmax.h - Reference softmax / log-softmax --------------*- C++ -*-===//

#ifndef KDRT_REFERENCE_SOFTMAX_H
#define KDRT_REFERENCE_SOFTMAX_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

#include <cmath>

namespace kdrt::reference {

namespace detail {
/// log softmax(x / temperature) of one row, max-shifted for stability.
template <typename T>
void logSoftmaxRow(const T *x, T *out, int64_t length, T temperature) {
  T maxValue = x[0] / temperature;
  for (int64_t k = 1; k < length; ++k)
    maxValue = std::max(maxValue, x[k] / temperature);
  T sum = 0;
  for (int64_t k = 0; k < length; ++k)
    sum += std::exp(x[k] / temperature - maxValue);
  T logSum = maxValue + std::log(sum);
  for (int64_t k = 0; k < length; ++k)
    out[k] = x[k] / temperature - logSum;
}

inline Status softmaxCheck(const SoftmaxDesc &desc, const Shape &input,
                           const Shape &other, const char *what) {
  if (!(desc.temperature > 0))
    return shapeError("softmax", "temperature must be positive");
  if (input.rank() < 1 || input[input.rank() - 1] < 1)
    return shapeError("softmax", "input must have a non-empty last dimension, "
                                 "got " + input.toString());
  return checkShape("softmax", what, other, input);
}
} // namespace detail

template <typename T>
Status softmaxForward(const SoftmaxDesc &desc, TensorRef<const T> input,
                      TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(
      detail::softmaxCheck(desc, input.shape, output.shape, "output"));
  int64_t length = input.dim(input.rank() - 1);
  int64_t rows = input.numElements() / length;
  for (int64_t r = 0; r < rows; ++r) {
    T *row = output.data + r * length;
    detail::logSoftmaxRow(input.data + r * length, row, length,
                          T(desc.temperature));
    if (!desc.log)
      for (int64_t k = 0; k < length; ++k)
        row[k] = std::exp(row[k]);
  }
  return Status::success();
}

template <typename T>
Status softmaxBackward(const SoftmaxDesc &desc, TensorRef<const T> output,
                       TensorRef<const T> gradOutput, TensorRef<T> gradInput) {
  KDRT_RETURN_IF_ERROR(detail::softmaxCheck(desc, output.shape,
                                            gradOutput.shape, "gradOutput"));
  KDRT_RETURN_IF_ERROR(
      checkShape("softmax", "gradInput", gradInput.shape, output.shape));
  int64_t length = output.dim(output.rank() - 1);
  int64_t rows = output.numElements() / length;
  T invTemperature = T(1) / T(desc.temperature);
  for (int64_t r = 0; r < rows; ++r) {
    const T *y = output.data + r * length;
    const T *dy = gradOutput.data + r * length;
    T *dx = gradInput.data + r * length;
    if (desc.log) {
      // y = log p: dx = (dy - p * sum(dy)) / T.
      T sum = 0;
      for (int64_t k = 0; k < length; ++k)
        sum += dy[k];
      for (int64_t k = 0; k < length; ++k)
        dx[k] = (dy[k] - std::exp(y[k]) * sum) * invTemperature;
    } else {
      // y = p: dx = p * (dy - sum(dy * p)) / T.
      T dot = 0;
      for (int64_t k = 0; k < length; ++k)
        dot += dy[k] * y[k];
      for (int64_t k = 0; k < length; ++k)
        dx[k] = y[k] * (dy[k] - dot) * invTemperature;
    }
  }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_SOFTMAX_H

//===- L2Normalize.h - Reference per-sample L2 normalization ----*- C++ -*-===//

#ifndef KDRT_REFERENCE_L2NORMALIZE_H
#define KDRT_REFERENCE_L2NORMALIZE_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

#include <cmath>

namespace kdrt::reference {

namespace detail {
/// y = x / max(||x||, eps) on one sample of `length` elements.
template <typename T>
void l2NormalizeRow(const T *x, T *y, int64_t length, double eps) {
  T squares = 0;
  for (int64_t k = 0; k < length; ++k)
    squares += x[k] * x[k];
  T norm = std::max(std::sqrt(squares), T(eps));
  for (int64_t k = 0; k < length; ++k)
    y[k] = x[k] / norm;
}

/// Backward of l2NormalizeRow. Where the clamp is active the norm is a
/// constant, so the projection term disappears.
template <typename T>
void l2NormalizeRowBackward(const T *x, const T *dy, T *dx, int64_t length,
                            double eps) {
  T squares = 0;
  for (int64_t k = 0; k < length; ++k)
    squares += x[k] * x[k];
  T rawNorm = std::sqrt(squares);
  T norm = std::max(rawNorm, T(eps));
  T dot = 0;
  if (rawNorm > T(eps))
    for (int64_t k = 0; k < length; ++k)
      dot += dy[k] * x[k] / norm;
  for (int64_t k = 0; k < length; ++k)
    dx[k] = (dy[k] - (x[k] / norm) * dot) / norm;
}
} // namespace detail

template <typename T>
Status l2NormalizeForward(const L2NormalizeDesc &desc, TensorRef<const T> input,
                          TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(
      checkShape("l2_normalize", "output", output.shape, input.shape));
  if (input.rank() < 1 || input.dim(0) < 1)
    return shapeError("l2_normalize", "input needs a batch dimension");
  int64_t length = input.numElements() / input.dim(0);
  for (int64_t n = 0; n < input.dim(0); ++n)
    detail::l2NormalizeRow(input.data + n * length, output.data + n * length,
                           length, desc.eps);
  return Status::success();
}

template <typename T>
Status l2NormalizeBackward(const L2NormalizeDesc &desc,
                           TensorRef<const T> input,
                           TensorRef<const T> gradOutput,
                           TensorRef<T> gradInput) {
  KDRT_RETURN_IF_ERROR(
      checkShape("l2_normalize", "gradOutput", gradOutput.shape, input.shape));
  KDRT_RETURN_IF_ERROR(
      checkShape("l2_normalize", "gradInput", gradInput.shape, input.shape));
  if (input.rank() < 1 || input.dim(0) < 1)
    return shapeError("l2_normalize", "input needs a batch dimension");
  int64_t length = input.numElements() / input.dim(0);
  for (int64_t n = 0; n < input.dim(0); ++n)
    detail::l2NormalizeRowBackward(input.data + n * length,
                                   gradOutput.data + n * length,
                                   gradInput.data + n * length, length,
                                   desc.eps);
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_L2NORMALIZE_H

//===- Linear.h - Reference linear layer ------------------------*- C++ -*-===//

#ifndef KDRT_REFERENCE_LINEAR_H
#define KDRT_REFERENCE_LINEAR_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

namespace kdrt::reference {

/// Checks input [..., I], weight [O, I], bias [O], output [..., O] and
/// returns the number of rows (the product of the leading dimensions).
inline Status linearRows(const Shape &input, const Shape &weight,
                         const Shape &output, int64_t &rows) {
  const char *op = "linear";
  KDRT_RETURN_IF_ERROR(checkRank(op, "weight", weight, 2));
  if (input.rank() < 1 || input[input.rank() - 1] != weight[1])
    return shapeError(op, "input " + input.toString() +
                              " does not end in the weight's input width " +
                              std::to_string(weight[1]));
  Shape expected = input;
  expected[expected.rank() - 1] = weight[0];
  KDRT_RETURN_IF_ERROR(checkShape(op, "output", output, expected));
  rows = input.numElements() / weight[1];
  return Status::success();
}

template <typename T>
Status linearForward(const LinearDesc &, TensorRef<const T> input,
                     TensorRef<const T> weight, TensorRef<const T> bias,
                     TensorRef<T> output) {
  int64_t rows = 0;
  KDRT_RETURN_IF_ERROR(
      linearRows(input.shape, weight.shape, output.shape, rows));
  int64_t outWidth = weight.dim(0), inWidth = weight.dim(1);
  KDRT_RETURN_IF_ERROR(checkOptional("linear", "bias", bias, Shape{outWidth}));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < outWidth; ++o) {
      T sum = bias.present() ? bias[o] : T(0);
      for (int64_t i = 0; i < inWidth; ++i)
        sum += input[r * inWidth + i] * weight[o * inWidth + i];
      output[r * outWidth + o] = sum;
    }
  return Status::success();
}

template <typename T>
Status linearBackward(const LinearDesc &, TensorRef<const T> input,
                      TensorRef<const T> weight, TensorRef<const T> gradOutput,
                      TensorRef<T> gradInput, TensorRef<T> gradWeight,
                      TensorRef<T> gradBias) {
  const char *op = "linear";
  int64_t rows = 0;
  KDRT_RETURN_IF_ERROR(
      linearRows(input.shape, weight.shape, gradOutput.shape, rows));
  int64_t outWidth = weight.dim(0), inWidth = weight.dim(1);
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradInput", gradInput, input.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradWeight", gradWeight, weight.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradBias", gradBias, Shape{outWidth}));
  if (gradInput.present())
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < inWidth; ++i) {
        T sum = 0;
        for (int64_t o = 0; o < outWidth; ++o)
          sum += gradOutput[r * outWidth + o] * weight[o * inWidth + i];
        gradInput[r * inWidth + i] = sum;
      }
  if (gradWeight.present())
    for (int64_t o = 0; o < outWidth; ++o)
      for (int64_t i = 0; i < inWidth; ++i) {
        T sum = 0;
        for (int64_t r = 0; r < rows; ++r)
          sum += gradOutput[r * outWidth + o] * input[r * inWidth + i];
        gradWeight[o * inWidth + i] = sum;
      }
  if (gradBias.present())
    for (int64_t o = 0; o < outWidth; ++o) {
      T sum = 0;
      for (int64_t r = 0; r < rows; ++r)
        sum += gradOutput[r * outWidth + o];
      gradBias[o] = sum;
    }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_LINEAR_H

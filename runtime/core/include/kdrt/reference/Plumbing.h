//===- Plumbing.h - Reference concat, reshape and dropout -------*- C++ -*-===//

#ifndef KDRT_REFERENCE_PLUMBING_H
#define KDRT_REFERENCE_PLUMBING_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

#include <vector>

namespace kdrt::reference {

//===----------------------------------------------------------------------===//
// Concat
//===----------------------------------------------------------------------===//

namespace detail {
inline Status concatCheck(const ConcatDesc &desc,
                          const std::vector<Shape> &inputs,
                          const Shape &output) {
  const char *op = "concat";
  if (inputs.empty())
    return shapeError(op, "needs at least one input");
  const Shape &first = inputs[0];
  if (desc.axis < 0 || static_cast<size_t>(desc.axis) >= first.rank())
    return shapeError(op, "axis " + std::to_string(desc.axis) +
                              " is out of range for " + first.toString());
  Shape expected = first;
  expected[desc.axis] = 0;
  for (const Shape &shape : inputs) {
    Shape probe = shape;
    if (probe.rank() == first.rank())
      probe[desc.axis] = first[desc.axis];
    if (probe != first)
      return shapeError(op, "inputs " + first.toString() + " and " +
                                shape.toString() +
                                " differ outside the concat axis");
    expected[desc.axis] += shape[desc.axis];
  }
  return checkShape(op, "output", output, expected);
}
} // namespace detail

template <typename T>
Status concatForward(const ConcatDesc &desc,
                     const std::vector<TensorRef<const T>> &inputs,
                     TensorRef<T> output) {
  std::vector<Shape> shapes;
  for (const auto &input : inputs)
    shapes.push_back(input.shape);
  KDRT_RETURN_IF_ERROR(detail::concatCheck(desc, shapes, output.shape));
  int64_t outer = productOf(output.shape, 0, desc.axis);
  int64_t inner = productOf(output.shape, desc.axis + 1, output.rank());
  int64_t outRow = output.dim(desc.axis) * inner, offset = 0;
  for (const auto &input : inputs) {
    int64_t row = input.dim(desc.axis) * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < row; ++k)
        output[o * outRow + offset + k] = input[o * row + k];
    offset += row;
  }
  return Status::success();
}

/// gradInputs carry the input shapes, so all of them must be given.
template <typename T>
Status concatBackward(const ConcatDesc &desc, TensorRef<const T> gradOutput,
                      const std::vector<TensorRef<T>> &gradInputs) {
  std::vector<Shape> shapes;
  for (const auto &grad : gradInputs) {
    if (!grad.present())
      return shapeError("concat", "every input gradient must be given: it "
                                  "carries the input's shape");
    shapes.push_back(grad.shape);
  }
  KDRT_RETURN_IF_ERROR(detail::concatCheck(desc, shapes, gradOutput.shape));
  int64_t outer = productOf(gradOutput.shape, 0, desc.axis);
  int64_t inner = productOf(gradOutput.shape, desc.axis + 1, gradOutput.rank());
  int64_t outRow = gradOutput.dim(desc.axis) * inner, offset = 0;
  for (const auto &grad : gradInputs) {
    int64_t row = grad.dim(desc.axis) * inner;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k = 0; k < row; ++k)
        grad[o * row + k] = gradOutput[o * outRow + offset + k];
    offset += row;
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Reshape: a copy between shapes of equal size.
//===----------------------------------------------------------------------===//

template <typename T>
Status reshapeCopy(TensorRef<const T> from, TensorRef<T> to) {
  if (from.numElements() != to.numElements())
    return shapeError("reshape", "cannot reshape " + from.shape.toString() +
                                     " to " + to.shape.toString());
  std::copy(from.data, from.data + from.numElements(), to.data);
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

/// Whether element `index` survives dropout with probability p under
/// `seed`. A counter-based hash (splitmix64) rather than a stream generator,
/// so any backend can reproduce the mask element by element, in parallel.
inline bool dropoutKeeps(uint64_t seed, uint64_t index, double p) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  double uniform = double(z >> 11) * (1.0 / 9007199254740992.0); // [0, 1)
  return uniform >= p;
}

template <typename T>
Status dropoutForward(const DropoutDesc &desc, TensorRef<const T> input,
                      TensorRef<T> output, TensorRef<T> mask) {
  if (!(desc.p >= 0 && desc.p <= 1))
    return shapeError("dropout", "p must lie in [0, 1]");
  KDRT_RETURN_IF_ERROR(checkShape("dropout", "output", output.shape, input.shape));
  KDRT_RETURN_IF_ERROR(checkShape("dropout", "mask", mask.shape, input.shape));
  T keepScale = desc.p < 1 ? T(1.0 / (1.0 - desc.p)) : T(0);
  for (int64_t i = 0; i < input.numElements(); ++i) {
    mask[i] = dropoutKeeps(desc.seed, uint64_t(i), desc.p) ? keepScale : T(0);
    output[i] = input[i] * mask[i];
  }
  return Status::success();
}

template <typename T>
Status dropoutBackward(const DropoutDesc &, TensorRef<const T> mask,
                       TensorRef<const T> gradOutput, TensorRef<T> gradInput) {
  KDRT_RETURN_IF_ERROR(
      checkShape("dropout", "gradOutput", gradOutput.shape, mask.shape));
  KDRT_RETURN_IF_ERROR(
      checkShape("dropout", "gradInput", gradInput.shape, mask.shape));
  for (int64_t i = 0; i < mask.numElements(); ++i)
    gradInput[i] = gradOutput[i] * mask[i];
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_PLUMBING_H

//===- Binary.h - Reference add / mul with broadcasting ---------*- C++ -*-===//

#ifndef KDRT_REFERENCE_BINARY_H
#define KDRT_REFERENCE_BINARY_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

#include <vector>

namespace kdrt::reference {

namespace detail {
/// For each element of `lhs`, the index of the rhs element it pairs with
/// under numpy broadcasting of rhs to lhs.
inline Status broadcastIndices(const char *op, const Shape &lhs,
                               const Shape &rhs,
                               std::vector<int64_t> &indices) {
  if (rhs.rank() > lhs.rank())
    return shapeError(op, "cannot broadcast " + rhs.toString() + " to " +
                              lhs.toString());
  size_t offset = lhs.rank() - rhs.rank();
  std::vector<int64_t> rhsStrides(lhs.rank(), 0);
  int64_t stride = 1;
  for (size_t d = rhs.rank(); d-- > 0;) {
    if (rhs[d] != lhs[d + offset] && rhs[d] != 1)
      return shapeError(op, "cannot broadcast " + rhs.toString() + " to " +
                                lhs.toString());
    rhsStrides[d + offset] = rhs[d] == 1 ? 0 : stride;
    stride *= rhs[d];
  }
  indices.assign(lhs.numElements(), 0);
  for (int64_t i = 0; i < lhs.numElements(); ++i) {
    int64_t rest = i, index = 0;
    for (size_t d = lhs.rank(); d-- > 0;) {
      index += (rest % lhs[d]) * rhsStrides[d];
      rest /= lhs[d];
    }
    indices[i] = index;
  }
  return Status::success();
}
} // namespace detail

template <typename T>
Status binaryForward(const BinaryDesc &desc, TensorRef<const T> lhs,
                     TensorRef<const T> rhs, TensorRef<T> output) {
  std::vector<int64_t> rhsIndex;
  KDRT_RETURN_IF_ERROR(
      detail::broadcastIndices("binary", lhs.shape, rhs.shape, rhsIndex));
  KDRT_RETURN_IF_ERROR(checkShape("binary", "output", output.shape, lhs.shape));
  for (int64_t i = 0; i < lhs.numElements(); ++i)
    output[i] = desc.kind == BinaryKind::Add ? lhs[i] + rhs[rhsIndex[i]]
                                             : lhs[i] * rhs[rhsIndex[i]];
  return Status::success();
}

template <typename T>
Status binaryBackward(const BinaryDesc &desc, TensorRef<const T> lhs,
                      TensorRef<const T> rhs, TensorRef<const T> gradOutput,
                      TensorRef<T> gradLhs, TensorRef<T> gradRhs) {
  const char *op = "binary";
  std::vector<int64_t> rhsIndex;
  KDRT_RETURN_IF_ERROR(
      detail::broadcastIndices(op, lhs.shape, rhs.shape, rhsIndex));
  KDRT_RETURN_IF_ERROR(checkShape(op, "gradOutput", gradOutput.shape, lhs.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradLhs", gradLhs, lhs.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradRhs", gradRhs, rhs.shape));
  bool add = desc.kind == BinaryKind::Add;
  if (gradRhs.present())
    gradRhs.fill(T(0));
  for (int64_t i = 0; i < lhs.numElements(); ++i) {
    if (gradLhs.present())
      gradLhs[i] = add ? gradOutput[i] : gradOutput[i] * rhs[rhsIndex[i]];
    if (gradRhs.present())
      gradRhs[rhsIndex[i]] += add ? gradOutput[i] : gradOutput[i] * lhs[i];
  }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_BINARY_H

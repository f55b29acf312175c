//===- TensorRef.h - Typed views for the reference kernels ------*- C++ -*-===//
//
// The reference kernels are templates on the scalar type so that the same
// code runs in fp32 behind the Backend interface and in double in the
// finite-difference tests. A TensorRef is the typed counterpart of Tensor: a
// pointer and a shape. A default-constructed TensorRef means "absent" (no
// bias, gradient not wanted).
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_TENSORREF_H
#define KDRT_REFERENCE_TENSORREF_H

#include "kdrt/Shape.h"
#include "kdrt/Status.h"

#include <algorithm>
#include <string>

namespace kdrt::reference {

template <typename T> struct TensorRef {
  T *data = nullptr;
  Shape shape;

  TensorRef() = default;
  TensorRef(T *data, Shape shape) : data(data), shape(std::move(shape)) {}

  bool present() const { return data != nullptr; }
  int64_t numElements() const { return shape.numElements(); }
  size_t rank() const { return shape.rank(); }
  int64_t dim(size_t index) const { return shape[index]; }
  T &operator[](int64_t index) const { return data[index]; }

  /// Every TensorRef<T> is usable as a read-only TensorRef<const T>.
  template <typename U = T,
            typename = std::enable_if_t<!std::is_const_v<U>>>
  operator TensorRef<const U>() const {
    return TensorRef<const U>(data, shape);
  }

  void fill(std::remove_const_t<T> value) const {
    std::fill(data, data + numElements(), value);
  }
};

//===----------------------------------------------------------------------===//
// Validation helpers: every kernel checks its operands before touching data.
//===----------------------------------------------------------------------===//

inline Status shapeError(const char *op, const std::string &message) {
  return Status::invalidArgument(std::string(op) + ": " + message);
}

inline Status checkRank(const char *op, const char *what, const Shape &shape,
                        size_t rank) {
  if (shape.rank() != rank)
    return shapeError(op, std::string(what) + " must have rank " +
                              std::to_string(rank) + ", got " +
                              shape.toString());
  return Status::success();
}

inline Status checkShape(const char *op, const char *what,
                         const Shape &actual, const Shape &expected) {
  if (actual != expected)
    return shapeError(op, std::string(what) + " must have shape " +
                              expected.toString() + ", got " +
                              actual.toString());
  return Status::success();
}

template <typename T>
Status checkPresent(const char *op, const char *what, const TensorRef<T> &t) {
  if (!t.present())
    return shapeError(op, std::string(what) + " is required");
  return Status::success();
}

/// Checks the shape of an optional operand only when it is given.
template <typename T>
Status checkOptional(const char *op, const char *what, const TensorRef<T> &t,
                     const Shape &expected) {
  if (!t.present())
    return Status::success();
  return checkShape(op, what, t.shape, expected);
}

/// Product of dims[begin, end).
inline int64_t productOf(const Shape &shape, size_t begin, size_t end) {
  int64_t product = 1;
  for (size_t i = begin; i < end; ++i)
    product *= shape[i];
  return product;
}

inline Shape trailingShape(const Shape &shape, size_t count) {
  return Shape(std::vector<int64_t>(shape.dims().end() - count,
                                    shape.dims().end()));
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_TENSORREF_H

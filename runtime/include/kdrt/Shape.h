//===- Shape.h - Tensor dimensions ------------------------------*- C++ -*-===//
//
// A shape is a list of int64 dimensions, outermost first: NCHW for images,
// [B, N, D] for token sequences, [B, K] for logits. A rank-0 shape holds one
// element (a scalar, e.g. a loss value).
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_SHAPE_H
#define KDRT_SHAPE_H

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace kdrt {

class Shape {
public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  size_t rank() const { return dims_.size(); }
  int64_t operator[](size_t index) const { return dims_[index]; }
  int64_t &operator[](size_t index) { return dims_[index]; }
  const std::vector<int64_t> &dims() const { return dims_; }

  /// Product of all dimensions; 1 for a scalar.
  int64_t numElements() const;
  /// True when every dimension is non-negative.
  bool isValid() const;
  /// "[2, 3, 5, 7]", for error messages.
  std::string toString() const;

  friend bool operator==(const Shape &lhs, const Shape &rhs) {
    return lhs.dims_ == rhs.dims_;
  }
  friend bool operator!=(const Shape &lhs, const Shape &rhs) {
    return !(lhs == rhs);
  }

private:
  std::vector<int64_t> dims_;
};

} // namespace kdrt

#endif // KDRT_SHAPE_H

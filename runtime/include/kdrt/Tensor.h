//===- Tensor.h - fp32 tensors of the runtime -------------------*- C++ -*-===//
//
// A Tensor is a shape plus a pointer to dense, row-major fp32 data. It either
// views memory it does not own (a slice of the plan's arena, or device memory
// allocated through a Backend) or owns a host buffer. Copying a Tensor copies
// the handle, not the data, so kernels take them by reference cheaply; the
// data a const Tensor points to is treated as read-only by every backend.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TENSOR_H
#define KDRT_TENSOR_H

#include "kdrt/Shape.h"

#include <memory>

namespace kdrt {

class Tensor {
public:
  /// An empty tensor: no data, rank 0. Used for "not provided".
  Tensor() = default;

  /// A zero-filled host tensor that owns its data.
  static Tensor owning(Shape shape);
  /// A view over memory owned elsewhere (arena slice or device buffer).
  static Tensor view(float *data, Shape shape);

  const Shape &shape() const { return shape_; }
  size_t rank() const { return shape_.rank(); }
  int64_t dim(size_t index) const { return shape_[index]; }
  int64_t numElements() const { return shape_.numElements(); }
  size_t sizeInBytes() const {
    return static_cast<size_t>(numElements()) * sizeof(float);
  }
  float *data() const { return data_; }
  bool isOwning() const { return storage_ != nullptr; }
  bool empty() const { return data_ == nullptr; }

  /// The same data seen with another shape of equal element count.
  Tensor reshaped(Shape shape) const;

private:
  Tensor(float *data, Shape shape, std::shared_ptr<float[]> storage)
      : shape_(std::move(shape)), data_(data), storage_(std::move(storage)) {}

  Shape shape_;
  float *data_ = nullptr;
  std::shared_ptr<float[]> storage_;
};

} // namespace kdrt

#endif // KDRT_TENSOR_H

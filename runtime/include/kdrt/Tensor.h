//===- Tensor.h - fp32 tensors of the runtime -------------------*- C++ -*-===//
//
// A Tensor is a shape plus a pointer to dense fp32 data. It either views
// memory it does not own (a slice of the plan's arena, or device memory
// allocated through a Backend) or owns a host buffer. The data is row-major
// unless the tensor says otherwise: a rank-4 activation [N, C, H, W] that the
// executor placed channels-last (Layout::ChannelsLast, stored N, H, W, C)
// because every kernel touching it reads that layout natively (see
// runtime/exec/lib/LayoutAssignment.cpp). Both layouts are dense, so a
// buffer's size does not depend on its layout. Copying a Tensor copies
// the handle, not the data, so kernels take them by reference cheaply; the
// data a const Tensor points to is treated as read-only by every backend.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TENSOR_H
#define KDRT_TENSOR_H

#include "kdrt/Shape.h"

#include <cstdint>
#include <memory>

namespace kdrt {

/// How a tensor's elements lie in memory. Only rank-4 tensors are ever
/// channels-last; everything else, and every host-side reader, is row-major.
enum class Layout : uint8_t { RowMajor, ChannelsLast };

class Tensor {
public:
  /// An empty tensor: no data, rank 0. Used for "not provided".
  Tensor() = default;

  /// A zero-filled host tensor that owns its data.
  static Tensor owning(Shape shape);
  /// A view over memory owned elsewhere (arena slice or device buffer).
  static Tensor view(float *data, Shape shape,
                     Layout layout = Layout::RowMajor);

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
  Layout layout() const { return layout_; }
  bool channelsLast() const { return layout_ == Layout::ChannelsLast; }
  /// A number that changes whenever the data is written, for tensors whose
  /// writes the executor tracks (parameter values); 0 for every other tensor.
  /// Versions are unique across the process, so equal (data, version) pairs
  /// mean equal contents and a backend may cache what it derives from them
  /// (a weight reordered into a kernel's layout).
  uint64_t version() const { return version_; }
  /// Gives the tensor a new version (after its data was written).
  void touch() { version_ = nextVersion(); }
  static uint64_t nextVersion();

  /// The same data and shape, declared to lie in `layout` (no data moves).
  Tensor withLayout(Layout layout) const {
    Tensor copy = *this;
    copy.layout_ = layout;
    return copy;
  }

  /// The same data seen with another shape of equal element count; only
  /// meaningful for a row-major tensor (the result is row-major).
  Tensor reshaped(Shape shape) const;

private:
  Tensor(float *data, Shape shape, std::shared_ptr<float[]> storage)
      : shape_(std::move(shape)), data_(data), storage_(std::move(storage)) {}

  Shape shape_;
  float *data_ = nullptr;
  std::shared_ptr<float[]> storage_;
  Layout layout_ = Layout::RowMajor;
  uint64_t version_ = 0;
};

} // namespace kdrt

#endif // KDRT_TENSOR_H

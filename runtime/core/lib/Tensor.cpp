//===- Tensor.cpp ---------------------------------------------------------===//

#include "kdrt/Tensor.h"

#include <atomic>
#include <cassert>

namespace kdrt {

uint64_t Tensor::nextVersion() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

Tensor Tensor::owning(Shape shape) {
  assert(shape.isValid() && "negative dimension");
  size_t count = static_cast<size_t>(shape.numElements());
  // Zero-initialized (the trailing ()) so a fresh gradient buffer is a
  // valid starting point; at least one element so data() is never null.
  std::shared_ptr<float[]> storage(new float[count ? count : 1]());
  float *data = storage.get();
  return Tensor(data, std::move(shape), std::move(storage));
}

Tensor Tensor::view(float *data, Shape shape, Layout layout) {
  assert((layout == Layout::RowMajor || shape.rank() == 4) &&
         "only rank-4 tensors are channels-last");
  Tensor tensor(data, std::move(shape), nullptr);
  tensor.layout_ = layout;
  return tensor;
}

Tensor Tensor::reshaped(Shape shape) const {
  assert(shape.numElements() == numElements() && "reshape changes size");
  assert(layout_ == Layout::RowMajor && "reshape of a channels-last tensor");
  return Tensor(data_, std::move(shape), storage_);
}

} // namespace kdrt

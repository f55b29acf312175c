//===- Tensor.cpp ---------------------------------------------------------===//

#include "kdrt/Tensor.h"

#include <cassert>

namespace kdrt {

Tensor Tensor::owning(Shape shape) {
  assert(shape.isValid() && "negative dimension");
  size_t count = static_cast<size_t>(shape.numElements());
  // Zero-initialized (the trailing ()) so a fresh gradient buffer is a
  // valid starting point; at least one element so data() is never null.
  std::shared_ptr<float[]> storage(new float[count ? count : 1]());
  float *data = storage.get();
  return Tensor(data, std::move(shape), std::move(storage));
}

Tensor Tensor::view(float *data, Shape shape) {
  return Tensor(data, std::move(shape), nullptr);
}

Tensor Tensor::reshaped(Shape shape) const {
  assert(shape.numElements() == numElements() && "reshape changes size");
  return Tensor(data_, std::move(shape), storage_);
}

} // namespace kdrt

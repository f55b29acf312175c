//===- Shape.cpp ----------------------------------------------------------===//

#include "kdrt/Shape.h"

namespace kdrt {

int64_t Shape::numElements() const {
  int64_t count = 1;
  for (int64_t dim : dims_)
    count *= dim;
  return count;
}

bool Shape::isValid() const {
  for (int64_t dim : dims_)
    if (dim < 0)
      return false;
  return true;
}

std::string Shape::toString() const {
  std::string text = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i)
      text += ", ";
    text += std::to_string(dims_[i]);
  }
  return text + "]";
}

} // namespace kdrt

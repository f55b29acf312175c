//===- ReferenceBackend.cpp - Backend over the reference kernels ----------===//
#include "kdrt/ReferenceBackend.h"
#include "kdrt/reference/HostReferenceBackend.h"

namespace kdrt {

std::unique_ptr<Backend> createReferenceBackend() {
  return std::make_unique<HostReferenceBackend>();
}

} // namespace kdrt

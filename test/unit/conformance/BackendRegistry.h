//===- BackendRegistry.h - Backends the conformance suite runs --*- C++ -*-===//

#ifndef KDRT_TEST_CONFORMANCE_BACKENDREGISTRY_H
#define KDRT_TEST_CONFORMANCE_BACKENDREGISTRY_H

#include "kdrt/Backend.h"

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace kdrt::conformance {

struct BackendFactory {
  std::string name;
  std::function<std::unique_ptr<Backend>()> create;
};

inline std::ostream &operator<<(std::ostream &os, const BackendFactory &f) {
  return os << f.name;
}

/// Every backend built into this binary; each is compared with the
/// reference kernels.
std::vector<BackendFactory> registeredBackends();

} // namespace kdrt::conformance

#endif // KDRT_TEST_CONFORMANCE_BACKENDREGISTRY_H

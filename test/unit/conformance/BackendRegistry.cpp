//===- BackendRegistry.cpp - The list of backends under test --------------===//

#include "BackendRegistry.h"

#include "kdrt/ReferenceBackend.h"
#ifdef KDRT_HAVE_ONEDNN
#include "kdrt/OneDnnBackend.h"
#endif

namespace kdrt::conformance {

std::vector<BackendFactory> registeredBackends() {
  std::vector<BackendFactory> factories;
  factories.push_back({"reference", [] { return createReferenceBackend(); }});
#ifdef KDRT_HAVE_ONEDNN
  factories.push_back({"onednn", []() -> std::unique_ptr<Backend> {
                         return createOneDnnBackend();
                       }});
#endif
  return factories;
}

} // namespace kdrt::conformance

//===- BackendFactory.cpp - Backends by name ------------------------------===//

#include "kdrt/exec/BackendFactory.h"
#include "kdrt/ReferenceBackend.h"

#ifdef KDRT_HAVE_ONEDNN
#include "kdrt/OneDnnBackend.h"
#endif

namespace kdrt::exec {

std::vector<std::string> availableBackends() {
#ifdef KDRT_HAVE_ONEDNN
  return {"onednn", "reference"};
#else
  return {"reference"};
#endif
}

Status createBackend(const std::string &name, int threads,
                     std::unique_ptr<Backend> &backend) {
  std::string chosen = name.empty() ? availableBackends().front() : name;
  if (chosen == "reference") {
    backend = createReferenceBackend();
    return Status::success();
  }
#ifdef KDRT_HAVE_ONEDNN
  if (chosen == "onednn") {
    backend = createOneDnnBackend(threads);
    return Status::success();
  }
#endif
  std::string list;
  for (const std::string &available : availableBackends())
    list += (list.empty() ? "" : ", ") + available;
  return Status::invalidArgument("unknown backend '" + chosen +
                                 "' (available: " + list + ")");
}

} // namespace kdrt::exec

//===- BackendFactory.h - Backends by name ----------------------*- C++ -*-===//

#ifndef KDRT_EXEC_BACKENDFACTORY_H
#define KDRT_EXEC_BACKENDFACTORY_H

#include "kdrt/Backend.h"

#include <memory>
#include <string>
#include <vector>

namespace kdrt::exec {

/// The backends built into this runtime, the default first.
std::vector<std::string> availableBackends();

/// "reference" or "onednn"; an empty name picks the default (oneDNN when
/// built in). Returns invalidArgument naming the available backends.
Status createBackend(const std::string &name, int threads,
                     std::unique_ptr<Backend> &backend);

} // namespace kdrt::exec

#endif // KDRT_EXEC_BACKENDFACTORY_H

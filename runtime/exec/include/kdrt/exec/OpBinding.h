//===- OpBinding.h - From a plan's op to a backend call ---------*- C++ -*-===//
//
// Binding turns one OpSpec into a callable once, when a session is created:
// the op name is looked up, the operand count and optionality are checked
// against the backend entry's signature, and the JSON attributes are mapped
// onto the OpDesc struct. Running a bound op then only resolves its operands
// to tensors and makes the call, so a malformed plan fails before any
// training starts, with the JSON path of the problem.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_OPBINDING_H
#define KDRT_EXEC_OPBINDING_H

#include "kdrt/Backend.h"
#include "kdrt/plan/PlanFormat.h"

#include <functional>
#include <string>
#include <vector>

namespace kdrt::exec {

/// What an op may need beyond its tensors.
struct OpContext {
  Backend *backend = nullptr;
  /// Changes every step, so dropout draws a new mask each step while the
  /// run as a whole stays reproducible.
  uint64_t stepSeed = 0;
};

using OpInputs = std::vector<const Tensor *>;
using OpOutputs = std::vector<Tensor *>;
using BoundOpFn =
    std::function<Status(OpContext &, const OpInputs &, const OpOutputs &)>;

/// Binds `op`; throws plan::PlanError("<source>: <path>...: message") for
/// an unknown op, a wrong operand count, a missing required operand or a
/// bad attribute. `path` is the op's JSON path, e.g. "stages[0].program[3]".
BoundOpFn bindOp(const plan::OpSpec &op, const std::string &source,
                 const std::string &path);

/// Every op name the executor knows (for `kdrt inspect` and tests).
std::vector<std::string> knownOpNames();

} // namespace kdrt::exec

#endif // KDRT_EXEC_OPBINDING_H

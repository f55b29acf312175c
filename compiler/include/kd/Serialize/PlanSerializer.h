//===- PlanSerializer.h - kdrt module to a .kdx plan ------------*- C++ -*-===//
//
// The last step of `kdc compile`: a direct walk of a lowered (kdrt) module
// into the runtime's plan structs (kdrt/plan/PlanFormat.h), then the file
// writer of the runtime's own plan library, so the compiler and the runtime
// cannot disagree on the format.
//
// The plan library reports write errors with exceptions while MLIR code is
// built without them; this header is the boundary: nothing throws out of
// it, errors come back as diagnostics at the op's location or as text.
//
//===----------------------------------------------------------------------===//
#ifndef KD_SERIALIZE_PLANSERIALIZER_H
#define KD_SERIALIZE_PLANSERIALIZER_H

#include "kdrt/plan/PlanFormat.h"

#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <string>

namespace kd {

/// What the plan records about where it came from.
struct PlanProvenance {
  /// "kdc 0.1.0".
  std::string producer;
  /// "cpu" or "gpu": the target the module was lowered for.
  std::string target = "cpu";
  /// The root .kd file (its name, not a machine path) and its sha256.
  std::string specFile;
  std::string specSha256;
  uint64_t seed = 0;
};

/// Fills `plan` from a module lowered by --kd-lower-to-runtime. An op the
/// plan has no place for is an error at its location.
mlir::LogicalResult buildPlan(mlir::ModuleOp module, const PlanProvenance &provenance, kdrt::plan::Plan &plan);

/// The manifest JSON of `plan`, as the .kdx file holds it (pretty-printed).
std::string planManifestText(const kdrt::plan::Plan &plan);

/// Writes `plan` to `path`. Returns false with `error` set when the file
/// cannot be written.
bool writePlanFile(const kdrt::plan::Plan &plan, const std::string &path, std::string &error);

} // namespace kd

#endif // KD_SERIALIZE_PLANSERIALIZER_H

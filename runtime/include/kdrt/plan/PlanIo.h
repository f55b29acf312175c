//===- PlanIo.h - Reading and writing .kdx files ----------------*- C++ -*-===//
//
// The file layout of docs/kdx.md: magic, manifest length, JSON manifest,
// zero padding to 64 bytes, tensor blob. The reader validates everything a
// plan can get wrong by itself (types, ranges, references between its
// parts, buffers inside their arena, blob references inside the file) and
// throws PlanError naming the file and the JSON path of the first problem,
// e.g. "net.kdx: stages[1].program[7].in[2]: unknown buffer 99". What it
// cannot know (op names and arities) the executor checks when it binds a
// plan to a backend. Neither ever crashes on a hostile file.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_PLAN_PLANIO_H
#define KDRT_PLAN_PLANIO_H

#include "kdrt/plan/PlanFormat.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace kdrt::plan {

class PlanError : public std::runtime_error {
public:
  explicit PlanError(const std::string &message)
      : std::runtime_error(message) {}
};

/// The manifest of `plan` as JSON (without the blob).
nlohmann::json planToJson(const Plan &plan);

/// The complete file contents: header, manifest, padding, plan.blob.
std::vector<uint8_t> serializePlan(const Plan &plan);
/// Writes serializePlan(plan) to `path`; throws PlanError on failure.
void writePlan(const std::string &path, const Plan &plan);

/// Parses and validates file contents; `source` names the file in errors.
Plan parsePlan(const std::vector<uint8_t> &bytes, const std::string &source);
/// Reads and parses `path`.
Plan readPlan(const std::string &path);

/// Appends `bytes` to plan.blob at the next 64-byte boundary and returns
/// the reference to store in a parameter's `blob`.
BlobRef appendToBlob(Plan &plan, const void *bytes, uint64_t size);

} // namespace kdrt::plan

#endif // KDRT_PLAN_PLANIO_H

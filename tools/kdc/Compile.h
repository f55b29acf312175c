//===- Compile.h - kdc compile: a checked program to a .kdx plan -*- C++ -*-===//
#ifndef KDC_COMPILE_H
#define KDC_COMPILE_H

#include "kd/Pipelines/Pipelines.h"
#include "kdrt/plan/PlanFormat.h"

#include <ostream>
#include <string>

namespace kd {
struct CheckedProgram;
class SourceManager;
} // namespace kd

namespace kdc {

/// What the compilation prints instead of (or besides) producing a plan.
enum class CompileOutput {
  Plan,    // fill the plan only
  Lowered, // print the kdrt module and stop
};

/// Imports `program`, runs exactly kd::buildKDPipeline(pipeline) (what
/// `kd-opt --kd-<target>-pipeline` runs with the same options) and serialises
/// the kdrt module into `plan`. The header fields already set in `plan`
/// (producer, spec file and hash, seed) are kept; the target is recorded.
/// Errors are printed to stderr at the op's .kd location; returns false
/// after any.
bool compileProgram(const kd::CheckedProgram &program, const kd::SourceManager &sources,
                    const kd::KDPipelineOptions &pipeline, CompileOutput output, std::ostream &os,
                    kdrt::plan::Plan &plan);

/// The manifest JSON of a plan (--emit=plan).
std::string planManifest(const kdrt::plan::Plan &plan);

/// Writes a plan file; false with `error` set on failure.
bool savePlan(const kdrt::plan::Plan &plan, const std::string &path, std::string &error);

} // namespace kdc

#endif // KDC_COMPILE_H

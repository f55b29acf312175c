//===- CompileAndRun.h - kdc compile / kdc run on a checked program -*- C++ -*-===//
#ifndef KDC_COMPILEANDRUN_H
#define KDC_COMPILEANDRUN_H

#include "Options.h"

#include <cstdint>

namespace kd {
struct CheckedProgram;
class SourceManager;
} // namespace kd

namespace kdc {

/// After the program in buffer `root` of `sources` checked: compiles it
/// and, by `opts`, prints the kdrt module (--emit=lowered) or the manifest
/// (--emit=plan), writes the plan (compile) or runs it (run). Returns false
/// after printing errors.
bool compileAndRun(uint32_t root, const kd::SourceManager &sources, const kd::CheckedProgram &program,
                   const DriverOptions &opts);

} // namespace kdc

#endif // KDC_COMPILEANDRUN_H

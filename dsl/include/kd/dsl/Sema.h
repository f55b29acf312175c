//===- Sema.h - Semantic analysis of a loaded .kd program -------*- C++ -*-===//
//
// Name resolution across imports, argument checks against the table of
// built-ins, compile-time evaluation of model parameters, model instantiation
// and shape inference, and the checks of data, teachers, students, stages,
// evaluate and export. The result is a CheckedProgram (Checked.h) that later
// phases (the MLIR importer, the driver's --emit=ast) consume.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_SEMA_H
#define KD_DSL_SEMA_H

#include "kd/dsl/Diagnostics.h"
#include "kd/dsl/Frontend.h"

#include <map>
#include <ostream>
#include <memory>
#include <string>

namespace kd {

struct CheckedProgram; // Checked.h

struct SemaOptions {
  // `--set key=value` overrides of declared values (e.g. "distill.epochs"="1",
  // a top-level `let`). Unknown keys are errors.
  std::map<std::string, std::string> overrides;
};

// Checks `prog`; reports every problem found to `diags` (several per run).
// Returns null if there was any error.
std::unique_ptr<CheckedProgram> check(const Program &prog, DiagnosticEngine &diags,
                                      const SemaOptions &opts = {});

// Prints the checked program (`kdc --emit=checked`): every model instance
// with each named value's shape, teachers, students, stages with their
// trainable and frozen sets and resolved losses.
void dumpChecked(const CheckedProgram &prog, const SourceManager &sm, std::ostream &os);

} // namespace kd

#endif // KD_DSL_SEMA_H

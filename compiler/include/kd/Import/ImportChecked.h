//===- ImportChecked.h - CheckedProgram to the kd dialect -------*- C++ -*-===//
//
// Turns the front end's checked program into a kd module: data sets, one
// kd.model per model instance (parameters named `<model>/<layer path>.<param>`
// with their init spec), teachers and students, stages with their loss
// trees, evaluations and exports. Every op carries the FileLineColLoc of the
// .kd source that produced it.
//
//===----------------------------------------------------------------------===//
#ifndef KD_IMPORT_IMPORTCHECKED_H
#define KD_IMPORT_IMPORTCHECKED_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace kd {

struct CheckedProgram;
class SourceManager;

/// Imports `program`. Loads the kd dialect into `context`. Returns null
/// after reporting the problem through the context's diagnostics when the
/// program uses something the dialect cannot express or the module fails to
/// verify.
mlir::OwningOpRef<mlir::ModuleOp> importChecked(mlir::MLIRContext &context, const CheckedProgram &program,
                                                const SourceManager &sources);

} // namespace kd

#endif // KD_IMPORT_IMPORTCHECKED_H

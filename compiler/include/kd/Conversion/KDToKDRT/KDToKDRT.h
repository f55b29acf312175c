//===- KDToKDRT.h - Lowering kd to the runtime dialect ----------*- C++ -*-===//
//
// `--kd-lower-to-runtime{target=cpu|gpu}`: a legality check, then kd -> kdrt.
// `checkRuntimeLegality` is the check alone, for drivers that want to refuse
// a program before running anything else.
//
//===----------------------------------------------------------------------===//
#ifndef KD_CONVERSION_KDTOKDRT_KDTOKDRT_H
#define KD_CONVERSION_KDTOKDRT_KDTOKDRT_H

#include "kd/Dialect/KDRT/KDRTDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace kd {

#define GEN_PASS_DECL_KDLOWERTORUNTIME
#include "kd/Conversion/Passes.h.inc"

/// Reports (at the op's location) every op of a stage, evaluation or export
/// that has no runtime kernel on `target` ("cpu" or "gpu"). Fails if any.
mlir::LogicalResult checkRuntimeLegality(mlir::ModuleOp module, llvm::StringRef target);

#define GEN_PASS_REGISTRATION
#include "kd/Conversion/Passes.h.inc"

} // namespace kd

#endif // KD_CONVERSION_KDTOKDRT_KDTOKDRT_H

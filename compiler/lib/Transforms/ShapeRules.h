//===- ShapeRules.h - Exact result shapes of kd ops -------------*- C++ -*-===//
//
// The shape each kd op must produce, computed from its operands and
// attributes alone. Unlike the op verifiers, which accept a dynamic
// dimension wherever a static one is expected, these rules are exact: the
// batch dimension is dynamic and every other dimension is what the rule
// gives. Shared by --kd-verify-shapes and the passes that build new ops.
//
//===----------------------------------------------------------------------===//
#ifndef KD_LIB_TRANSFORMS_SHAPERULES_H
#define KD_LIB_TRANSFORMS_SHAPERULES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <string>

namespace kd {

/// The shape of `op`'s single result as its rule gives it from the operand
/// types, or nullopt for ops without a shape rule of their own (they are
/// checked by their traits or by the stage-level checks).
std::optional<llvm::SmallVector<int64_t>> inferResultShape(mlir::Operation *op);

/// "[?, 24, 14, 14]" for diagnostics.
std::string describeShape(llvm::ArrayRef<int64_t> shape);

/// Output size of a sliding window over `in`.
int64_t slidingWindowSize(int64_t in, int64_t pad, int64_t kernel, int64_t stride, int64_t dilation = 1);

} // namespace kd

#endif // KD_LIB_TRANSFORMS_SHAPERULES_H

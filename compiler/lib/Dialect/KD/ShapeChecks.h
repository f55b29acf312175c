//===- ShapeChecks.h - Helpers shared by kd op verifiers --------*- C++ -*-===//
#ifndef KD_LIB_DIALECT_KD_SHAPECHECKS_H
#define KD_LIB_DIALECT_KD_SHAPECHECKS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace kd {

/// True when two dimensions may be equal (either is dynamic).
inline bool dimsAgree(int64_t a, int64_t b) {
  return a == b || mlir::ShapedType::isDynamic(a) || mlir::ShapedType::isDynamic(b);
}

/// True when two shapes have the same rank and agreeing dimensions.
inline bool shapesAgree(mlir::RankedTensorType a, mlir::RankedTensorType b) {
  if (a.getRank() != b.getRank())
    return false;
  for (int64_t i = 0; i < a.getRank(); ++i)
    if (!dimsAgree(a.getDimSize(i), b.getDimSize(i)))
      return false;
  return true;
}

inline mlir::RankedTensorType rankedType(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}

/// "[?, 24, 14, 14]" for diagnostics.
std::string formatShape(mlir::RankedTensorType type);

/// Emits "<what> must have rank <rank>, got <type>" unless it has.
mlir::LogicalResult expectRank(mlir::Operation *op, mlir::Value value, int64_t rank,
                               llvm::StringRef what);

/// Emits an error unless `result` has the shape `expected`.
mlir::LogicalResult expectResultShape(mlir::Operation *op, mlir::Value result,
                                      llvm::ArrayRef<int64_t> expected);

} // namespace kd

#endif // KD_LIB_DIALECT_KD_SHAPECHECKS_H

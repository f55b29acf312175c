//===- KDOps.h - Ops of the kd dialect --------------------------*- C++ -*-===//
#ifndef KD_DIALECT_KD_KDOPS_H
#define KD_DIALECT_KD_KDOPS_H

#include "kd/Dialect/KD/KDDialect.h"
#include "kd/Dialect/KD/KDEnums.h"
#include "kd/Interfaces/DifferentiableOpInterface.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace kd {
/// The shared verifier of backward ops: `wanted` has `slots` flags (any
/// number when `slots` is 0) and the op has one result per true flag.
mlir::LogicalResult verifyGradientMask(mlir::Operation *op, llvm::ArrayRef<bool> wanted,
                                       int64_t slots);
} // namespace kd

#define GET_OP_CLASSES
#include "kd/Dialect/KD/KDOps.h.inc"

#endif // KD_DIALECT_KD_KDOPS_H

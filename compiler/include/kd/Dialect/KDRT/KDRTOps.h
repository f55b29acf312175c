//===- KDRTOps.h - Ops of the kdrt dialect ----------------------*- C++ -*-===//
#ifndef KD_DIALECT_KDRT_KDRTOPS_H
#define KD_DIALECT_KDRT_KDRTOPS_H

#include "kd/Dialect/KDRT/KDRTDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace kd::rt {
/// The shared verifier of kernel ops: operand counts match the runtime's
/// signatures (one character per operand: 'r' required, 'o' optional, '+'
/// one or more required, '*' zero or more required), required operands are not `kdrt.null`, and pair
/// attributes (stride, pad, dilation, kernel, output) hold two values.
mlir::LogicalResult verifyKernelOp(mlir::Operation *op, llvm::StringRef inSignature,
                                   llvm::StringRef outSignature);
} // namespace kd::rt

#define GET_OP_CLASSES
#include "kd/Dialect/KDRT/KDRTOps.h.inc"

#endif // KD_DIALECT_KDRT_KDRTOPS_H

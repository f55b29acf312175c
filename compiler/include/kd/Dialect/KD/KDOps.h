//===- KDOps.h - Ops of the kd dialect --------------------------*- C++ -*-===//
#ifndef KD_DIALECT_KD_KDOPS_H
#define KD_DIALECT_KD_KDOPS_H

#include "kd/Dialect/KD/KDDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "kd/Dialect/KD/KDOps.h.inc"

#endif // KD_DIALECT_KD_KDOPS_H

//===- KDEnums.h - Enumerations of kd ops -----------------------*- C++ -*-===//
#ifndef KD_DIALECT_KD_KDENUMS_H
#define KD_DIALECT_KD_KDENUMS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "kd/Dialect/KD/KDEnums.h.inc"

#endif // KD_DIALECT_KD_KDENUMS_H

//===- KDDialect.h - The high-level kd dialect ------------------*- C++ -*-===//
#ifndef KD_DIALECT_KD_KDDIALECT_H
#define KD_DIALECT_KD_KDDIALECT_H

#include "mlir/IR/Dialect.h"

#include "kd/Dialect/KD/KDOpsDialect.h.inc"

#endif // KD_DIALECT_KD_KDDIALECT_H

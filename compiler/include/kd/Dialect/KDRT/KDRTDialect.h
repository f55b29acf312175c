//===- KDRTDialect.h - The runtime-level kdrt dialect -----------*- C++ -*-===//
#ifndef KD_DIALECT_KDRT_KDRTDIALECT_H
#define KD_DIALECT_KDRT_KDRTDIALECT_H

#include "mlir/IR/Dialect.h"

#include "kd/Dialect/KDRT/KDRTOpsDialect.h.inc"

#endif // KD_DIALECT_KDRT_KDRTDIALECT_H

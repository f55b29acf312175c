//===- KDDialect.cpp ------------------------------------------------------===//
#include "kd/Dialect/KD/KDDialect.h"
#include "kd/Dialect/KD/KDOps.h"

#include "kd/Dialect/KD/KDOpsDialect.cpp.inc"
#include "kd/Dialect/KD/KDEnums.cpp.inc"

void kd::KDDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "kd/Dialect/KD/KDOps.cpp.inc"
      >();
}

//===- KDRTDialect.cpp ----------------------------------------------------===//
#include "kd/Dialect/KDRT/KDRTDialect.h"
#include "kd/Dialect/KDRT/KDRTOps.h"

#include "kd/Dialect/KDRT/KDRTOpsDialect.cpp.inc"

void kd::rt::KDRTDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "kd/Dialect/KDRT/KDRTOps.cpp.inc"
      >();
}

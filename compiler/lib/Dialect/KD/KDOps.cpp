//===- KDOps.cpp - Verifiers and folders of kd ops ------------------------===//
#include "kd/Dialect/KD/KDOps.h"

#define GET_OP_CLASSES
#include "kd/Dialect/KD/KDOps.cpp.inc"

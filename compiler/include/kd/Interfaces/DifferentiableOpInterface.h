//===- DifferentiableOpInterface.h - Backward rules of ops ------*- C++ -*-===//
#ifndef KD_INTERFACES_DIFFERENTIABLEOPINTERFACE_H
#define KD_INTERFACES_DIFFERENTIABLEOPINTERFACE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

#include "kd/Interfaces/DifferentiableOpInterface.h.inc"

#endif // KD_INTERFACES_DIFFERENTIABLEOPINTERFACE_H

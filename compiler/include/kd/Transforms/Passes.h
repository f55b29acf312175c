//===- Passes.h - The kd dialect's passes -----------------------*- C++ -*-===//
#ifndef KD_TRANSFORMS_PASSES_H
#define KD_TRANSFORMS_PASSES_H

#include "kd/Dialect/KD/KDDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <memory>

namespace kd {

#define GEN_PASS_DECL
#include "kd/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "kd/Transforms/Passes.h.inc"

} // namespace kd

#endif // KD_TRANSFORMS_PASSES_H

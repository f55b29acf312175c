//===- BackwardOps.cpp - The gradient mask of backward ops ----------------===//
#include "kd/Dialect/KD/KDOps.h"

using namespace mlir;

LogicalResult kd::verifyGradientMask(Operation *op, ArrayRef<bool> wanted, int64_t slots) {
  if (slots != 0 && int64_t(wanted.size()) != slots)
    return op->emitOpError() << "'wanted' must have " << slots << " flags, one per gradient, got "
                             << wanted.size();
  int64_t count = llvm::count(wanted, true);
  if (count != int64_t(op->getNumResults()))
    return op->emitOpError() << "wants " << count << " gradients but has " << op->getNumResults() << " results";
  if (count == 0)
    return op->emitOpError("computes no gradient");
  return success();
}

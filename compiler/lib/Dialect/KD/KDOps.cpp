//===- KDOps.cpp - Generated op classes and shared verifier helpers -------===//
#include "kd/Dialect/KD/KDOps.h"

#include "ShapeChecks.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;

std::string kd::formatShape(RankedTensorType type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << '[';
  llvm::interleaveComma(type.getShape(), os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << '?';
    else
      os << d;
  });
  os << ']';
  return text;
}

LogicalResult kd::expectRank(Operation *op, Value value, int64_t rank, StringRef what) {
  RankedTensorType type = rankedType(value);
  if (type.getRank() == rank)
    return success();
  return op->emitOpError() << what << " must have rank " << rank << ", got " << formatShape(type);
}

LogicalResult kd::expectResultShape(Operation *op, Value result, ArrayRef<int64_t> expected) {
  RankedTensorType type = rankedType(result);
  RankedTensorType want = RankedTensorType::get(expected, type.getElementType());
  if (shapesAgree(type, want))
    return success();
  return op->emitOpError() << "result shape " << formatShape(type) << " does not match the expected "
                           << formatShape(want);
}

#define GET_OP_CLASSES
#include "kd/Dialect/KD/KDOps.cpp.inc"

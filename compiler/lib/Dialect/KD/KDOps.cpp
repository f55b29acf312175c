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

/// `[w0, w1, ...]` with each double printed as MLIR prints an f64
/// attribute: the short decimal form when it reads back to the same bits,
/// else enough digits that it does. A DenseF64ArrayAttr's own printer uses
/// six significant digits, which loses computed weights such as 1 - 0.9.
static void printExactF64Array(OpAsmPrinter &printer, Operation *, DenseF64ArrayAttr values) {
  printer << '[';
  llvm::interleaveComma(values.asArrayRef(), printer, [&](double value) { printer.printFloat(APFloat(value)); });
  printer << ']';
}

static ParseResult parseExactF64Array(OpAsmParser &parser, DenseF64ArrayAttr &values) {
  SmallVector<double> parsed;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&]() -> ParseResult {
        double value;
        if (parser.parseFloat(value))
          return failure();
        parsed.push_back(value);
        return success();
      }))
    return failure();
  values = parser.getBuilder().getDenseF64ArrayAttr(parsed);
  return success();
}

#define GET_OP_CLASSES
#include "kd/Dialect/KD/KDOps.cpp.inc"

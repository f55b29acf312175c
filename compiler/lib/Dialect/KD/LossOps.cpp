//===- LossOps.cpp - Operand rules of the loss ops ------------------------===//
#include "kd/Dialect/KD/KDOps.h"

#include "ShapeChecks.h"

using namespace mlir;
using namespace kd;

/// Both operands have the same shape (kl, mse, l1, smooth_l1, cosine).
static LogicalResult verifySameShapes(Operation *op, Value lhs, Value rhs) {
  if (!shapesAgree(rankedType(lhs), rankedType(rhs)))
    return op->emitOpError() << "operand shapes " << formatShape(rankedType(lhs)) << " and "
                             << formatShape(rankedType(rhs)) << " must be equal";
  return success();
}

/// Logits [N, K].
static LogicalResult verifyLogits(Operation *op, Value logits) { return expectRank(op, logits, 2, "logits"); }

LogicalResult CrossEntropyLossOp::verify() {
  if (failed(verifyLogits(*this, getLogits())))
    return failure();
  double smoothing = getSmoothing().convertToDouble();
  if (smoothing < 0 || smoothing >= 1)
    return emitOpError() << "label smoothing " << smoothing << " must be in [0, 1)";
  RankedTensorType logits = rankedType(getLogits()), target = rankedType(getTarget());
  if (target.getElementType().isInteger(64)) {
    if (!dimsAgree(target.getDimSize(0), logits.getDimSize(0)))
      return emitOpError("labels and logits differ in batch size");
    return success();
  }
  if (!shapesAgree(logits, target))
    return emitOpError() << "soft targets " << formatShape(target) << " must have the logits' shape "
                         << formatShape(logits);
  return success();
}

LogicalResult KlDivLossOp::verify() {
  if (getTemperature().convertToDouble() <= 0)
    return emitOpError("temperature must be positive");
  return verifySameShapes(*this, getLhs(), getRhs());
}

LogicalResult MseLossOp::verify() { return verifySameShapes(*this, getLhs(), getRhs()); }
LogicalResult L1LossOp::verify() { return verifySameShapes(*this, getLhs(), getRhs()); }
LogicalResult SmoothL1LossOp::verify() {
  if (getBeta().convertToDouble() <= 0)
    return emitOpError("beta must be positive");
  return verifySameShapes(*this, getLhs(), getRhs());
}
LogicalResult CosineLossOp::verify() { return verifySameShapes(*this, getLhs(), getRhs()); }

LogicalResult AttentionTransferLossOp::verify() {
  if (failed(expectRank(*this, getLhs(), 4, "student feature")) ||
      failed(expectRank(*this, getRhs(), 4, "teacher feature")))
    return failure();
  RankedTensorType s = rankedType(getLhs()), t = rankedType(getRhs());
  if (!dimsAgree(s.getDimSize(2), t.getDimSize(2)) || !dimsAgree(s.getDimSize(3), t.getDimSize(3)))
    return emitOpError() << "features " << formatShape(s) << " and " << formatShape(t)
                         << " must have the same spatial size";
  return success();
}

static LogicalResult verifyEmbeddings(Operation *op, Value lhs, Value rhs) {
  RankedTensorType s = rankedType(lhs), t = rankedType(rhs);
  if (s.getRank() < 2 || t.getRank() < 2 || !dimsAgree(s.getDimSize(0), t.getDimSize(0)))
    return op->emitOpError("needs batched student and teacher features of the same batch size");
  return success();
}

LogicalResult RkdDistanceLossOp::verify() { return verifyEmbeddings(*this, getLhs(), getRhs()); }
LogicalResult RkdAngleLossOp::verify() { return verifyEmbeddings(*this, getLhs(), getRhs()); }

LogicalResult DkdLossOp::verify() {
  if (failed(verifyLogits(*this, getLhs())) || failed(verifySameShapes(*this, getLhs(), getRhs())))
    return failure();
  if (!dimsAgree(rankedType(getLabels()).getDimSize(0), rankedType(getLhs()).getDimSize(0)))
    return emitOpError("labels and logits differ in batch size");
  return success();
}

LogicalResult LossCombineOp::verify() {
  if (getLosses().empty())
    return emitOpError("needs at least one loss");
  if (getWeights().size() != getLosses().size())
    return emitOpError() << "has " << getLosses().size() << " losses but " << getWeights().size() << " weights";
  return success();
}

//===- FusedOps.cpp - Rules of the fused and folded ops -------------------===//
//
// The post-op chain must be one the runtime's PostOpChain can hold, with its
// operands in chain order; folded parameters keep the shapes of the ones
// they replace; a logit group's terms each name a CE or KL with its target.
//
//===----------------------------------------------------------------------===//
#include "kd/Dialect/KD/KDOps.h"

#include "ShapeChecks.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace kd;

/// The runtime's PostOpChain::kCapacity.
static constexpr int64_t kMaxPostOps = 6;

/// Checks the chain and its operands against `result`, whose dimension
/// `channelDim` is the one scale/shift index.
static LogicalResult verifyPostOps(Operation *op, ArrayAttr postOps, OperandRange operands,
                                   RankedTensorType result, int64_t channelDim) {
  if (postOps.empty())
    return op->emitOpError("has an empty post-op chain; use the unfused op");
  if (int64_t(postOps.size()) > kMaxPostOps)
    return op->emitOpError() << "has " << postOps.size() << " post-ops; the runtime holds at most "
                             << kMaxPostOps;
  size_t next = 0;
  auto take = [&](StringRef what) -> FailureOr<RankedTensorType> {
    if (next == operands.size())
      return op->emitOpError() << "post-op '" << what << "' has no operand left";
    return cast<RankedTensorType>(operands[next++].getType());
  };
  int64_t channels = result.getDimSize(channelDim);
  for (Attribute attr : postOps) {
    StringRef kind = cast<StringAttr>(attr).getValue();
    if (kind == "relu" || kind == "gelu" || kind == "sigmoid" || kind == "tanh")
      continue;
    if (kind == "sum") {
      FailureOr<RankedTensorType> residual = take(kind);
      if (failed(residual))
        return failure();
      if (!shapesAgree(*residual, result))
        return op->emitOpError() << "residual " << formatShape(*residual)
                                 << " must have the result's shape " << formatShape(result);
      continue;
    }
    if (kind == "scale_shift") {
      for (StringRef part : {"scale", "shift"}) {
        FailureOr<RankedTensorType> vector = take(kind);
        if (failed(vector))
          return failure();
        if (vector->getRank() != 1 || !dimsAgree(vector->getDimSize(0), channels))
          return op->emitOpError() << part << " " << formatShape(*vector) << " must be [" << channels
                                   << "], one per output channel";
      }
      continue;
    }
    return op->emitOpError() << "unknown post-op '" << kind
                             << "' (expected relu, gelu, sigmoid, tanh, sum or scale_shift)";
  }
  if (next != operands.size())
    return op->emitOpError() << "has " << operands.size() - next << " post-op operands no post-op reads";
  return success();
}

LogicalResult Conv2dFusedOp::verify() {
  if (failed(expectRank(*this, getInput(), 4, "input")) || failed(expectRank(*this, getWeight(), 4, "weight")) ||
      failed(expectRank(*this, getResult(), 4, "result")))
    return failure();
  RankedTensorType result = rankedType(getResult());
  if (getBias() && (rankedType(getBias()).getRank() != 1 ||
                    !dimsAgree(rankedType(getBias()).getDimSize(0), result.getDimSize(1))))
    return emitOpError("bias must have one value per output channel");
  return verifyPostOps(*this, getPostOps(), getPostOperands(), result, getChannelDim(result));
}

LogicalResult LinearFusedOp::verify() {
  if (failed(expectRank(*this, getWeight(), 2, "weight")))
    return failure();
  RankedTensorType result = rankedType(getResult());
  if (result.getRank() < 1)
    return emitOpError("result must have at least one dimension");
  if (!dimsAgree(rankedType(getWeight()).getDimSize(0), result.getDimSize(result.getRank() - 1)))
    return emitOpError("weight rows must equal the result's last dimension");
  return verifyPostOps(*this, getPostOps(), getPostOperands(), result, getChannelDim(result));
}

LogicalResult BatchNormScaleShiftOp::verify() {
  if (failed(expectRank(*this, getWeight(), 1, "weight")))
    return failure();
  if (getEps().convertToDouble() <= 0)
    return emitOpError("eps must be positive");
  return success();
}

LogicalResult FoldBatchNormOp::verify() {
  RankedTensorType weight = rankedType(getWeight());
  if (weight.getRank() < 2)
    return emitOpError() << "weight " << formatShape(weight) << " must have an output-channel dimension";
  if (getEps().convertToDouble() <= 0)
    return emitOpError("eps must be positive");
  int64_t channels = weight.getDimSize(0);
  SmallVector<Value> vectors = {getGamma(), getBeta(), getRunningMean(), getRunningVar()};
  if (getBias())
    vectors.push_back(getBias());
  for (Value vector : vectors) {
    RankedTensorType type = rankedType(vector);
    if (type.getRank() != 1 || !dimsAgree(type.getDimSize(0), channels))
      return emitOpError() << "batch-norm parameter " << formatShape(type) << " must be [" << channels
                           << "], one per output channel";
  }
  if (getFoldedWeight().getType() != weight)
    return emitOpError("the folded weight must have the weight's type");
  RankedTensorType foldedBias = rankedType(getFoldedBias());
  if (foldedBias.getRank() != 1 || !dimsAgree(foldedBias.getDimSize(0), channels))
    return emitOpError() << "the folded bias must be [" << channels << "]";
  return success();
}

/// A number-valued entry of a term dictionary.
static FailureOr<double> termNumber(Operation *op, DictionaryAttr term, StringRef key, size_t index) {
  auto value = term.getAs<FloatAttr>(key);
  if (!value)
    return op->emitOpError() << "term " << index << " needs a float '" << key << "'";
  return value.getValueAsDouble();
}

LogicalResult LogitLossGroupOp::verify() {
  if (failed(expectRank(*this, getLogits(), 2, "logits")))
    return failure();
  RankedTensorType logits = rankedType(getLogits());
  ArrayAttr terms = getTerms();
  if (terms.empty())
    return emitOpError("needs at least one term");
  if (terms.size() != getTargets().size() || terms.size() != getValues().size())
    return emitOpError() << "has " << terms.size() << " terms, " << getTargets().size() << " targets and "
                         << getValues().size() << " values; they must agree";
  for (auto [index, attr] : llvm::enumerate(terms)) {
    auto term = cast<DictionaryAttr>(attr);
    auto kind = term.getAs<StringAttr>("kind");
    if (!kind || (kind.getValue() != "ce" && kind.getValue() != "kl"))
      return emitOpError() << "term " << index << " must have kind \"ce\" or \"kl\"";
    if (failed(termNumber(*this, term, "weight", index)))
      return failure();
    RankedTensorType target = rankedType(getTargets()[index]);
    bool labels = target.getElementType().isInteger(64);
    if (kind.getValue() == "ce") {
      FailureOr<double> smoothing = termNumber(*this, term, "smoothing", index);
      if (failed(smoothing))
        return failure();
      if (*smoothing < 0 || *smoothing >= 1)
        return emitOpError() << "term " << index << ": label smoothing must be in [0, 1)";
      if (labels ? !dimsAgree(target.getDimSize(0), logits.getDimSize(0)) : !shapesAgree(target, logits))
        return emitOpError() << "term " << index << ": target " << formatShape(target)
                             << " does not match the logits " << formatShape(logits);
      continue;
    }
    FailureOr<double> temperature = termNumber(*this, term, "temperature", index);
    if (failed(temperature))
      return failure();
    if (*temperature <= 0)
      return emitOpError() << "term " << index << ": temperature must be positive";
    auto reduction = term.getAs<StringAttr>("reduction");
    if (!reduction || !symbolizeReduction(reduction.getValue()))
      return emitOpError() << "term " << index << " needs a reduction (batchmean, sum or mean)";
    if (!term.getAs<BoolAttr>("t2"))
      return emitOpError() << "term " << index << " needs a boolean 't2'";
    if (labels || !shapesAgree(target, logits))
      return emitOpError() << "term " << index << ": teacher logits " << formatShape(target)
                           << " must have the logits' shape " << formatShape(logits);
  }
  if (getGrad() && getGrad().getType() != logits)
    return emitOpError("the gradient must have the logits' type");
  return success();
}

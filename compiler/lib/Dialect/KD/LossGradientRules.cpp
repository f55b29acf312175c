//===- LossGradientRules.cpp - Gradients of the fused loss kernels --------===//
//
// Every loss of the runtime is one fused kernel writing the value and the
// gradients of `gradScale * value`; the backward of a loss op is therefore
// a `kd.loss.grad` of its value that names the wanted operands and carries
// the loss's weight. Each loss op says here which operands receive a
// gradient: both sides of the feature and relation losses (an adapter, a
// fusion module or another tap of the student may sit on either side; write
// `detach(x)` to hold one side fixed), only the prediction of `ce` and `kl`
// (labels, soft targets and the distribution `kl` matches are targets) and
// the student side of `dkd`. --kd-autodiff treats the other operands as
// constants, even when they are computed by a trained model: in
// self-distillation the deepest classifier teaching an exit through
// `kl(e, S.logits)` is a detached target, as in BYOT.
//
//===----------------------------------------------------------------------===//
#include "kd/Dialect/KD/KDOps.h"

#include <cmath>

using namespace mlir;
using namespace kd;

/// Builds the `kd.loss.grad` of `loss`; shared by every loss op.
static LogicalResult buildLossGrad(DifferentiableLossOpInterface loss, OpBuilder &b, double gradScale,
                                   ArrayRef<bool> wanted, SmallVectorImpl<Value> &operandGrads) {
  Operation *op = loss.getOperation();
  if (wanted.size() != op->getNumOperands())
    return op->emitOpError() << "backward asked with " << wanted.size() << " operand flags for "
                             << op->getNumOperands() << " operands";
  size_t base = operandGrads.size();
  operandGrads.append(op->getNumOperands(), Value());
  SmallVector<Type> gradTypes;
  for (auto [index, want] : llvm::enumerate(wanted)) {
    if (!want)
      continue;
    if (!loss.hasGradientSlot(unsigned(index)))
      return op->emitOpError() << "cannot pass a gradient to operand #" << index
                               << ": the runtime's fused kernel of this loss does not compute one";
    gradTypes.push_back(op->getOperand(unsigned(index)).getType());
  }
  if (gradTypes.empty())
    return success();
  auto grad = b.create<LossGradOp>(op->getLoc(), gradTypes, op->getResult(0), b.getF64FloatAttr(gradScale),
                                   b.getDenseBoolArrayAttr(wanted));
  unsigned next = 0;
  for (auto [index, want] : llvm::enumerate(wanted))
    if (want)
      operandGrads[base + index] = grad.getResult(next++);
  return success();
}

// One definition per loss op: which operands its kernel differentiates.
#define KD_LOSS_GRADIENT_RULE(OpClass, slotCondition)                                                        \
  bool OpClass::hasGradientSlot(unsigned index) { return slotCondition; }                                  \
  LogicalResult OpClass::buildLossBackward(OpBuilder &b, double gradScale, ArrayRef<bool> wanted,           \
                                           SmallVectorImpl<Value> &operandGrads) {                          \
    return buildLossGrad(*this, b, gradScale, wanted, operandGrads);                                         \
  }

// Labels and soft targets are data.
KD_LOSS_GRADIENT_RULE(CrossEntropyLossOp, index == 0)
// The target distribution is a constant (the runtime's klDivLoss could
// write both sides; a reverse KL swaps them in lowering).
KD_LOSS_GRADIENT_RULE(KlDivLossOp, index == 0)
KD_LOSS_GRADIENT_RULE(MseLossOp, index < 2)
KD_LOSS_GRADIENT_RULE(L1LossOp, index < 2)
KD_LOSS_GRADIENT_RULE(SmoothL1LossOp, index < 2)
KD_LOSS_GRADIENT_RULE(CosineLossOp, index < 2)
KD_LOSS_GRADIENT_RULE(AttentionTransferLossOp, index < 2)
KD_LOSS_GRADIENT_RULE(RkdDistanceLossOp, index < 2)
KD_LOSS_GRADIENT_RULE(RkdAngleLossOp, index < 2)
// The teacher logits of DKD carry no gradient; labels are data.
KD_LOSS_GRADIENT_RULE(DkdLossOp, index == 0)

#undef KD_LOSS_GRADIENT_RULE

LogicalResult LossGradOp::verify() {
  auto loss = getLoss().getDefiningOp<DifferentiableLossOpInterface>();
  if (!loss)
    return emitOpError("operand must be the value of a loss op (kd.loss.ce, kd.loss.kl, ...)");
  Operation *lossOp = loss.getOperation();
  ArrayRef<bool> wanted = getWanted();
  if (wanted.size() != lossOp->getNumOperands())
    return emitOpError() << "'wanted' must have " << lossOp->getNumOperands() << " flags, one per operand of '"
                         << lossOp->getName() << "', got " << wanted.size();
  if (!std::isfinite(getScale().convertToDouble()))
    return emitOpError("scale must be finite");
  int64_t count = llvm::count(wanted, true);
  if (count == 0)
    return emitOpError("computes no gradient");
  if (count != int64_t(getNumResults()))
    return emitOpError() << "wants " << count << " gradients but has " << getNumResults() << " results";
  unsigned next = 0;
  for (auto [index, want] : llvm::enumerate(wanted)) {
    if (!want)
      continue;
    if (!loss.hasGradientSlot(unsigned(index)))
      return emitOpError() << "'" << lossOp->getName() << "' computes no gradient towards operand #" << index;
    Type operandType = lossOp->getOperand(unsigned(index)).getType();
    Type resultType = getResult(next++).getType();
    if (operandType != resultType)
      return emitOpError() << "gradient of operand #" << index << " has type " << resultType << ", not "
                           << operandType;
  }
  return success();
}

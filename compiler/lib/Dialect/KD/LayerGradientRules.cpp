//===- LayerGradientRules.cpp - Backward rules of the layer ops -----------===//
//
// DifferentiableOpInterface::buildBackward for every layer op: which
// runtime backward entry (`kd.<op>_bwd`) computes its gradients, which of
// the forward's values that entry reads, and which gradient slot belongs to
// which forward operand. The `wanted` mask of the backward op requests only
// the slots the autodiff pass asked for, so a gradient nobody reads (a
// frozen weight, a batch input) is never computed.
//
//===----------------------------------------------------------------------===//
#include "kd/Dialect/KD/KDOps.h"

using namespace mlir;
using namespace kd;

namespace {

/// Builds the backward op from the result types and mask of its wanted
/// gradient slots.
using BuildBackwardFn = llvm::function_ref<Operation *(TypeRange gradTypes, DenseBoolArrayAttr wanted)>;

/// No forward operand: the slot of an absent optional operand (a conv
/// without bias) is never wanted.
constexpr int kNoOperand = -1;

} // namespace

/// The shared part of every rule. `slotOperands[i]` is the forward operand
/// whose gradient slot `i` of the runtime entry writes. Appends one value
/// per forward operand to `operandGrads`: the slot's result where wanted,
/// null otherwise.
static LogicalResult buildFromSlots(Operation *forward, ValueRange resultGrads, ArrayRef<bool> wanted,
                                    ArrayRef<int> slotOperands, SmallVectorImpl<Value> &operandGrads,
                                    BuildBackwardFn build) {
  if (wanted.size() != forward->getNumOperands())
    return forward->emitOpError() << "backward asked with " << wanted.size() << " operand flags for "
                                  << forward->getNumOperands() << " operands";
  if (resultGrads.size() != forward->getNumResults())
    return forward->emitOpError() << "backward given " << resultGrads.size() << " result gradients for "
                                  << forward->getNumResults() << " results";
  size_t base = operandGrads.size();
  operandGrads.append(forward->getNumOperands(), Value());
  for (auto [index, want] : llvm::enumerate(wanted))
    if (want && !llvm::is_contained(slotOperands, int(index)))
      return forward->emitOpError() << "has no gradient towards operand #" << index
                                    << ": its runtime backward entry does not compute one";
  if (!resultGrads.front() || !llvm::is_contained(wanted, true))
    return success();

  SmallVector<bool> mask;
  SmallVector<Type> gradTypes;
  for (int operand : slotOperands) {
    bool slotWanted = operand != kNoOperand && wanted[size_t(operand)];
    mask.push_back(slotWanted);
    if (slotWanted)
      gradTypes.push_back(forward->getOperand(unsigned(operand)).getType());
  }
  Operation *backward = build(gradTypes, DenseBoolArrayAttr::get(forward->getContext(), mask));
  unsigned next = 0;
  for (int operand : slotOperands)
    if (operand != kNoOperand && wanted[size_t(operand)])
      operandGrads[base + size_t(operand)] = backward->getResult(next++);
  return success();
}

/// Slots 0..n-1 belong to operands 0..n-1.
static SmallVector<int> identitySlots(unsigned count) {
  SmallVector<int> slots;
  for (unsigned i = 0; i < count; ++i)
    slots.push_back(int(i));
  return slots;
}

/// Slots (input, weight, bias) of an op whose operands are input, weight
/// and an optional bias.
static SmallVector<int> inputWeightBiasSlots(Value bias) { return {0, 1, bias ? 2 : kNoOperand}; }

//===----------------------------------------------------------------------===//
// Convolution and dense layers
//===----------------------------------------------------------------------===//

LogicalResult Conv2dOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                      SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, inputWeightBiasSlots(getBias()), operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<Conv2dBwdOp>(getLoc(), types, getInput(), getWeight(), resultGrads[0],
                                                       getStrideAttr(), getPadAttr(), getDilationAttr(),
                                                       getGroupsAttr(), mask);
                        });
}

LogicalResult LinearOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                      SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, inputWeightBiasSlots(getBias()), operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<LinearBwdOp>(getLoc(), types, getInput(), getWeight(), resultGrads[0],
                                                       mask);
                        });
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

// The running statistics are state, never trained: they have no slot.
LogicalResult BatchNormOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                         SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0, 1, 2}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<BatchNormBwdOp>(getLoc(), types, getInput(), getWeight(),
                                                          getRunningMean(), getRunningVar(), resultGrads[0],
                                                          getEpsAttr(), getMomentumAttr(), mask);
                        });
}

LogicalResult LayerNormOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                         SmallVectorImpl<Value> &operandGrads) {
  // Scale and shift are both optional, so their operand numbers depend on
  // which are present.
  int weightIndex = getWeight() ? 1 : kNoOperand;
  int biasIndex = getBias() ? (getWeight() ? 2 : 1) : kNoOperand;
  return buildFromSlots(*this, resultGrads, wanted, {0, weightIndex, biasIndex}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<LayerNormBwdOp>(getLoc(), types, getInput(), getWeight(), resultGrads[0],
                                                          getNormalizedRankAttr(), getEpsAttr(), mask);
                        });
}

LogicalResult GroupNormOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                         SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0, 1, 2}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<GroupNormBwdOp>(getLoc(), types, getInput(), getWeight(), resultGrads[0],
                                                          getGroupsAttr(), getEpsAttr(), mask);
                        });
}

LogicalResult L2NormalizeOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                           SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<L2NormalizeBwdOp>(getLoc(), types, getInput(), resultGrads[0],
                                                            getEpsAttr(), mask);
                        });
}

//===----------------------------------------------------------------------===//
// Elementwise activations and softmax
//===----------------------------------------------------------------------===//

/// The activations share one backward entry that reads the forward input.
static LogicalResult activationBackward(Operation *forward, ActivationKind kind, OpBuilder &b,
                                        ValueRange resultGrads, ArrayRef<bool> wanted,
                                        SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(forward, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<ActivationBwdOp>(forward->getLoc(), types, forward->getOperand(0),
                                                           resultGrads[0],
                                                           ActivationKindAttr::get(b.getContext(), kind), mask);
                        });
}

LogicalResult ReluOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                    SmallVectorImpl<Value> &operandGrads) {
  return activationBackward(*this, ActivationKind::Relu, b, resultGrads, wanted, operandGrads);
}

LogicalResult GeluOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                    SmallVectorImpl<Value> &operandGrads) {
  return activationBackward(*this, ActivationKind::Gelu, b, resultGrads, wanted, operandGrads);
}

LogicalResult SigmoidOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                       SmallVectorImpl<Value> &operandGrads) {
  return activationBackward(*this, ActivationKind::Sigmoid, b, resultGrads, wanted, operandGrads);
}

LogicalResult TanhOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                    SmallVectorImpl<Value> &operandGrads) {
  return activationBackward(*this, ActivationKind::Tanh, b, resultGrads, wanted, operandGrads);
}

// The softmax backward reads the forward's output, not its input.
LogicalResult SoftmaxOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                       SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<SoftmaxBwdOp>(getLoc(), types, getResult(), resultGrads[0],
                                                        getTemperatureAttr(), getLogAttr(), mask);
                        });
}

// The mask is a pure function of (seed, element index), so the backward
// redraws it from the seed instead of reading the forward.
LogicalResult DropoutOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                       SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<DropoutBwdOp>(getLoc(), types, resultGrads[0], getPAttr(), getSeedAttr(),
                                                        mask);
                        });
}

//===----------------------------------------------------------------------===//
// Pooling and resizing
//===----------------------------------------------------------------------===//

LogicalResult Pool2dOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                      SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<Pool2dBwdOp>(getLoc(), types, getInput(), resultGrads[0], getModeAttr(),
                                                       getKernelAttr(), getStrideAttr(), getPadAttr(),
                                                       getCountIncludePadAttr(), mask);
                        });
}

LogicalResult AdaptivePoolOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                            SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<AdaptivePoolBwdOp>(getLoc(), types, getInput(), resultGrads[0],
                                                             getModeAttr(), getOutputSizeAttr(), mask);
                        });
}

LogicalResult ResizeOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                      SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<ResizeBwdOp>(getLoc(), types, resultGrads[0], getModeAttr(),
                                                       getOutputSizeAttr(), mask);
                        });
}

//===----------------------------------------------------------------------===//
// Tensor plumbing
//===----------------------------------------------------------------------===//

/// add and mul share one backward entry; the rhs gradient is reduced over
/// the dimensions the forward broadcast, so it has the rhs's type.
static LogicalResult binaryBackward(Operation *forward, BinaryKind kind, OpBuilder &b, ValueRange resultGrads,
                                    ArrayRef<bool> wanted, SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(forward, resultGrads, wanted, {0, 1}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<BinaryBwdOp>(forward->getLoc(), types, forward->getOperand(0),
                                                       forward->getOperand(1), resultGrads[0],
                                                       BinaryKindAttr::get(b.getContext(), kind), mask);
                        });
}

LogicalResult AddOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                   SmallVectorImpl<Value> &operandGrads) {
  return binaryBackward(*this, BinaryKind::Add, b, resultGrads, wanted, operandGrads);
}

LogicalResult MulOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                   SmallVectorImpl<Value> &operandGrads) {
  return binaryBackward(*this, BinaryKind::Mul, b, resultGrads, wanted, operandGrads);
}

LogicalResult ConcatOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                      SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, identitySlots(getNumOperands()), operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<ConcatBwdOp>(getLoc(), types, resultGrads[0], getAxisAttr(), mask);
                        });
}

LogicalResult ReshapeOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                       SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<ReshapeBwdOp>(getLoc(), types, resultGrads[0], mask);
                        });
}

LogicalResult MatMulOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                      SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0, 1}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<MatMulBwdOp>(getLoc(), types, getLhs(), getRhs(), resultGrads[0],
                                                       getTransposeLhsAttr(), getTransposeRhsAttr(), mask);
                        });
}

//===----------------------------------------------------------------------===//
// Attention and tokens
//===----------------------------------------------------------------------===//

LogicalResult MultiHeadAttentionOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                                  SmallVectorImpl<Value> &operandGrads) {
  // Operand i is gradient slot i: the runtime entry writes the input's
  // gradient, then the projections' in operand order.
  return buildFromSlots(*this, resultGrads, wanted, {0, 1, 2, 3, 4, 5, 6, 7, 8}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<MultiHeadAttentionBwdOp>(
                              getLoc(), types, getInput(), getQWeight(), getQBias(), getKWeight(), getKBias(),
                              getVWeight(), getVBias(), getOutWeight(), getOutBias(), resultGrads[0],
                              getNumHeadsAttr(), mask);
                        });
}

LogicalResult AttentionPoolOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                             SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, inputWeightBiasSlots(getBias()), operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<AttentionPoolBwdOp>(getLoc(), types, getInput(), getWeight(), getBias(),
                                                              resultGrads[0], mask);
                        });
}

LogicalResult TokensOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                      SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<TokensBwdOp>(getLoc(), types, resultGrads[0], mask);
                        });
}

LogicalResult ClsTokenOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                        SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0, 1}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<ClsTokenBwdOp>(getLoc(), types, resultGrads[0], mask);
                        });
}

LogicalResult PosEmbedOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                        SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0, 1}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<PosEmbedBwdOp>(getLoc(), types, resultGrads[0], mask);
                        });
}

LogicalResult SelectTokenOp::buildBackward(OpBuilder &b, ValueRange resultGrads, ArrayRef<bool> wanted,
                                           SmallVectorImpl<Value> &operandGrads) {
  return buildFromSlots(*this, resultGrads, wanted, {0}, operandGrads,
                        [&](TypeRange types, DenseBoolArrayAttr mask) {
                          return b.create<SelectTokenBwdOp>(getLoc(), types, resultGrads[0], getIndexAttr(), mask);
                        });
}

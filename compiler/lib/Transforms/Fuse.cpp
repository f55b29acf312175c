//===- Fuse.cpp - Post-op fusion and shared log-softmax of logit losses ---===//
//
// Two fusions, each one runtime call instead of several:
//  * a conv2d / linear and the ops after it become one op with a post-op
//    chain (kdrt::PostOpChain). Inference graphs fuse an inference batch
//    norm (as scale_shift), activations and residual adds. Training graphs
//    fuse only one relu / sigmoid / tanh, and only where the backward of the
//    activation feeds nothing but the layer's own backward: the fused
//    backward recovers the activation's slope from the post-activation
//    output, so the pre-activation value is no longer kept. A layer of a
//    training stage whose weight is frozen (a teacher's) runs as inference
//    and takes the inference chain, a batch norm only if it uses its
//    running statistics; values a backward op reads (gradients flowing
//    through a frozen block) have a second reader and so end the chain.
//  * CE and KL losses of the same logits become one kd.loss.logit_group:
//    one log-softmax per temperature instead of one per loss.
// A value read by anything outside the chain (a tap read by a loss, a
// second layer) ends the chain: fusing it away would lose the value.
//
//===----------------------------------------------------------------------===//
#include "FrozenMarks.h"
#include "GraphKind.h"

#include "kd/Dialect/KD/KDOps.h"
#include "kd/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace kd {
#define GEN_PASS_DEF_KDFUSE
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

/// The runtime's PostOpChain::kCapacity.
constexpr size_t kMaxPostOps = 6;

/// The post-op name of an activation op, or empty.
StringRef activationName(Operation *op) {
  if (isa<ReluOp>(op))
    return "relu";
  if (isa<GeluOp>(op))
    return "gelu";
  if (isa<SigmoidOp>(op))
    return "sigmoid";
  if (isa<TanhOp>(op))
    return "tanh";
  return {};
}

std::optional<ActivationKind> activationKind(Operation *op) {
  if (isa<ReluOp>(op))
    return ActivationKind::Relu;
  if (isa<SigmoidOp>(op))
    return ActivationKind::Sigmoid;
  if (isa<TanhOp>(op))
    return ActivationKind::Tanh;
  return std::nullopt;
}

/// The ops folded into one fused op and what they add to it.
struct Chain {
  SmallVector<Operation *> ops;
  SmallVector<Attribute> postOps;
  SmallVector<Value> postOperands;
};

/// The anchor's operands: input, weight, optional bias.
struct LayerOperands {
  Value input, weight, bias;
};

std::optional<LayerOperands> layerOperands(Operation *anchor) {
  if (auto conv = dyn_cast<Conv2dOp>(anchor))
    return LayerOperands{conv.getInput(), conv.getWeight(), conv.getBias()};
  if (auto linear = dyn_cast<LinearOp>(anchor))
    return LayerOperands{linear.getInput(), linear.getWeight(), linear.getBias()};
  return std::nullopt;
}

/// Builds the fused op of `anchor` with `chain` at the chain's last op and
/// makes it replace the last op's result.
Value buildFused(Operation *anchor, const Chain &chain) {
  Operation *last = chain.ops.back();
  OpBuilder builder(last);
  LayerOperands operands = *layerOperands(anchor);
  ArrayAttr postOps = builder.getArrayAttr(chain.postOps);
  Location loc = builder.getFusedLoc({anchor->getLoc(), last->getLoc()});
  Type type = last->getResult(0).getType();
  Value fused;
  if (auto conv = dyn_cast<Conv2dOp>(anchor))
    fused = builder.create<Conv2dFusedOp>(loc, type, operands.input, operands.weight, operands.bias,
                                          chain.postOperands, postOps, conv.getStrideAttr(), conv.getPadAttr(),
                                          conv.getDilationAttr(), conv.getGroupsAttr());
  else
    fused = builder.create<LinearFusedOp>(loc, type, operands.input, operands.weight, operands.bias,
                                          chain.postOperands, postOps);
  last->getResult(0).replaceAllUsesWith(fused);
  for (Operation *op : llvm::reverse(chain.ops))
    op->erase();
  anchor->erase();
  return fused;
}

/// Inference: batch norm, activations and residual adds, as long as each
/// value has the next op of the chain as its only reader. In a training
/// stage (`inStage`) a batch norm joins only if it runs on its running
/// statistics (a frozen model's); one on batch statistics ends the chain.
/// Returns whether anything fused.
bool fuseInference(Operation *anchor, bool inStage) {
  Chain chain;
  Value current = anchor->getResult(0);
  while (chain.postOps.size() < kMaxPostOps && current.hasOneUse()) {
    Operation *user = *current.getUsers().begin();
    Builder builder(user->getContext());
    if (auto norm = dyn_cast<BatchNormOp>(user)) {
      if (norm.getInput() != current || (inStage && !norm->hasAttr(kInferenceAttrName)))
        break;
      OpBuilder at(norm);
      auto scaleShift = at.create<BatchNormScaleShiftOp>(
          norm.getLoc(), norm.getWeight().getType(), norm.getWeight().getType(), norm.getWeight(),
          norm.getBias(), norm.getRunningMean(), norm.getRunningVar(), norm.getEpsAttr());
      chain.postOps.push_back(builder.getStringAttr("scale_shift"));
      chain.postOperands.append({scaleShift.getScale(), scaleShift.getShift()});
    } else if (StringRef name = activationName(user); !name.empty()) {
      chain.postOps.push_back(builder.getStringAttr(name));
    } else if (auto add = dyn_cast<AddOp>(user)) {
      Value residual = add.getLhs() == current ? add.getRhs() : add.getLhs();
      // A broadcast add or x + x is not a residual sum.
      if (residual.getType() != current.getType() || residual == current)
        break;
      chain.postOps.push_back(builder.getStringAttr("sum"));
      chain.postOperands.push_back(residual);
    } else {
      break;
    }
    chain.ops.push_back(user);
    current = user->getResult(0);
  }
  if (chain.ops.empty())
    return false;
  buildFused(anchor, chain);
  return true;
}

/// Whether `anchor`, in a training stage, computes with a frozen weight (a
/// frozen teacher's layer): it runs as inference, so its chain may take the
/// inference fusion.
bool hasFrozenWeight(Operation *anchor) {
  auto param = layerOperands(anchor)->weight.getDefiningOp<ParamOp>();
  return param && param->hasAttr(kFrozenAttrName);
}

/// Training: one trailing relu / sigmoid / tanh. The layer's result may be
/// read only by the activation and by the activation's backward, and that
/// backward's gradient only by the layer's own backward.
void fuseTraining(Operation *anchor) {
  Value preActivation = anchor->getResult(0);
  Operation *activation = nullptr;
  SmallVector<ActivationBwdOp> activationGrads;
  for (Operation *user : preActivation.getUsers()) {
    if (auto grad = dyn_cast<ActivationBwdOp>(user)) {
      if (grad.getInput() != preActivation)
        return;
      activationGrads.push_back(grad);
      continue;
    }
    if (activation || !activationKind(user))
      return;
    activation = user;
  }
  if (!activation)
    return;
  ActivationKind kind = *activationKind(activation);
  SmallVector<Operation *> layerGrads;
  for (ActivationBwdOp grad : activationGrads) {
    if (grad.getKind() != kind || grad.getNumResults() != 1)
      return;
    for (Operation *user : grad->getResult(0).getUsers()) {
      bool ownBackward = false;
      if (auto convGrad = dyn_cast<Conv2dBwdOp>(user))
        ownBackward = isa<Conv2dOp>(anchor) && convGrad.getGradOutput() == grad->getResult(0) &&
                      convGrad.getInput() == anchor->getOperand(0) && convGrad.getWeight() == anchor->getOperand(1);
      if (auto linearGrad = dyn_cast<LinearBwdOp>(user))
        ownBackward = isa<LinearOp>(anchor) && linearGrad.getGradOutput() == grad->getResult(0) &&
                      linearGrad.getInput() == anchor->getOperand(0) &&
                      linearGrad.getWeight() == anchor->getOperand(1);
      if (!ownBackward)
        return;
      layerGrads.push_back(user);
    }
  }

  Chain chain;
  chain.ops.push_back(activation);
  chain.postOps.push_back(Builder(anchor->getContext()).getStringAttr(activationName(activation)));
  LayerOperands operands = *layerOperands(anchor);
  Attribute stride, pad, dilation, groups;
  if (auto conv = dyn_cast<Conv2dOp>(anchor)) {
    stride = conv.getStrideAttr();
    pad = conv.getPadAttr();
    dilation = conv.getDilationAttr();
    groups = conv.getGroupsAttr();
  }
  // The activation backward ops read the pre-activation value buildFused
  // erases: keep their incoming gradients and drop their operands first, so
  // no use of an erased value is left behind.
  llvm::DenseMap<Operation *, Value> incomingGradient;
  for (ActivationBwdOp grad : activationGrads) {
    incomingGradient[grad] = grad.getGradOutput();
    grad->dropAllReferences();
  }
  Value output = buildFused(anchor, chain);

  // Each layer backward now reads the post-activation output and the
  // activation's incoming gradient.
  for (Operation *layerGrad : layerGrads) {
    Value gradOutput =
        incomingGradient.lookup(layerGrad->getOperand(layerGrad->getNumOperands() - 1).getDefiningOp());
    OpBuilder builder(layerGrad);
    Location loc = layerGrad->getLoc();
    auto activationAttr = ActivationKindAttr::get(builder.getContext(), kind);
    Operation *fusedGrad;
    if (auto convGrad = dyn_cast<Conv2dBwdOp>(layerGrad))
      fusedGrad = builder.create<Conv2dFusedBwdOp>(
          loc, layerGrad->getResultTypes(), operands.input, operands.weight, output, gradOutput,
          cast<DenseI64ArrayAttr>(stride), cast<DenseI64ArrayAttr>(pad), cast<DenseI64ArrayAttr>(dilation),
          cast<IntegerAttr>(groups), activationAttr, convGrad.getWantedAttr());
    else
      fusedGrad = builder.create<LinearFusedBwdOp>(loc, layerGrad->getResultTypes(), operands.input,
                                                   operands.weight, output, gradOutput, activationAttr,
                                                   cast<LinearBwdOp>(layerGrad).getWantedAttr());
    layerGrad->replaceAllUsesWith(fusedGrad->getResults());
    layerGrad->erase();
  }
  for (ActivationBwdOp grad : activationGrads)
    grad->erase();
}

/// A CE or KL loss that can join a group on its logits: its value is read
/// by one loss.combine and, in a differentiated stage, by one kd.loss.grad
/// that asks for the logits' gradient only (the group offers no target
/// gradient).
struct GroupMember {
  Operation *loss;
  LossCombineOp combine;
  unsigned combineIndex;
  LossGradOp grad; // null when the loss has no gradient (frozen or weight 0)
};

std::optional<GroupMember> groupMember(Operation *loss) {
  GroupMember member{loss, LossCombineOp(), 0, LossGradOp()};
  for (OpOperand &use : loss->getResult(0).getUses()) {
    Operation *user = use.getOwner();
    if (auto combine = dyn_cast<LossCombineOp>(user); combine && !member.combine) {
      member.combine = combine;
      member.combineIndex = use.getOperandNumber();
      continue;
    }
    if (auto grad = dyn_cast<LossGradOp>(user); grad && !member.grad) {
      ArrayRef<bool> wanted = grad.getWanted();
      if (wanted.empty() || !wanted.front() || llvm::is_contained(wanted.drop_front(), true))
        return std::nullopt;
      member.grad = grad;
      continue;
    }
    return std::nullopt;
  }
  if (!member.combine)
    return std::nullopt;
  return member;
}

/// The kd.add ops autodiff built to sum exactly the members' logits
/// gradients (in any association), and that sum; nothing when the gradients
/// are read elsewhere or summed together with other gradients, since the
/// group then cannot replace them with its one gradient.
struct GradientSum {
  Value sum;
  SmallVector<AddOp> adds;
};

std::optional<GradientSum> memberGradientSum(ArrayRef<GroupMember> members) {
  llvm::MapVector<Value, unsigned> covered; // value -> member gradients it sums
  for (GroupMember member : members)
    if (member.grad)
      covered[member.grad.getResult(0)] = 1;
  unsigned total = covered.size();
  GradientSum result;
  for (bool changed = true; changed;) {
    changed = false;
    for (unsigned i = 0; i < covered.size(); ++i) {
      auto [value, count] = *(covered.begin() + i);
      if (count == total)
        continue;
      if (!value.hasOneUse())
        return std::nullopt;
      auto add = dyn_cast<AddOp>(*value.getUsers().begin());
      if (!add || covered.count(add.getResult()))
        continue;
      Value other = add.getLhs() == value ? add.getRhs() : add.getLhs();
      auto it = covered.find(other);
      if (it == covered.end() || other == value)
        continue;
      unsigned sum = count + it->second;
      covered[add.getResult()] = sum;
      result.adds.push_back(add);
      changed = true;
    }
  }
  for (auto [value, count] : covered) {
    if (count == total) {
      result.sum = value;
      continue;
    }
    // A partial sum must feed the chain only.
    if (!value.hasOneUse() || !isa<AddOp>(*value.getUsers().begin()))
      return std::nullopt;
  }
  if (!result.sum)
    return std::nullopt;
  return result;
}

/// Replaces each set of two or more CE / KL losses on the same logits in
/// `block` by one kd.loss.logit_group. In a differentiated stage the group
/// also takes over the losses' kd.loss.grad ops and the kd.add ops summing
/// them: its `grad` is the weighted sum of the terms' gradients, each term
/// weighted by its loss.grad's scale (its weight in the minimised loss).
void groupLogitLosses(Block &block) {
  llvm::MapVector<Value, SmallVector<GroupMember>> byLogits;
  for (Operation &op : block) {
    Value logits;
    if (auto ce = dyn_cast<CrossEntropyLossOp>(op))
      logits = ce.getLogits();
    // A reverse KL reads the student as the target distribution: another
    // softmax, not a shared one.
    else if (auto kl = dyn_cast<KlDivLossOp>(op); kl && !kl.getReverse())
      logits = kl.getLhs();
    else
      continue;
    if (std::optional<GroupMember> member = groupMember(&op))
      byLogits[logits].push_back(*member);
  }
  for (auto &[logits, members] : byLogits) {
    if (members.size() < 2)
      continue;
    bool differentiated = llvm::any_of(members, [](const GroupMember &m) { return bool(m.grad); });
    std::optional<GradientSum> gradientSum;
    if (differentiated) {
      gradientSum = memberGradientSum(members);
      if (!gradientSum)
        continue; // the separate kernels stay, each writing its gradient
    }
    Operation *last = members.back().loss;
    OpBuilder builder(last);
    SmallVector<Attribute> terms;
    SmallVector<Value> targets;
    SmallVector<Location> locs;
    for (GroupMember &member : members) {
      // Without gradients the weight only documents the term; with them it
      // is the runtime's gradScale, 0 for a loss autodiff left without one.
      double weight = member.combine.getWeights()[member.combineIndex];
      if (differentiated)
        weight = member.grad ? member.grad.getScale().convertToDouble() : 0.0;
      SmallVector<NamedAttribute> fields;
      fields.push_back(builder.getNamedAttr("weight", builder.getF64FloatAttr(weight)));
      if (auto ce = dyn_cast<CrossEntropyLossOp>(member.loss)) {
        fields.push_back(builder.getNamedAttr("kind", builder.getStringAttr("ce")));
        fields.push_back(builder.getNamedAttr("smoothing", ce.getSmoothingAttr()));
        targets.push_back(ce.getTarget());
      } else {
        auto kl = cast<KlDivLossOp>(member.loss);
        fields.push_back(builder.getNamedAttr("kind", builder.getStringAttr("kl")));
        fields.push_back(builder.getNamedAttr("temperature", kl.getTemperatureAttr()));
        fields.push_back(
            builder.getNamedAttr("reduction", builder.getStringAttr(stringifyReduction(kl.getReduction()))));
        fields.push_back(builder.getNamedAttr("t2", kl.getT2Attr()));
        targets.push_back(kl.getRhs());
      }
      terms.push_back(builder.getDictionaryAttr(fields));
      locs.push_back(member.loss->getLoc());
    }
    SmallVector<Type> valueTypes(members.size(), members.front().loss->getResult(0).getType());
    Type gradType = differentiated ? logits.getType() : Type();
    auto group = builder.create<LogitLossGroupOp>(builder.getFusedLoc(locs), valueTypes, gradType, logits, targets,
                                                  builder.getArrayAttr(terms));
    if (gradientSum) {
      gradientSum->sum.replaceAllUsesWith(group.getGrad());
      // Later adds read earlier ones: erase from the last built.
      llvm::sort(gradientSum->adds, [](AddOp a, AddOp b) { return b->isBeforeInBlock(a); });
      for (AddOp add : gradientSum->adds)
        add->erase();
      for (GroupMember &member : members)
        if (member.grad)
          member.grad->erase();
    }
    for (auto [member, value] : llvm::zip(members, group.getValues())) {
      member.loss->getResult(0).replaceAllUsesWith(value);
      member.loss->erase();
    }
  }
}

struct KdFuse : kd::impl::KdFuseBase<KdFuse> {
  void runOnOperation() override {
    SmallVector<Operation *> anchors;
    SmallVector<Block *> lossBlocks;
    getOperation().walk([&](Operation *op) {
      if (isa<Conv2dOp, LinearOp>(op) && graphKindOf(op) != GraphKind::Other)
        anchors.push_back(op);
      if (isa<StageOp, EvaluateOp>(op) && !op->getRegion(0).empty())
        lossBlocks.push_back(&op->getRegion(0).front());
    });
    for (Operation *anchor : anchors) {
      if (graphKindOf(anchor) == GraphKind::Inference)
        fuseInference(anchor, /*inStage=*/false);
      else if (!hasFrozenWeight(anchor) || !fuseInference(anchor, /*inStage=*/true))
        fuseTraining(anchor);
    }
    for (Block *block : lossBlocks)
      groupLogitLosses(*block);
  }
};

} // namespace

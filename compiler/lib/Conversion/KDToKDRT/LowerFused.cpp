//===- LowerFused.cpp - Ops built by --kd-fuse to runtime kernels ---------===//
//
// The plan's conv2d.fwd / linear.fwd take the chain as `post_ops`, the
// tensors it reads after the layer's input, weight and bias (a sum's
// residual, a scale_shift's scale and shift); their backward entries take
// none. So:
//
//  - a fused layer becomes one kernel with its `post_ops`;
//    kd.bn_scale_shift becomes a batch_norm_scale_shift kernel writing the
//    scale and shift from the running statistics;
//  - but a training layer whose fused backward needs the pre-activation
//    (a trailing sigmoid or tanh: the runtime's activation backward reads
//    the activation's input; relu's mask is the same read from its output,
//    so relu stays fused) keeps its activation as its own kernel on a
//    pre-activation buffer; and for a target without
//    batch_norm_scale_shift (GPU), a chain with a scale_shift is unfused:
//    `sum` becomes add.fwd, `scale_shift` an inference batch_norm.fwd on the
//    running statistics, the same values the fused chain computes;
//  - kd.<layer>_fused_bwd becomes the activation's backward, then the
//    layer's;
//  - kd.loss.logit_group becomes one logit_loss_group kernel, which writes
//    every term's value and the weighted sum of the terms' gradients into
//    the one logits gradient. For a target without that entry (GPU) it is
//    one CE / KL kernel per term, each writing its value and its gradient
//    with the term's weight as grad_scale, and a scale_add of those
//    gradients when there are several.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "kd/Dialect/KD/KDOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kd;
using namespace kd::lowering;
namespace rt = kd::rt;

namespace {

std::optional<ActivationKind> activationNamed(StringRef name) {
  return llvm::StringSwitch<std::optional<ActivationKind>>(name)
      .Case("relu", ActivationKind::Relu)
      .Case("gelu", ActivationKind::Gelu)
      .Case("sigmoid", ActivationKind::Sigmoid)
      .Case("tanh", ActivationKind::Tanh)
      .Default(std::nullopt);
}

double numberOr(DictionaryAttr dict, StringRef key, double fallback) {
  if (auto f = dict.getAs<FloatAttr>(key))
    return f.getValueAsDouble();
  if (auto i = dict.getAs<IntegerAttr>(key))
    return double(i.getInt());
  return fallback;
}

} // namespace

/// One activation kernel, forward or backward, by kind.
static void activationKernel(OpBuilder &b, Location loc, ActivationKind kind, bool backward, ValueRange ins,
                             Value out) {
  auto create = [&](StringRef name) {
    OperationState state(loc, name);
    state.addOperands(ins);
    state.addOperands(out);
    state.addAttribute("operandSegmentSizes", b.getDenseI32ArrayAttr({int32_t(ins.size()), 1}));
    b.create(state);
  };
  std::string name = ("kdrt." + stringifyActivationKind(kind) + (backward ? ".bwd" : ".fwd")).str();
  create(name);
}

LogicalResult GraphLowering::lowerPostOps(Operation *op, Value raw, ArrayAttr postOps, ValueRange postOperands) {
  OpBuilder &b = builder;
  Location loc = op->getLoc();
  MemRefType type = cast<MemRefType>(raw.getType());
  Value current = raw;
  unsigned next = 0;
  for (auto [index, entry] : llvm::enumerate(postOps)) {
    StringRef kind = cast<StringAttr>(entry).getValue();
    bool last = index + 1 == postOps.size();
    Value target = last ? define(op->getResult(0)) : scratch(type);
    if (std::optional<ActivationKind> activation = activationNamed(kind)) {
      activationKernel(b, loc, *activation, /*backward=*/false, {current}, target);
    } else if (kind == "sum") {
      kernel<rt::AddFwdOp>(loc, {current, operand(postOperands[next++])}, {target});
    } else if (kind == "scale_shift") {
      auto bn = postOperands[next].getDefiningOp<BatchNormScaleShiftOp>();
      if (!bn || postOperands[next + 1].getDefiningOp<BatchNormScaleShiftOp>() != bn)
        return op->emitError("a scale_shift post-op has a runtime kernel only as an inference batch norm "
                             "(operands of one kd.bn_scale_shift)");
      next += 2;
      kernel<rt::BatchNormFwdOp>(loc,
                                 {current, operand(bn.getWeight()), operand(bn.getBias()),
                                  operand(bn.getRunningMean()), operand(bn.getRunningVar())},
                                 {target},
                                 {b.getNamedAttr("training", b.getBoolAttr(false)),
                                  b.getNamedAttr("eps", b.getF64FloatAttr(bn.getEps().convertToDouble())),
                                  b.getNamedAttr("momentum", b.getF64FloatAttr(0.1))});
    } else {
      return op->emitError() << "post-op '" << kind << "' has no runtime kernel";
    }
    current = target;
  }
  return success();
}

LogicalResult GraphLowering::lowerFused(Operation *op) {
  OpBuilder &b = builder;
  Location loc = op->getLoc();
  auto pairAttr = [&](StringRef name, ArrayRef<int64_t> v) { return b.getNamedAttr(name, b.getDenseI64ArrayAttr(v)); };

  // A fused conv / linear: the layer kernel, then its chain.
  auto lowerLayer = [&](Value input, Value weight, Value bias, ArrayAttr postOps, ValueRange postOperands,
                        auto createLayer) -> LogicalResult {
    SmallVector<Value> ins = {operand(input), operand(weight), bias ? operand(bias) : null()};
    Value result = op->getResult(0);
    bool scaleShift =
        llvm::any_of(postOps, [](Attribute a) { return cast<StringAttr>(a).getValue() == "scale_shift"; });
    bool keepsInput = training && !postOps.empty() &&
                      cast<StringAttr>(postOps[postOps.size() - 1]).getValue() != "relu" &&
                      llvm::any_of(result.getUsers(), [](Operation *user) {
                        return isa<Conv2dFusedBwdOp, LinearFusedBwdOp>(user);
                      });
    if (!keepsInput && (!scaleShift || scaleShiftKernel)) {
      SmallVector<Attribute> chain;
      for (Attribute a : postOps)
        chain.push_back(b.getDictionaryAttr({b.getNamedAttr("kind", a)}));
      for (Value tensor : postOperands)
        ins.push_back(operand(tensor));
      Operation *layer = createLayer(ins, define(result));
      if (!chain.empty())
        layer->setAttr("post_ops", b.getArrayAttr(chain));
      return success();
    }
    Value raw = scratch(memrefFor(result.getType()));
    createLayer(ins, raw);
    if (keepsInput)
      preActivations[result] = raw;
    return lowerPostOps(op, raw, postOps, postOperands);
  };

  // A fused backward: the activation's backward, then the layer's.
  auto lowerLayerBackward = [&](Operation *bwd, Value input, Value weight, Value output, Value gradOutput,
                                ActivationKind activation, ArrayRef<bool> wanted, auto createLayer) -> LogicalResult {
    Value gradPre = scratch(memrefFor(gradOutput.getType()));
    Value activationInput = operand(output);
    if (activation != ActivationKind::Relu) {
      activationInput = preActivations.lookup(output);
      if (!activationInput)
        return bwd->emitError("the fused forward of this backward kept no pre-activation buffer");
    }
    activationKernel(b, loc, activation, /*backward=*/true, {activationInput, operand(gradOutput)}, gradPre);
    SmallVector<Value> outs;
    unsigned next = 0;
    for (bool want : wanted)
      outs.push_back(want ? define(bwd->getResult(next++)) : null());
    createLayer(ValueRange{operand(input), operand(weight), gradPre}, outs);
    return success();
  };

  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](Conv2dFusedOp conv) {
        SmallVector<NamedAttribute> attrs = convForwardAttrs(b, conv);
        return lowerLayer(conv.getInput(), conv.getWeight(), conv.getBias(), conv.getPostOps(),
                          conv.getPostOperands(), [&](ValueRange ins, Value out) -> Operation * {
                            return kernel<rt::Conv2dFwdOp>(loc, ins, {out}, attrs);
                          });
      })
      .Case([&](LinearFusedOp linear) {
        return lowerLayer(linear.getInput(), linear.getWeight(), linear.getBias(), linear.getPostOps(),
                          linear.getPostOperands(), [&](ValueRange ins, Value out) -> Operation * {
                            return kernel<rt::LinearFwdOp>(loc, ins, {out});
                          });
      })
      .Case([&](Conv2dFusedBwdOp conv) {
        SmallVector<NamedAttribute> attrs = {pairAttr("stride", conv.getStride()), pairAttr("pad", conv.getPad()),
                                             pairAttr("dilation", conv.getDilation()),
                                             b.getNamedAttr("groups", b.getI64IntegerAttr(conv.getGroups()))};
        return lowerLayerBackward(conv, conv.getInput(), conv.getWeight(), conv.getOutput(), conv.getGradOutput(),
                                  conv.getActivation(), conv.getWanted(), [&](ValueRange ins, ValueRange outs) {
                                    kernel<rt::Conv2dBwdOp>(loc, ins, outs, attrs);
                                  });
      })
      .Case([&](LinearFusedBwdOp linear) {
        return lowerLayerBackward(linear, linear.getInput(), linear.getWeight(), linear.getOutput(),
                                  linear.getGradOutput(), linear.getActivation(), linear.getWanted(),
                                  [&](ValueRange ins, ValueRange outs) { kernel<rt::LinearBwdOp>(loc, ins, outs); });
      })
      .Case([&](LogitLossGroupOp group) -> LogicalResult {
        if (logitLossGroupKernel)
          return lowerLogitLossGroup(group);
        Value logits = operand(group.getLogits());
        ArrayAttr terms = group.getTerms();
        Value grad = group.getGrad();
        SmallVector<Value> termGrads;
        for (auto [index, entry] : llvm::enumerate(terms)) {
          auto term = cast<DictionaryAttr>(entry);
          Value target = group.getTargets()[index];
          Value termGrad;
          if (grad)
            termGrad = terms.size() == 1 ? define(grad) : scratch(memrefFor(grad.getType()));
          if (termGrad)
            termGrads.push_back(termGrad);
          Value gradOut = termGrad ? termGrad : null();
          NamedAttribute scale = b.getNamedAttr("grad_scale", b.getF64FloatAttr(numberOr(term, "weight", 1.0)));
          StringAttr kind = term.getAs<StringAttr>("kind");
          if (kind && kind.getValue() == "ce") {
            bool soft = isa<FloatType>(cast<RankedTensorType>(target.getType()).getElementType());
            kernel<rt::CrossEntropyLossOp>(
                loc, {logits, operand(target)}, {define(group.getValues()[index]), gradOut},
                {b.getNamedAttr("label_smoothing", b.getF64FloatAttr(numberOr(term, "smoothing", 0.0))),
                 b.getNamedAttr("soft_targets", b.getBoolAttr(soft)), scale});
          } else if (kind && kind.getValue() == "kl") {
            auto reduction = term.getAs<StringAttr>("reduction");
            auto t2 = term.getAs<BoolAttr>("t2");
            kernel<rt::KlDivLossOp>(
                loc, {logits, operand(target)}, {define(group.getValues()[index]), gradOut, null()},
                {b.getNamedAttr("temperature", b.getF64FloatAttr(numberOr(term, "temperature", 1.0))),
                 b.getNamedAttr("scale_by_temperature_squared", b.getBoolAttr(t2 && t2.getValue())),
                 b.getNamedAttr("reduction", reduction ? reduction : b.getStringAttr("batchmean")), scale});
          } else {
            return group.emitError() << "logit group term " << index << " is neither 'ce' nor 'kl'";
          }
        }
        if (grad && termGrads.size() > 1)
          kernel<rt::ScaleAddOp>(loc, termGrads, {define(grad)},
                                 {b.getNamedAttr("scales", b.getDenseF64ArrayAttr(SmallVector<double>(termGrads.size(), 1.0)))});
        return success();
      })
      .Default([](Operation *other) { return other->emitError("is not an op of --kd-fuse"); });
}

LogicalResult GraphLowering::lowerLogitLossGroup(LogitLossGroupOp group) {
  OpBuilder &b = builder;
  SmallVector<Value> ins = {operand(group.getLogits())};
  for (Value target : group.getTargets())
    ins.push_back(operand(target));
  SmallVector<Value> outs;
  for (Value value : group.getValues())
    outs.push_back(define(value));
  outs.push_back(group.getGrad() ? define(group.getGrad()) : null());
  // The runtime's LogitLossTerm fields, named as the separate loss kernels
  // name them.
  SmallVector<Attribute> terms;
  for (auto [index, entry] : llvm::enumerate(group.getTerms())) {
    auto term = cast<DictionaryAttr>(entry);
    auto number = [&](StringRef key, double fallback) {
      return b.getF64FloatAttr(numberOr(term, key, fallback));
    };
    SmallVector<NamedAttribute> fields = {b.getNamedAttr("weight", number("weight", 1.0))};
    StringAttr kind = term.getAs<StringAttr>("kind");
    if (kind && kind.getValue() == "ce") {
      bool soft = isa<FloatType>(cast<RankedTensorType>(group.getTargets()[index].getType()).getElementType());
      fields.push_back(b.getNamedAttr("kind", kind));
      fields.push_back(b.getNamedAttr("label_smoothing", number("smoothing", 0.0)));
      fields.push_back(b.getNamedAttr("soft_targets", b.getBoolAttr(soft)));
    } else if (kind && kind.getValue() == "kl") {
      auto reduction = term.getAs<StringAttr>("reduction");
      auto t2 = term.getAs<BoolAttr>("t2");
      fields.push_back(b.getNamedAttr("kind", kind));
      fields.push_back(b.getNamedAttr("temperature", number("temperature", 1.0)));
      fields.push_back(b.getNamedAttr("reduction", reduction ? reduction : b.getStringAttr("batchmean")));
      fields.push_back(b.getNamedAttr("scale_by_temperature_squared", b.getBoolAttr(t2 && t2.getValue())));
    } else {
      return group.emitError() << "logit group term " << index << " is neither 'ce' nor 'kl'";
    }
    terms.push_back(b.getDictionaryAttr(fields));
  }
  kernel<rt::LogitLossGroupOp>(group.getLoc(), ins, outs, {b.getNamedAttr("terms", b.getArrayAttr(terms))});
  return success();
}

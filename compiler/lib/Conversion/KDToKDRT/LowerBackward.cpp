//===- LowerBackward.cpp - Losses and backward ops to runtime kernels -----===//
//
// A loss becomes its fused runtime kernel, which writes the value and, in
// the same call, the gradients of `grad_scale * value` that the loss's
// kd.loss.grad (created by autodiff) asks for; the kd.loss.grad itself
// then lowers to nothing. Without one (a loss of frozen values only, or a
// module before autodiff) the gradient slots are kdrt.null. A backward op's
// results fill the `wanted` gradient slots of its runtime entry in order;
// unwanted slots get kdrt.null.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "kd/Dialect/KD/KDOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kd::lowering;
namespace rt = kd::rt;

FailureOr<kd::LossGradOp> GraphLowering::lossGradientOf(Operation *loss) {
  kd::LossGradOp found;
  for (Operation *user : loss->getResult(0).getUsers()) {
    auto grad = dyn_cast<kd::LossGradOp>(user);
    if (!grad)
      continue;
    if (found)
      return loss->emitError("the loss has more than one kd.loss.grad; the fused kernel writes its gradients once");
    found = grad;
  }
  return found;
}

SmallVector<Value> GraphLowering::lossOutputs(Operation *loss, kd::LossGradOp grad, unsigned slots,
                                              bool swapped) {
  SmallVector<Value> outs = {define(loss->getResult(0))};
  // wanted[i] is the kd operand i; the kernel's gradient slot i is its
  // input i, which for a reversed KL is the kd operand 1 - i.
  SmallVector<Value> byOperand(loss->getNumOperands());
  if (grad) {
    // The kernel writes these with the loss value; the memory plan keeps
    // a kd.loss.grad result alive from its loss op on.
    unsigned next = 0;
    for (auto [index, wanted] : llvm::enumerate(grad.getWanted()))
      if (wanted)
        byOperand[index] = define(grad.getResult(next++));
  }
  for (unsigned slot = 0; slot < slots; ++slot) {
    unsigned kdOperand = swapped ? 1 - slot : slot;
    Value buffer = kdOperand < byOperand.size() ? byOperand[kdOperand] : Value();
    outs.push_back(buffer ? buffer : null());
  }
  return outs;
}

LogicalResult GraphLowering::lowerLoss(Operation *op) {
  OpBuilder &b = builder;
  Location loc = op->getLoc();
  FailureOr<kd::LossGradOp> grad = lossGradientOf(op);
  if (failed(grad))
    return failure();
  auto f64 = [&](StringRef name, double v) { return b.getNamedAttr(name, b.getF64FloatAttr(v)); };
  auto in = [&](unsigned i) { return operand(op->getOperand(i)); };
  NamedAttribute scale = f64("grad_scale", *grad ? grad->getScale().convertToDouble() : 1.0);
  auto outs = [&](unsigned slots, bool swapped = false) { return lossOutputs(op, *grad, slots, swapped); };
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](kd::CrossEntropyLossOp ce) {
        bool soft = isa<FloatType>(cast<RankedTensorType>(ce.getTarget().getType()).getElementType());
        kernel<rt::CrossEntropyLossOp>(loc, {in(0), in(1)}, outs(1),
                                       {f64("label_smoothing", ce.getSmoothing().convertToDouble()),
                                        b.getNamedAttr("soft_targets", b.getBoolAttr(soft)), scale});
        return success();
      })
      .Case([&](kd::KlDivLossOp kl) {
        // reverse KL(s || t) is the runtime's KL with the roles swapped.
        Value student = in(0), teacher = in(1);
        if (kl.getReverse())
          std::swap(student, teacher);
        kernel<rt::KlDivLossOp>(loc, {student, teacher}, outs(2, kl.getReverse()),
                                {f64("temperature", kl.getTemperature().convertToDouble()),
                                 b.getNamedAttr("scale_by_temperature_squared", b.getBoolAttr(kl.getT2())),
                                 b.getNamedAttr("reduction", b.getStringAttr(stringifyReduction(kl.getReduction()))),
                                 scale});
        return success();
      })
      .Case([&](kd::MseLossOp) { return kernel<rt::MseLossOp>(loc, {in(0), in(1)}, outs(2), {scale}), success(); })
      .Case([&](kd::L1LossOp) { return kernel<rt::L1LossOp>(loc, {in(0), in(1)}, outs(2), {scale}), success(); })
      .Case([&](kd::SmoothL1LossOp l) {
        kernel<rt::SmoothL1LossOp>(loc, {in(0), in(1)}, outs(2), {f64("beta", l.getBeta().convertToDouble()), scale});
        return success();
      })
      .Case([&](kd::CosineLossOp) {
        return kernel<rt::CosineLossOp>(loc, {in(0), in(1)}, outs(2), {scale}), success();
      })
      .Case([&](kd::AttentionTransferLossOp l) {
        kernel<rt::AttentionTransferLossOp>(loc, {in(0), in(1)}, outs(2), {f64("p", l.getP().convertToDouble()), scale});
        return success();
      })
      .Case([&](kd::RkdDistanceLossOp) {
        return kernel<rt::RkdDistanceLossOp>(loc, {in(0), in(1)}, outs(2), {scale}), success();
      })
      .Case([&](kd::RkdAngleLossOp) {
        return kernel<rt::RkdAngleLossOp>(loc, {in(0), in(1)}, outs(2), {scale}), success();
      })
      .Case([&](kd::DkdLossOp l) {
        kernel<rt::DkdLossOp>(loc, {in(0), in(1), in(2)}, outs(1),
                              {f64("alpha", l.getAlpha().convertToDouble()),
                               f64("beta", l.getBeta().convertToDouble()),
                               f64("temperature", l.getTemperature().convertToDouble()), scale});
        return success();
      })
      .Default([](Operation *other) { return other->emitError("is not a fused loss kernel"); });
}

LogicalResult GraphLowering::lowerBackward(Operation *op) {
  OpBuilder &b = builder;
  Location loc = op->getLoc();
  auto wantedAttr = op->getAttrOfType<DenseBoolArrayAttr>("wanted");
  if (!wantedAttr || !op->getName().getStringRef().ends_with("_bwd"))
    return op->emitError() << "'" << op->getName() << "' has no runtime kernel";
  // A dropout that drops nothing was an identity forward (no mask ran):
  // its backward copies the gradient through (a copy, not an alias, so the
  // result lives at its own planned offset).
  if (auto dropout = dyn_cast<kd::DropoutBwdOp>(op); dropout && dropout.getP().convertToDouble() == 0.0) {
    if (op->getNumResults() == 1)
      kernel<rt::ScaleAddOp>(op->getLoc(), {operand(op->getOperand(0))}, {define(op->getResult(0))},
                             {builder.getNamedAttr("scales", builder.getDenseF64ArrayAttr({1.0}))});
    return success();
  }
  // One out operand per gradient slot: the next result where wanted.
  SmallVector<Value> outs;
  unsigned next = 0;
  for (bool wanted : wantedAttr.asArrayRef())
    outs.push_back(wanted ? define(op->getResult(next++)) : null());
  SmallVector<Value> ins;
  for (Value v : op->getOperands())
    ins.push_back(operand(v));
  auto f64 = [&](StringRef name, double v) { return b.getNamedAttr(name, b.getF64FloatAttr(v)); };
  auto i64 = [&](StringRef name, int64_t v) { return b.getNamedAttr(name, b.getI64IntegerAttr(v)); };
  auto flag = [&](StringRef name, bool v) { return b.getNamedAttr(name, b.getBoolAttr(v)); };
  auto pairAttr = [&](StringRef name, ArrayRef<int64_t> v) { return b.getNamedAttr(name, b.getDenseI64ArrayAttr(v)); };
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](kd::Conv2dBwdOp c) {
        kernel<rt::Conv2dBwdOp>(loc, ins, outs,
                                {pairAttr("stride", c.getStride()), pairAttr("pad", c.getPad()),
                                 pairAttr("dilation", c.getDilation()), i64("groups", c.getGroups())});
        return success();
      })
      .Case([&](kd::LinearBwdOp) { return kernel<rt::LinearBwdOp>(loc, ins, outs), success(); })
      .Case([&](kd::BatchNormBwdOp bn) {
        // The statistics the forward normalised with: the batch's where the
        // stage trains this batch norm, the running ones where it is frozen
        // (a teacher block a gradient flows through, inside a graft hybrid).
        auto weight = bn.getWeight().getDefiningOp<kd::ParamOp>();
        bool trains = weight && trainedParameters.contains(weight.getName());
        kernel<rt::BatchNormBwdOp>(loc, ins, outs,
                                   {flag("training", trains), f64("eps", bn.getEps().convertToDouble()),
                                    f64("momentum", bn.getMomentum().convertToDouble())});
        return success();
      })
      .Case([&](kd::LayerNormBwdOp ln) {
        kernel<rt::LayerNormBwdOp>(loc, {operand(ln.getInput()), operand(ln.getWeight()), operand(ln.getGradOutput())},
                                   outs, {i64("normalized_rank", ln.getNormalizedRank()),
                                          f64("eps", ln.getEps().convertToDouble())});
        return success();
      })
      .Case([&](kd::GroupNormBwdOp gn) {
        kernel<rt::GroupNormBwdOp>(loc, ins, outs,
                                   {i64("groups", gn.getGroups()), f64("eps", gn.getEps().convertToDouble())});
        return success();
      })
      .Case([&](kd::ActivationBwdOp act) {
        switch (act.getKind()) {
        case kd::ActivationKind::Relu: kernel<rt::ReluBwdOp>(loc, ins, outs); break;
        case kd::ActivationKind::Gelu: kernel<rt::GeluBwdOp>(loc, ins, outs); break;
        case kd::ActivationKind::Sigmoid: kernel<rt::SigmoidBwdOp>(loc, ins, outs); break;
        case kd::ActivationKind::Tanh: kernel<rt::TanhBwdOp>(loc, ins, outs); break;
        }
        return success();
      })
      .Case([&](kd::SoftmaxBwdOp sm) {
        NamedAttribute t = f64("temperature", sm.getTemperature().convertToDouble());
        if (sm.getLog())
          kernel<rt::LogSoftmaxBwdOp>(loc, ins, outs, {t});
        else
          kernel<rt::SoftmaxBwdOp>(loc, ins, outs, {t});
        return success();
      })
      .Case([&](kd::Pool2dBwdOp pool) {
        SmallVector<NamedAttribute> attrs = {pairAttr("kernel", pool.getKernel()), pairAttr("stride", pool.getStride()),
                                             pairAttr("pad", pool.getPad()),
                                             flag("count_include_pad", pool.getCountIncludePad())};
        if (pool.getMode() == kd::PoolMode::Max)
          kernel<rt::MaxPool2dBwdOp>(loc, ins, outs, attrs);
        else
          kernel<rt::AvgPool2dBwdOp>(loc, ins, outs, attrs);
        return success();
      })
      .Case([&](kd::AdaptivePoolBwdOp pool) {
        ArrayRef<int64_t> size = pool.getOutputSize();
        if (pool.getMode() == kd::PoolMode::Avg && size == ArrayRef<int64_t>{1, 1})
          kernel<rt::GlobalAvgPoolBwdOp>(loc, ins, outs);
        else if (pool.getMode() == kd::PoolMode::Avg)
          kernel<rt::AdaptiveAvgPoolBwdOp>(loc, ins, outs, {pairAttr("output", size)});
        else
          kernel<rt::AdaptiveMaxPoolBwdOp>(loc, ins, outs, {pairAttr("output", size)});
        return success();
      })
      .Case([&](kd::ResizeBwdOp r) {
        kernel<rt::ResizeBwdOp>(loc, ins, outs,
                                {b.getNamedAttr("mode", b.getStringAttr(stringifyResizeMode(r.getMode()))),
                                 pairAttr("output", r.getOutputSize())});
        return success();
      })
      .Case([&](kd::BinaryBwdOp bin) {
        if (bin.getKind() == kd::BinaryKind::Add)
          kernel<rt::AddBwdOp>(loc, ins, outs);
        else
          kernel<rt::MulBwdOp>(loc, ins, outs);
        return success();
      })
      .Case([&](kd::ConcatBwdOp c) {
        return kernel<rt::ConcatBwdOp>(loc, ins, outs, {i64("axis", c.getAxis())}), success();
      })
      .Case([&](kd::ReshapeBwdOp) { return kernel<rt::ReshapeBwdOp>(loc, ins, outs), success(); })
      .Case([&](kd::DropoutBwdOp d) -> LogicalResult {
        auto mask = dropoutMasks.find(d.getSeed());
        if (mask == dropoutMasks.end())
          return d.emitError() << "no dropout with seed " << d.getSeed() << " ran before its backward";
        kernel<rt::DropoutBwdOp>(loc, {mask->second, ins[0]}, outs,
                                 {f64("p", d.getP().convertToDouble()), i64("seed", d.getSeed())});
        return success();
      })
      .Case([&](kd::MatMulBwdOp mm) {
        kernel<rt::MatMulBwdOp>(loc, ins, outs,
                                {flag("transpose_lhs", mm.getTransposeLhs()),
                                 flag("transpose_rhs", mm.getTransposeRhs())});
        return success();
      })
      .Case([&](kd::L2NormalizeBwdOp n) {
        return kernel<rt::L2NormalizeBwdOp>(loc, ins, outs, {f64("eps", n.getEps().convertToDouble())}), success();
      })
      .Case([&](kd::MultiHeadAttentionBwdOp mha) {
        kernel<rt::MultiHeadAttentionBwdOp>(loc, ins, outs, {i64("num_heads", mha.getNumHeads())});
        return success();
      })
      .Case([&](kd::AttentionPoolBwdOp ap) {
        kernel<rt::AttentionPoolBwdOp>(loc, {operand(ap.getInput()), operand(ap.getWeight()), operand(ap.getBias()),
                                             operand(ap.getGradOutput())},
                                       outs);
        return success();
      })
      .Case([&](kd::TokensBwdOp) { return kernel<rt::TokensBwdOp>(loc, ins, outs), success(); })
      .Case([&](kd::ClsTokenBwdOp) { return kernel<rt::ClsTokenPrependBwdOp>(loc, ins, outs), success(); })
      .Case([&](kd::PosEmbedBwdOp) { return kernel<rt::PositionEmbeddingAddBwdOp>(loc, ins, outs), success(); })
      .Case([&](kd::SelectTokenBwdOp st) {
        return kernel<rt::SelectTokenBwdOp>(loc, ins, outs, {i64("index", st.getIndex())}), success();
      })
      .Default([&](Operation *other) {
        return other->emitError() << "'" << other->getName() << "' has no runtime kernel";
      });
}

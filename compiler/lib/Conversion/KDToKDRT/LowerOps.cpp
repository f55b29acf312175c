//===- LowerOps.cpp - One kd op to its runtime kernel ---------------------===//
//
// Destination-passing lowering: each kd result gets an arena buffer (or the
// gradient a kd.param_grad binds it to), and the kernel writes it. Operand
// orders follow the runtime's backend entries (runtime/include/kdrt/
// Backend.h); a backward op's results fill the `wanted` gradient slots in
// order, the others get kdrt.null.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "kd/Dialect/KD/KDOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kd;
using namespace kd::lowering;
namespace rt = kd::rt;

static constexpr int64_t kAlignment = 64;

MemRefType GraphLowering::memrefFor(Type kdType) {
  auto tensor = cast<RankedTensorType>(kdType);
  SmallVector<int64_t> shape(tensor.getShape());
  for (int64_t &dim : shape)
    if (ShapedType::isDynamic(dim))
      dim = batch;
  // Labels travel as f32 (the runtime's loss kernels read them so).
  return MemRefType::get(shape, builder.getF32Type());
}

Value GraphLowering::newBuffer(MemRefType type, std::optional<int64_t> plannedOffset) {
  int64_t bytes = type.getNumElements() * int64_t(sizeof(float));
  int64_t offset = plannedOffset ? *plannedOffset : (arenaEnd + kAlignment - 1) / kAlignment * kAlignment;
  arenaEnd = std::max(arenaEnd, offset + bytes);
  return builder.create<rt::BufferOp>(builder.getUnknownLoc(), type, nextId++, offset);
}

Value GraphLowering::scratch(MemRefType type) { return newBuffer(type, std::nullopt); }

Value GraphLowering::define(Value kdValue, bool usePlan) {
  // Already given a buffer ahead of its op (a cached teacher output).
  if (Value existing = values.lookupOrNull(kdValue))
    return existing;
  MemRefType type = memrefFor(kdValue.getType());
  auto name = gradientNames.find(kdValue);
  if (name != gradientNames.end()) {
    Value grad = builder.create<rt::GradOp>(kdValue.getLoc(), type, name->second);
    values.map(kdValue, grad);
    return grad;
  }
  // --kd-plan-memory records each value's offset on its defining op: an
  // `offset` for a single result, `offsets` with one entry per result.
  std::optional<int64_t> planned;
  if (Operation *def = usePlan ? kdValue.getDefiningOp() : nullptr) {
    unsigned index = cast<OpResult>(kdValue).getResultNumber();
    if (auto offsets = def->getAttrOfType<DenseI64ArrayAttr>("offsets");
        offsets && index < offsets.size() && offsets[index] >= 0)
      planned = offsets[index];
    else if (auto offset = def->getAttrOfType<IntegerAttr>("offset"); offset && def->getNumResults() == 1)
      planned = offset.getInt();
  }
  Value buffer = newBuffer(type, planned);
  // A value whose type has a static leading size does not follow the batch.
  if (auto tensor = dyn_cast<RankedTensorType>(kdValue.getType());
      tensor && tensor.getRank() > 0 && !tensor.isDynamicDim(0))
    buffer.getDefiningOp<rt::BufferOp>().setUnbatched(true);
  values.map(kdValue, buffer);
  return buffer;
}

Value GraphLowering::null() { return builder.create<rt::NullOp>(builder.getUnknownLoc(), builder.getNoneType()); }

Value GraphLowering::operand(Value kdValue) {
  if (!kdValue)
    return null();
  if (Value lowered = values.lookupOrNull(kdValue))
    return lowered;
  // A parameter read: kd.param in the stage (after inlining) or the model.
  if (auto param = kdValue.getDefiningOp<ParamOp>()) {
    Value lowered = builder.create<rt::ParamOp>(param.getLoc(), memrefFor(param.getType()), param.getName());
    values.map(kdValue, lowered);
    return lowered;
  }
  return {};
}

DictionaryAttr kd::lowering::inputTransform(Builder &b, DictionaryAttr transform) {
  if (!transform)
    return DictionaryAttr();
  // A centre crop of size x size, or a resize to h x w with the resize
  // layer's mode.
  auto kind = transform.getAs<StringAttr>("kind");
  if (kind && kind.getValue() == "crop") {
    Attribute size = transform.get("size");
    return b.getDictionaryAttr({b.getNamedAttr("op", b.getStringAttr("crop")), b.getNamedAttr("h", size),
                                b.getNamedAttr("w", size)});
  }
  SmallVector<NamedAttribute> fields = {b.getNamedAttr("op", b.getStringAttr("resize"))};
  for (StringRef key : {"h", "w", "mode"})
    if (Attribute v = transform.get(key))
      fields.push_back(b.getNamedAttr(key, v));
  return b.getDictionaryAttr(fields);
}

namespace {

NamedAttribute named(OpBuilder &b, StringRef name, Attribute value) { return b.getNamedAttr(name, value); }

StringRef activationName(ActivationKind kind) { return stringifyActivationKind(kind); }

} // namespace

bool kd::lowering::isLowerable(Operation *op) {
  return isa<ParamOp, BatchInputOp, BatchLabelsOp, Conv2dOp, LinearOp, BatchNormOp, LayerNormOp, GroupNormOp, ReluOp,
             GeluOp, SigmoidOp, TanhOp, SoftmaxOp, Pool2dOp, AdaptivePoolOp, ResizeOp, AddOp, MulOp, ConcatOp,
             ReshapeOp, DropoutOp, MatMulOp, L2NormalizeOp, MultiHeadAttentionOp, AttentionPoolOp, TokensOp, ClsTokenOp,
             PosEmbedOp, SelectTokenOp, MeanOp, TapOp, BlockBeginOp, OutputOp, MinimizeOp, ParamGradOp, CrossEntropyLossOp,
             KlDivLossOp, MseLossOp, L1LossOp, SmoothL1LossOp, CosineLossOp, AttentionTransferLossOp, RkdDistanceLossOp,
             RkdAngleLossOp, DkdLossOp, LossCombineOp, Conv2dBwdOp, LinearBwdOp, BatchNormBwdOp, LayerNormBwdOp,
             GroupNormBwdOp, ActivationBwdOp, SoftmaxBwdOp, Pool2dBwdOp, AdaptivePoolBwdOp, ResizeBwdOp, BinaryBwdOp,
             ConcatBwdOp, ReshapeBwdOp, DropoutBwdOp, MatMulBwdOp, L2NormalizeBwdOp, MultiHeadAttentionBwdOp,
             AttentionPoolBwdOp, TokensBwdOp, ClsTokenBwdOp, PosEmbedBwdOp, SelectTokenBwdOp, YieldOp, LossGradOp,
             Conv2dFusedOp, LinearFusedOp, Conv2dFusedBwdOp, LinearFusedBwdOp, BatchNormScaleShiftOp,
             LogitLossGroupOp, EnsembleOp, FoldBatchNormOp>(op);
}

std::string kd::lowering::ensembleWeightsName(EnsembleOp op) {
  return op.getEnsemble().value_or("").str() + "/weights";
}

bool kd::lowering::isFusedLossKernel(Operation *op) {
  return isa<CrossEntropyLossOp, KlDivLossOp, MseLossOp, L1LossOp, SmoothL1LossOp, CosineLossOp,
             AttentionTransferLossOp, RkdDistanceLossOp, RkdAngleLossOp, DkdLossOp>(op);
}

LogicalResult GraphLowering::lower(Operation *op) {
  OpBuilder &b = builder;
  Location loc = op->getLoc();
  // Operands first (parameters become kdrt.param on first use).
  SmallVector<Value> ins;
  for (Value v : op->getOperands()) {
    // The scale and shift of an inference batch norm are read by the
    // fused layer's post-ops, which lowerFused binds itself (without the
    // batch_norm_scale_shift kernel they are no buffers).
    if (v.getDefiningOp<BatchNormScaleShiftOp>()) {
      ins.push_back(Value());
      continue;
    }
    Value lowered = operand(v);
    if (!lowered)
      return op->emitError("operand is not defined by a lowered op");
    ins.push_back(lowered);
  }
  auto out = [&](unsigned i = 0) { return define(op->getResult(i)); };
  auto pairAttr = [&](StringRef name, ArrayRef<int64_t> v) { return named(b, name, b.getDenseI64ArrayAttr(v)); };
  auto f64 = [&](StringRef name, double v) { return named(b, name, b.getF64FloatAttr(v)); };
  auto i64 = [&](StringRef name, int64_t v) { return named(b, name, b.getI64IntegerAttr(v)); };
  auto flag = [&](StringRef name, bool v) { return named(b, name, b.getBoolAttr(v)); };

  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](ParamOp) { return success(); }) // lowered on first use
      .Case([&](TapOp) { return success(); })
      .Case([&](BlockBeginOp) { return success(); })
      .Case([&](BatchInputOp input) {
        // The executor writes every input before the step's first kernel;
        // the memory plan keeps inputs alive from the step's start.
        Value buffer = define(input.getResult());
        SmallVector<NamedAttribute> attrs;
        b.create<rt::LoadBatchOp>(loc, "image", buffer, inputTransform(b, input.getTransformAttr()));
        return success();
      })
      .Case([&](BatchLabelsOp labels) {
        b.create<rt::LoadBatchOp>(loc, "label", define(labels.getResult()), DictionaryAttr());
        return success();
      })
      .Case([&](Conv2dOp conv) {
        kernel<rt::Conv2dFwdOp>(loc, {ins[0], ins[1], conv.getBias() ? ins[2] : null()}, {out()},
                                convForwardAttrs(b, conv));
        return success();
      })
      .Case([&](LinearOp linear) {
        kernel<rt::LinearFwdOp>(loc, {ins[0], ins[1], linear.getBias() ? ins[2] : null()}, {out()});
        return success();
      })
      .Case([&](BatchNormOp bn) {
        // Batch statistics where the stage trains this batch norm (its
        // scale receives a gradient), running statistics otherwise.
        bool trains = training && trainedParameters.contains(bn.getWeight().getDefiningOp<ParamOp>()
                                                                 ? bn.getWeight().getDefiningOp<ParamOp>().getName()
                                                                 : "");
        kernel<rt::BatchNormFwdOp>(loc, ins, {out()},
                                   {flag("training", trains), f64("eps", bn.getEps().convertToDouble()),
                                    f64("momentum", bn.getMomentum().convertToDouble())});
        return success();
      })
      .Case([&](LayerNormOp ln) {
        kernel<rt::LayerNormFwdOp>(loc, {ins[0], ln.getWeight() ? operand(ln.getWeight()) : null(),
                                         ln.getBias() ? operand(ln.getBias()) : null()},
                                   {out()}, {i64("normalized_rank", ln.getNormalizedRank()),
                                             f64("eps", ln.getEps().convertToDouble())});
        return success();
      })
      .Case([&](GroupNormOp gn) {
        kernel<rt::GroupNormFwdOp>(loc, ins, {out()},
                                   {i64("groups", gn.getGroups()), f64("eps", gn.getEps().convertToDouble())});
        return success();
      })
      .Case([&](ReluOp) { return kernel<rt::ReluFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](GeluOp) { return kernel<rt::GeluFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](SigmoidOp) { return kernel<rt::SigmoidFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](TanhOp) { return kernel<rt::TanhFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](SoftmaxOp sm) {
        NamedAttribute t = f64("temperature", sm.getTemperature().convertToDouble());
        if (sm.getLog())
          kernel<rt::LogSoftmaxFwdOp>(loc, ins, {out()}, {t});
        else
          kernel<rt::SoftmaxFwdOp>(loc, ins, {out()}, {t});
        return success();
      })
      .Case([&](Pool2dOp pool) {
        SmallVector<NamedAttribute> attrs = {pairAttr("kernel", pool.getKernel()), pairAttr("stride", pool.getStride()),
                                             pairAttr("pad", pool.getPad()),
                                             flag("count_include_pad", pool.getCountIncludePad())};
        if (pool.getMode() == PoolMode::Max)
          kernel<rt::MaxPool2dFwdOp>(loc, ins, {out()}, attrs);
        else
          kernel<rt::AvgPool2dFwdOp>(loc, ins, {out()}, attrs);
        return success();
      })
      .Case([&](AdaptivePoolOp pool) {
        ArrayRef<int64_t> size = pool.getOutputSize();
        if (pool.getMode() == PoolMode::Avg && size == ArrayRef<int64_t>{1, 1})
          kernel<rt::GlobalAvgPoolFwdOp>(loc, ins, {out()});
        else if (pool.getMode() == PoolMode::Avg)
          kernel<rt::AdaptiveAvgPoolFwdOp>(loc, ins, {out()}, {pairAttr("output", size)});
        else
          kernel<rt::AdaptiveMaxPoolFwdOp>(loc, ins, {out()}, {pairAttr("output", size)});
        return success();
      })
      .Case([&](ResizeOp resize) {
        kernel<rt::ResizeFwdOp>(loc, ins, {out()},
                                {named(b, "mode", b.getStringAttr(stringifyResizeMode(resize.getMode()))),
                                 pairAttr("output", resize.getOutputSize())});
        return success();
      })
      .Case([&](AddOp) { return kernel<rt::AddFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](MulOp) { return kernel<rt::MulFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](ConcatOp concat) {
        return kernel<rt::ConcatFwdOp>(loc, ins, {out()}, {i64("axis", concat.getAxis())}), success();
      })
      .Case([&](ReshapeOp) { return kernel<rt::ReshapeFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](DropoutOp dropout) {
        if (!training) {
          // Identity outside training.
          values.map(dropout.getResult(), ins[0]);
          return success();
        }
        if (dropout.getP().convertToDouble() == 0.0) {
          // Nothing is dropped: a copy, so that the result lives at its own
          // planned offset rather than aliasing a buffer the plan may reuse.
          kernel<rt::ScaleAddOp>(loc, ins, {out()}, {named(b, "scales", b.getDenseF64ArrayAttr({1.0}))});
          return success();
        }
        Value y = out();
        Value mask = scratch(cast<MemRefType>(y.getType()));
        dropoutMasks[dropout.getSeed()] = mask;
        kernel<rt::DropoutFwdOp>(loc, ins, {y, mask},
                                 {f64("p", dropout.getP().convertToDouble()), i64("seed", dropout.getSeed())});
        return success();
      })
      .Case([&](MatMulOp mm) {
        kernel<rt::MatMulFwdOp>(loc, ins, {out()},
                                {flag("transpose_lhs", mm.getTransposeLhs()),
                                 flag("transpose_rhs", mm.getTransposeRhs())});
        return success();
      })
      .Case([&](L2NormalizeOp n) {
        return kernel<rt::L2NormalizeFwdOp>(loc, ins, {out()}, {f64("eps", n.getEps().convertToDouble())}),
               success();
      })
      .Case([&](MultiHeadAttentionOp mha) {
        // The kd operands are the runtime entry's, in its order.
        kernel<rt::MultiHeadAttentionFwdOp>(loc, ins, {out()}, {i64("num_heads", mha.getNumHeads())});
        return success();
      })
      .Case([&](AttentionPoolOp ap) {
        kernel<rt::AttentionPoolFwdOp>(loc, {ins[0], ins[1], ap.getBias() ? ins[2] : null()}, {out()});
        return success();
      })
      .Case([&](TokensOp) { return kernel<rt::TokensFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](ClsTokenOp) { return kernel<rt::ClsTokenPrependFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](PosEmbedOp) { return kernel<rt::PositionEmbeddingAddFwdOp>(loc, ins, {out()}), success(); })
      .Case([&](SelectTokenOp st) {
        return kernel<rt::SelectTokenFwdOp>(loc, ins, {out()}, {i64("index", st.getIndex())}), success();
      })
      .Case([&](LossCombineOp combine) {
        // The bias (a constant term of the loss) shifts the reported value
        // only: it has no gradient.
        SmallVector<NamedAttribute> attrs = {named(b, "scales", b.getDenseF64ArrayAttr(combine.getWeights()))};
        if (double bias = combine.getBias().convertToDouble(); bias != 0.0)
          attrs.push_back(f64("bias", bias));
        kernel<rt::ScaleAddOp>(loc, ins, {out()}, attrs);
        return success();
      })
      .Case([&](MeanOp) {
        // The elementwise mean of the predictions (`using mean([...])`).
        SmallVector<double> scales(ins.size(), 1.0 / double(ins.size()));
        kernel<rt::ScaleAddOp>(loc, ins, {out()}, {named(b, "scales", b.getDenseF64ArrayAttr(scales))});
        return success();
      })
      .Case([&](EnsembleOp ensemble) -> LogicalResult {
        // Weights known before the step (equal, fixed, accuracy) are the
        // ensemble's state tensor <E>/weights (ensembleWeightsName); the
        // per-sample weightings compute them in the kernel.
        StringRef weighting = ensemble.getWeighting();
        bool perSample = weighting == "entropy" || weighting == "ca_mkd";
        if (!perSample && !ensemble.getEnsemble())
          return ensemble.emitError() << "an ensemble weighted '" << weighting
                                      << "' names its teacher (ensemble = @E), whose weights it reads";
        unsigned members = unsigned(ensemble.getMembers().size());
        SmallVector<Value> operands(ins.begin(), ins.begin() + members);
        operands.push_back(perSample ? null()
                                     : b.create<rt::ParamOp>(loc, MemRefType::get({int64_t(members)}, b.getF32Type()),
                                                             ensembleWeightsName(ensemble)));
        operands.push_back(ensemble.getLabels() ? ins[members] : null());
        kernel<rt::EnsembleCombineOp>(
            loc, operands, {out()},
            {named(b, "weighting", b.getStringAttr(perSample ? weighting : StringRef("fixed"))),
             f64("temperature", ensemble.getTemperature().convertToDouble())});
        return success();
      })
      .Case([&](MinimizeOp) { return success(); }) // the stage's kdrt.update
      .Case([&](ParamGradOp) { return success(); }) // bound before lowering
      .Case([&](OutputOp) { return success(); })
      .Case([&](YieldOp) { return success(); })
      .Case([&](LossGradOp) { return success(); }) // written by its loss's kernel
      .Case([&](BatchNormScaleShiftOp bn) {
        // Without the kernel the unfused chain reads the batch norm's
        // parameters through this op.
        if (scaleShiftKernel)
          kernel<rt::BatchNormScaleShiftOp>(loc, ins, {out(0), out(1)}, {f64("eps", bn.getEps().convertToDouble())});
        return success();
      })
      .Case([&](FoldBatchNormOp fold) -> LogicalResult {
        // Only an export to .kdx runs folds: they read the trained plan's
        // parameters and write the exported plan's, which take the layer's
        // names (`<layer>.weight`, `<layer>.bias`), as PyTorch's fused
        // modules do. --kd-fold-batchnorm folds only parameters the layer
        // alone reads, so the original names are free there.
        if (!isa_and_nonnull<ExportOp>(op->getParentOp()))
          return op->emitError("a batch-norm fold runs only in the inference program of an export to .kdx");
        auto weight = fold.getWeight().getDefiningOp<ParamOp>();
        auto bias = fold.getBias() ? fold.getBias().getDefiningOp<ParamOp>() : ParamOp();
        if (!weight || (fold.getBias() && !bias))
          return op->emitError("a batch-norm fold reads the layer's parameters");
        std::string weightName = weight.getName().str();
        std::string biasName = bias ? bias.getName().str()
                               : StringRef(weightName).ends_with(".weight")
                                   ? weightName.substr(0, weightName.size() - 6) + "bias"
                                   : weightName + ".folded_bias";
        SmallVector<Value> outs;
        std::string names[] = {weightName, biasName};
        for (auto [result, name] : llvm::zip(fold.getResults(), names)) {
          Value param = b.create<rt::ParamOp>(loc, memrefFor(result.getType()), name);
          values.map(result, param);
          outs.push_back(param);
        }
        kernel<rt::FoldBatchNormOp>(loc, {ins[0], fold.getBias() ? ins[1] : null(), operand(fold.getGamma()),
                                          operand(fold.getBeta()), operand(fold.getRunningMean()),
                                          operand(fold.getRunningVar())},
                                    outs, {f64("eps", fold.getEps().convertToDouble())});
        return success();
      })
      .Default([&](Operation *other) {
        if (isFusedLossKernel(other))
          return lowerLoss(other);
        if (isa<Conv2dFusedOp, LinearFusedOp, Conv2dFusedBwdOp, LinearFusedBwdOp, LogitLossGroupOp>(other))
          return lowerFused(other);
        return lowerBackward(other);
      });
}

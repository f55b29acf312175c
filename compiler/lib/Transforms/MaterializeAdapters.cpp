//===- MaterializeAdapters.cpp - kd.adapt / kd.attention_fuse to models ---===//
//
// Every adapter Sema inferred becomes a small learned kd.model applied with
// kd.apply, and the stage's trained set gains it, so autodiff and the
// optimizer treat it like any other trained model. Parameters are named
// `adapters/<adapter name>.<param>` (the adapter name is the importer's
// `<stage>.adapt<k>`), which is what a `group adapters ...` selects.
//
//   conv1x1 / conv3x3   conv to the target width (PyTorch default init)
//   linear              linear to the target width
//   pool                adaptive average pooling to the target size
//   conv1x1+pool        conv1x1, then adaptive average pooling
//   identity            no model; uses read the input
//
// kd.attention_fuse becomes one projection model per input (flatten, linear
// to `dim`), a concatenation of the projections as tokens in the stage, and
// a fusion model (multi-head self-attention over the tokens, then their
// mean).
//
//===----------------------------------------------------------------------===//
#include "kd/Transforms/Passes.h"

#include "ModelBuilding.h"

#include "kd/Dialect/KD/KDOps.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>

namespace kd {
#define GEN_PASS_DEF_KDMATERIALIZEADAPTERS
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

ArrayRef<int64_t> perSample(Value v) { return cast<RankedTensorType>(v.getType()).getShape().drop_front(); }

int64_t elementCount(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

// A symbol for a model named after the adapter (`fitnets.adapt0` ->
// `fitnets_adapt0_model`), unique in the module.
std::string modelName(StringRef adapter, StringRef suffix) {
  std::string name = adapter.str();
  for (char &c : name)
    if (!llvm::isAlnum(c))
      c = '_';
  return name + suffix.str();
}

struct MaterializeAdaptersPass : public kd::impl::KdMaterializeAdaptersBase<MaterializeAdaptersPass> {
  void runOnOperation() override;
  LogicalResult materialize(AdaptOp adapt, StageOp stage, SmallVectorImpl<Attribute> &trained);
  LogicalResult materialize(AttentionFuseOp fuse, StageOp stage, SmallVectorImpl<Attribute> &trained);

  SymbolTable *symbols = nullptr;
};

LogicalResult MaterializeAdaptersPass::materialize(AdaptOp adapt, StageOp stage,
                                                   SmallVectorImpl<Attribute> &trained) {
  if (adapt.getKind() == "identity") {
    adapt.getResult().replaceAllUsesWith(adapt.getInput());
    adapt.erase();
    return success();
  }
  std::string prefix = "adapters/" + adapt.getName().str();
  ArrayRef<int64_t> from = perSample(adapt.getInput()), to = perSample(adapt.getResult());
  StringRef kind = adapt.getKind();
  bool image = from.size() == 3 && to.size() == 3;
  if ((kind == "conv1x1" || kind == "conv3x3" || kind == "pool" || kind == "conv1x1+pool") && !image)
    return adapt.emitOpError() << "a " << kind << " adapter needs image features, not [?, " << from.size()
                               << " dims] to [?, " << to.size() << " dims]";
  if (kind == "linear" && (from.size() != 1 || to.size() != 1))
    return adapt.emitOpError("a linear adapter maps vectors [N, I] to [N, O]");
  if ((kind == "conv1x1" || kind == "conv3x3") && (from[1] != to[1] || from[2] != to[2]))
    return adapt.emitOpError("a conv adapter keeps the spatial size");
  if (kind == "pool" && from[0] != to[0])
    return adapt.emitOpError("a pool adapter keeps the channels");

  OpBuilder b(stage);
  Location loc = adapt.getLoc();
  ModelOp model = buildModel(b, loc, modelName(adapt.getName(), "_model"), adapt.getInput().getType(),
                             [&](OpBuilder &inner, Value x) -> Value {
                               if (kind == "linear")
                                 return buildLinear(inner, loc, x, to[0], prefix);
                               if (kind == "conv1x1" || kind == "conv3x3" || kind == "conv1x1+pool")
                                 x = buildConv(inner, loc, x, to[0], kind == "conv3x3" ? 3 : 1, prefix + ".conv",
                                               WeightInit::TorchDefault);
                               if (kind == "pool" || kind == "conv1x1+pool")
                                 x = inner.create<AdaptivePoolOp>(
                                     loc, batchedType(inner.getContext(), {to[0], to[1], to[2]}), x,
                                     PoolModeAttr::get(inner.getContext(), PoolMode::Avg),
                                     inner.getDenseI64ArrayAttr({to[1], to[2]}));
                               return x;
                             });
  symbols->insert(model);
  if (model.getFunctionType().getResult(0) != adapt.getResult().getType())
    return adapt.emitOpError() << "the " << kind << " adapter model gives " << model.getFunctionType().getResult(0)
                               << ", not " << adapt.getResult().getType();
  OpBuilder at(adapt);
  auto apply = at.create<ApplyOp>(loc, TypeRange{adapt.getResult().getType()}, FlatSymbolRefAttr::get(model),
                                  adapt.getInput(), at.getStrArrayAttr({"output"}), UnitAttr());
  adapt.getResult().replaceAllUsesWith(apply.getResult(0));
  adapt.erase();
  if (kind != "pool") // a pooling adapter has nothing to train
    trained.push_back(FlatSymbolRefAttr::get(model));
  return success();
}

LogicalResult MaterializeAdaptersPass::materialize(AttentionFuseOp fuse, StageOp stage,
                                                   SmallVectorImpl<Attribute> &trained) {
  std::string prefix = "adapters/" + fuse.getName().str();
  int64_t dim = fuse.getDim(), heads = fuse.getHeads();
  int64_t tokens = int64_t(fuse.getFeatures().size());
  Location loc = fuse.getLoc();
  OpBuilder b(stage);
  OpBuilder at(fuse);
  SmallVector<Value> projected;
  for (auto [i, feature] : llvm::enumerate(fuse.getFeatures())) {
    std::string suffix = "_proj" + std::to_string(i);
    ModelOp model = buildModel(b, loc, modelName(fuse.getName(), suffix + "_model"), feature.getType(),
                               [&](OpBuilder &inner, Value x) -> Value {
                                 x = buildReshape(inner, loc, x, {elementCount(perSample(x))});
                                 x = buildLinear(inner, loc, x, dim, prefix + ".proj" + std::to_string(i));
                                 return buildReshape(inner, loc, x, {1, dim});
                               });
    symbols->insert(model);
    trained.push_back(FlatSymbolRefAttr::get(model));
    projected.push_back(at.create<ApplyOp>(loc, TypeRange{model.getFunctionType().getResult(0)},
                                           FlatSymbolRefAttr::get(model), feature, at.getStrArrayAttr({"output"}), UnitAttr())
                            .getResult(0));
  }
  Value sequence = projected.front();
  if (tokens > 1)
    sequence = at.create<ConcatOp>(loc, batchedType(at.getContext(), {tokens, dim}), projected,
                                   at.getI64IntegerAttr(1));
  ModelOp fusion = buildModel(
      b, loc, modelName(fuse.getName(), "_fuse_model"), sequence.getType(), [&](OpBuilder &inner, Value x) -> Value {
        std::string attn = prefix + ".attn";
        // nn.MultiheadAttention's init (see the importer's mha): Xavier over
        // the packed in-projection, i.e. gain 1/sqrt(2) per [dim, dim]
        // slice; the output projection a default nn.Linear; zero biases.
        double outBound = 1.0 / std::sqrt(double(dim));
        SmallVector<Value, 8> weights;
        for (StringRef projection : {"q", "k", "v", "out"}) {
          std::string name = attn + "." + projection.str();
          if (projection == "out")
            weights.push_back(buildParam(inner, loc, name + "_weight", ParamRole::Weight, InitKind::Uniform,
                                         {dim, dim}, {}, {}, outBound));
          else
            weights.push_back(buildParam(inner, loc, name + "_weight", ParamRole::Weight, InitKind::XavierUniform,
                                         {dim, dim}, {}, 1.0 / std::sqrt(2.0)));
          weights.push_back(buildParam(inner, loc, name + "_bias", ParamRole::Bias, InitKind::Zeros, {dim}));
        }
        x = inner.create<MultiHeadAttentionOp>(loc, x.getType(), x, weights[0], weights[1], weights[2], weights[3],
                                               weights[4], weights[5], weights[6], weights[7],
                                               inner.getI64IntegerAttr(heads));
        // The mean over the tokens: as a [1, tokens, dim] image, average
        // pooling to [1, dim] averages exactly over the tokens.
        x = buildReshape(inner, loc, x, {1, tokens, dim});
        x = inner.create<AdaptivePoolOp>(loc, batchedType(inner.getContext(), {1, 1, dim}), x,
                                         PoolModeAttr::get(inner.getContext(), PoolMode::Avg),
                                         inner.getDenseI64ArrayAttr({1, dim}));
        return buildReshape(inner, loc, x, {dim});
      });
  symbols->insert(fusion);
  trained.push_back(FlatSymbolRefAttr::get(fusion));
  auto apply = at.create<ApplyOp>(loc, TypeRange{fuse.getResult().getType()}, FlatSymbolRefAttr::get(fusion),
                                  sequence, at.getStrArrayAttr({"output"}), UnitAttr());
  fuse.getResult().replaceAllUsesWith(apply.getResult(0));
  fuse.erase();
  return success();
}

void MaterializeAdaptersPass::runOnOperation() {
  SymbolTable table(getOperation());
  symbols = &table;
  for (StageOp stage : llvm::make_early_inc_range(getOperation().getOps<StageOp>())) {
    SmallVector<Attribute> trained(stage.getTrained().begin(), stage.getTrained().end());
    for (Operation &op : llvm::make_early_inc_range(stage.getBody().front())) {
      LogicalResult result = success();
      if (auto adapt = dyn_cast<AdaptOp>(op))
        result = materialize(adapt, stage, trained);
      else if (auto fuse = dyn_cast<AttentionFuseOp>(op))
        result = materialize(fuse, stage, trained);
      if (failed(result))
        return signalPassFailure();
    }
    stage.setTrainedAttr(ArrayAttr::get(&getContext(), trained));
  }
}

} // namespace

//===- InlineModels.cpp - Stages and evaluations become flat graphs -------===//
//
// `kd.apply @M(%x) taps [...]` is replaced by a clone of M's layer ops at the
// apply, the model input mapped to %x and each result to the cloned tapped
// value. Parameters become stage-level `kd.param` ops under their global
// names, one per name in a body even when a model is applied twice. A
// parameter inlined from a frozen apply, or from a model the stage does not
// train, or covered by the apply's `frozen_params`, is marked `frozen`;
// --kd-autodiff reads that mark. The pruned copies --kd-freeze-teachers made
// are erased once nothing applies them.
//
// An evaluation without a body (`evaluate M on SPLIT`, no `using`, no loss)
// and an export to .kdx get the model's inference program as their body: a
// batch input (through the transform M's teacher or student declaration
// gives it), the model's ops inlined the same way, and a kd.yield of its
// output. Both are inference graphs (GraphKind.h), which --kd-fuse and
// --kd-plan-memory treat like a `using` body (--kd-fold-batchnorm folds the
// export's only).
//
//===----------------------------------------------------------------------===//
#include "FrozenMarks.h"

#include "kd/Dialect/KD/KDOps.h"
#include "kd/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace kd {
#define GEN_PASS_DEF_KDINLINEMODELS
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

struct InlineModelsPass : public kd::impl::KdInlineModelsBase<InlineModelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (Operation &op : module.getBody()->getOperations()) {
      LogicalResult result = success();
      if (auto stage = dyn_cast<StageOp>(op))
        result = inlineBody(symbols, stage.getBody().front(), stage);
      else if (auto evaluate = dyn_cast<EvaluateOp>(op); evaluate && !evaluate.getBody().empty())
        result = inlineBody(symbols, evaluate.getBody().front(), StageOp());
      else if (evaluate && symbols.lookup<ModelOp>(evaluate.getModel()))
        result = buildInferenceBody(symbols, evaluate);
      else if (auto exportOp = dyn_cast<ExportOp>(op); exportOp && exportOp.getFormat() == "kdx")
        result = buildInferenceBody(symbols, exportOp);
      if (failed(result))
        return signalPassFailure();
    }
    eraseUnusedCopies(module);
  }

  /// Inlines every apply of `body`; `stage` is null in an evaluation, where
  /// nothing trains and no parameter is marked.
  LogicalResult inlineBody(SymbolTable &symbols, Block &body, StageOp stage) {
    llvm::StringSet<> trained;
    if (stage)
      for (auto ref : stage.getTrained().getAsRange<FlatSymbolRefAttr>())
        trained.insert(ref.getValue());
    llvm::StringMap<Value> params;
    for (ParamOp param : body.getOps<ParamOp>())
      params.try_emplace(param.getName(), param.getResult());

    SmallVector<ApplyOp> applies(body.getOps<ApplyOp>());
    for (ApplyOp apply : applies) {
      auto model = symbols.lookup<ModelOp>(apply.getModel());
      if (!model)
        return apply.emitOpError() << "'" << apply.getModel() << "' does not name a kd.model";
      bool frozen = stage && (apply->hasAttr(kFrozenAttrName) || !trained.contains(apply.getModel()));
      llvm::StringSet<> frozenParams;
      if (auto names = apply->getAttrOfType<ArrayAttr>(kFrozenParamsAttrName))
        for (StringRef name : names.getAsValueRange<StringAttr>())
          frozenParams.insert(name);

      OpBuilder builder(apply);
      IRMapping mapping = cloneModel(model, apply.getInput(), builder, params, [&](ParamOp param) {
        return stage && (frozen || frozenParams.contains(param.getName()));
      });
      for (auto [tap, result] : llvm::zip(apply.getTaps().getAsValueRange<StringAttr>(), apply.getResults())) {
        Value tapped = model.lookupTap(tap);
        if (!tapped)
          return apply.emitOpError() << "model '" << apply.getModel() << "' has no tap '" << tap << "'";
        result.replaceAllUsesWith(mapping.lookupOrDefault(tapped));
      }
      apply.erase();
    }
    return success();
  }

  /// Clones the layer ops of `model` at the builder, its input mapped to
  /// `input`; parameters become one kd.param per name in `params` (marked
  /// frozen where `frozen` says so). Returns the mapping of the model's
  /// values.
  template <typename Frozen>
  static IRMapping cloneModel(ModelOp model, Value input, OpBuilder &builder, llvm::StringMap<Value> &params,
                              Frozen frozen) {
    IRMapping mapping;
    mapping.map(model.getInput(), input);
    for (Operation &op : model.getBodyBlock().without_terminator()) {
      if (isa<TapOp, BlockBeginOp>(op))
        continue;
      if (auto param = dyn_cast<ParamOp>(op)) {
        Value &global = params[param.getName()];
        if (!global) {
          auto copy = cast<ParamOp>(builder.clone(op));
          if (frozen(param))
            copy->setAttr(kFrozenAttrName, builder.getUnitAttr());
          global = copy.getResult();
        }
        mapping.map(param.getResult(), global);
        continue;
      }
      builder.clone(op, mapping);
    }
    return mapping;
  }

  /// The body of an evaluation without one or of an export to .kdx
  /// (`InferenceOp`): the model's inference program on the input its
  /// declaration's transform makes.
  template <typename InferenceOp>
  LogicalResult buildInferenceBody(SymbolTable &symbols, InferenceOp inference) {
    if (!inference.getBody().empty())
      return success();
    auto model = symbols.lookup<ModelOp>(inference.getModel());
    if (!model)
      return inference.emitOpError() << "'" << inference.getModel() << "' does not name a kd.model";
    Block *body = new Block();
    inference.getBody().push_back(body);
    OpBuilder builder = OpBuilder::atBlockEnd(body);
    Location loc = inference.getLoc();
    Value input =
        builder.create<BatchInputOp>(loc, model.getInput().getType(), model.getDeclaredTransform());
    llvm::StringMap<Value> params;
    IRMapping mapping = cloneModel(model, input, builder, params, [](ParamOp) { return false; });
    auto output = cast<OutputOp>(model.getBodyBlock().getTerminator());
    builder.create<YieldOp>(loc, mapping.lookupOrDefault(output.getValue()));
    return success();
  }

  /// The inference copies exist for applies only; inlined, they are dead.
  static void eraseUnusedCopies(ModuleOp module) {
    for (ModelOp model : llvm::make_early_inc_range(module.getOps<ModelOp>()))
      if (model->hasAttr(kFrozenFromAttrName) && SymbolTable::symbolKnownUseEmpty(model, module))
        model.erase();
  }
};

} // namespace

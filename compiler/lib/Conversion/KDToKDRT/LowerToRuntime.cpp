//===- LowerToRuntime.cpp - The --kd-lower-to-runtime pass ----------------===//
//
// Legality first, then each plan entry in module order: data sets and
// parameters, stages (their flat graph), evaluations (the model's inference
// program) and exports; finally the kd ops are erased.
//
//===----------------------------------------------------------------------===//
#include "kd/Conversion/KDToKDRT/KDToKDRT.h"
#include "Lowering.h"

#include "kd/Dialect/KD/KDOps.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SHA256.h"

namespace kd {
#define GEN_PASS_DEF_KDLOWERTORUNTIME
#include "kd/Conversion/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;
using kd::lowering::GraphLowering;
namespace rt = kd::rt;

namespace {

/// The user's name of a model instance: the teacher or student bound to it
/// (`S` for `@S_model`).
std::string userName(ModuleOp module, StringRef modelSymbol) {
  std::string found;
  module.walk([&](Operation *op) {
    auto model = op->getAttrOfType<FlatSymbolRefAttr>("model");
    if (found.empty() && isa<TeacherOp, StudentOp>(op) && model && model.getValue() == modelSymbol)
      found = cast<SymbolOpInterface>(op).getName().str();
  });
  if (!found.empty())
    return found;
  return modelSymbol.ends_with("_model") ? modelSymbol.drop_back(6).str() : modelSymbol.str();
}

SmallVector<StringRef> userNames(ModuleOp module, ArrayAttr models, SmallVectorImpl<std::string> &storage) {
  for (Attribute model : models)
    storage.push_back(userName(module, cast<FlatSymbolRefAttr>(model).getValue()));
  return SmallVector<StringRef>(storage.begin(), storage.end());
}

/// kd's schedule call ({kind = "onecycle", pct = 0.3}) as the plan's.
FailureOr<DictionaryAttr> lowerSchedule(Operation *stage, DictionaryAttr schedule) {
  Builder b(stage->getContext());
  if (!schedule)
    return b.getDictionaryAttr({b.getNamedAttr("kind", b.getStringAttr("constant"))});
  StringRef kind = schedule.getAs<StringAttr>("kind").getValue();
  if (kind == "warmup") {
    // warmup(n, then: S) is S with a linear warm-up over its first n
    // epochs; the runtime turns epochs into steps once it knows the split.
    auto then = schedule.getAs<DictionaryAttr>("then");
    auto epochs = schedule.getAs<IntegerAttr>("epochs");
    if (!then || !epochs || epochs.getInt() < 0) {
      stage->emitError() << "schedule 'warmup' needs a number of epochs and a schedule to follow";
      return failure();
    }
    if (then.getAs<StringAttr>("kind") && then.getAs<StringAttr>("kind").getValue() == "warmup") {
      stage->emitError() << "schedule 'warmup' cannot be followed by another warm-up";
      return failure();
    }
    FailureOr<DictionaryAttr> after = lowerSchedule(stage, then);
    if (failed(after))
      return failure();
    NamedAttrList entries(*after);
    entries.set("warmup_epochs", b.getI64IntegerAttr(epochs.getInt()));
    return entries.getDictionary(stage->getContext());
  }
  static const llvm::StringMap<std::string> kinds = {
      {"constant", "constant"}, {"step", "step"}, {"cosine", "cosine"}, {"onecycle", "one_cycle"},
      {"one_cycle", "one_cycle"}};
  auto known = kinds.find(kind);
  if (known == kinds.end()) {
    stage->emitError() << "schedule '" << kind << "' has no runtime equivalent";
    return failure();
  }
  static const llvm::StringMap<std::string> fields = {
      {"pct", "pct_start"}, {"pct_start", "pct_start"}, {"min_lr", "min_lr"}, {"every", "every"},
      {"gamma", "gamma"}, {"warmup", "warmup_steps"}, {"warmup_steps", "warmup_steps"},
      {"div_factor", "div_factor"}, {"final_div_factor", "final_div_factor"},
      {"cycle_momentum", "cycle_momentum"}, {"base_momentum", "base_momentum"},
      {"max_momentum", "max_momentum"}};
  SmallVector<NamedAttribute> entries = {b.getNamedAttr("kind", b.getStringAttr(known->second))};
  for (NamedAttribute field : schedule)
    if (auto it = fields.find(field.getName().getValue()); it != fields.end())
      entries.push_back(b.getNamedAttr(it->second, field.getValue()));
  return b.getDictionaryAttr(entries);
}

/// The optimizer's fields the runtime reads; the learning rate goes to the
/// groups.
DictionaryAttr lowerOptimizer(Builder &b, DictionaryAttr optimizer) {
  SmallVector<NamedAttribute> entries;
  StringRef kind = optimizer ? optimizer.getAs<StringAttr>("kind").getValue() : "sgd";
  entries.push_back(b.getNamedAttr("kind", b.getStringAttr(kind)));
  if (optimizer)
    for (StringRef key : {"momentum", "nesterov", "weight_decay", "beta1", "beta2", "eps"})
      if (Attribute value = optimizer.get(key))
        entries.push_back(b.getNamedAttr(key, value));
  return b.getDictionaryAttr(entries);
}

double numberOr(DictionaryAttr dict, StringRef key, double fallback) {
  if (!dict)
    return fallback;
  if (auto f = dict.getAs<FloatAttr>(key))
    return f.getValueAsDouble();
  if (auto i = dict.getAs<IntegerAttr>(key))
    return double(i.getInt());
  return fallback;
}

/// The plan's groups: each kd group (`target` "S", "S.l2", "adapters")
/// takes the trained parameters under its prefix; the rest form a group
/// with the optimizer's own settings.
ArrayAttr lowerGroups(Builder &b, DictionaryAttr optimizer, ArrayAttr groups,
                      const SmallVectorImpl<std::string> &trained) {
  double lr = numberOr(optimizer, "lr", 0.01);
  SmallVector<Attribute> result;
  llvm::StringSet<> taken;
  for (Attribute entry : groups) {
    auto group = cast<DictionaryAttr>(entry);
    std::string target = group.getAs<StringAttr>("target").getValue().str();
    // A group a pass made lists its parameter-name prefixes (`params`);
    // a `group` statement's target names them ("S.l2" -> "S/l2").
    SmallVector<std::string> prefixes;
    if (auto listed = group.getAs<ArrayAttr>("params")) {
      for (StringRef prefix : listed.getAsValueRange<StringAttr>())
        prefixes.push_back(prefix.str());
    } else {
      std::string prefix = target;
      if (size_t dot = prefix.find('.'); dot != std::string::npos)
        prefix[dot] = '/';
      else
        prefix += '/';
      prefixes.push_back(prefix);
    }
    SmallVector<StringRef> params;
    for (const std::string &name : trained)
      if (llvm::any_of(prefixes, [&](const std::string &prefix) { return StringRef(name).starts_with(prefix); }) &&
          !taken.contains(name)) {
        params.push_back(name);
        taken.insert(name);
      }
    if (params.empty())
      continue;
    SmallVector<NamedAttribute> fields = {b.getNamedAttr("lr", b.getF64FloatAttr(numberOr(group, "lr", lr))),
                                          b.getNamedAttr("params", b.getStrArrayAttr(params))};
    fields.push_back(b.getNamedAttr("weight_decay",
                                    b.getF64FloatAttr(numberOr(group, "weight_decay",
                                                               numberOr(optimizer, "weight_decay", 0)))));
    // SGD's momentum, or Adam's beta1, for this group only.
    if (group.get("momentum"))
      fields.push_back(b.getNamedAttr("momentum", b.getF64FloatAttr(numberOr(group, "momentum", 0))));
    result.push_back(b.getDictionaryAttr(fields));
  }
  SmallVector<StringRef> rest;
  for (const std::string &name : trained)
    if (!taken.contains(name))
      rest.push_back(name);
  if (!rest.empty())
    result.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("lr", b.getF64FloatAttr(lr)), b.getNamedAttr("params", b.getStrArrayAttr(rest)),
         b.getNamedAttr("weight_decay", b.getF64FloatAttr(numberOr(optimizer, "weight_decay", 0)))}));
  return b.getArrayAttr(result);
}

struct LowerToRuntimePass : public kd::impl::KdLowerToRuntimeBase<LowerToRuntimePass> {
  using KdLowerToRuntimeBase::KdLowerToRuntimeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkRuntimeLegality(module, target)))
      return signalPassFailure();
    OpBuilder builder(module.getContext());
    builder.setInsertionPointToEnd(module.getBody());
    SmallVector<Operation *> kdOps;
    for (Operation &op : module.getBody()->getOperations())
      kdOps.push_back(&op);

    lowerDeclarations(module, builder);
    std::string lastStage;
    std::pair<std::string, std::string> lastData;
    for (Operation *op : kdOps) {
      LogicalResult result = success();
      if (auto stage = dyn_cast<StageOp>(op)) {
        result = lowerStage(module, stage, builder);
        lastStage = stage.getSymName().str();
        lastData = {stage.getData().str(), stage.getSplit().str()};
      } else if (auto graft = dyn_cast<GraftStageOp>(op)) {
        result = graft.emitError("graft stage is left: run --kd-expand-grafts first");
      } else if (auto evaluate = dyn_cast<EvaluateOp>(op)) {
        result = lowerEvaluate(module, evaluate, lastStage, builder);
      } else if (auto exportOp = dyn_cast<ExportOp>(op)) {
        result = lowerExport(module, exportOp, lastStage, lastData, builder);
      }
      if (failed(result))
        return signalPassFailure();
    }
    for (Operation *op : llvm::reverse(kdOps))
      op->erase();
  }

  void lowerDeclarations(ModuleOp module, OpBuilder &builder) {
    for (auto dataset : module.getOps<DatasetOp>())
      builder.create<rt::DatasetOp>(dataset.getLoc(), dataset.getSymName(), dataset.getSource(), dataset.getPath(),
                                    dataset.getImageShape(), dataset.getMean(), dataset.getStd(),
                                    dataset.getClasses(), dataset.getClassNames(), dataset.getSplits());
    llvm::StringSet<> declared;
    module.walk([&](ParamOp param) {
      if (!declared.insert(param.getName()).second)
        return;
      auto type = cast<RankedTensorType>(param.getType());
      auto decl = builder.create<rt::ParameterOp>(
          param.getLoc(), param.getNameAttr(), builder.getStringAttr(stringifyParamRole(param.getRole())),
          builder.getStringAttr(stringifyInitKind(param.getInit())), builder.getDenseI64ArrayAttr(type.getShape()), param.getFanAttr(), param.getGainAttr(), param.getValueAttr(), param.getStdAttr(),
          param.getBoundAttr(), ElementsAttr());
      (void)decl;
    });
    // The weights of ensembles that know them before the step: normalised
    // equal or fixed weights, or equal ones that the runtime replaces with
    // the members' accuracies before the stage runs.
    module.walk([&](EnsembleOp ensemble) {
      StringRef weighting = ensemble.getWeighting();
      if (weighting == "entropy" || weighting == "ca_mkd" || !ensemble.getEnsemble())
        return;
      std::string name = lowering::ensembleWeightsName(ensemble);
      if (!declared.insert(name).second)
        return;
      int64_t members = int64_t(ensemble.getMembers().size());
      SmallVector<float> values(size_t(members), 1.0f / float(members));
      if (weighting == "fixed" && ensemble.getWeights()) {
        double total = 0;
        for (double w : *ensemble.getWeights())
          total += w;
        for (auto [i, w] : llvm::enumerate(*ensemble.getWeights()))
          values[i] = total > 0 ? float(w / total) : 0.0f;
      }
      auto type = RankedTensorType::get({members}, builder.getF32Type());
      builder.create<rt::ParameterOp>(ensemble.getLoc(), builder.getStringAttr(name), builder.getStringAttr("state"),
                                      builder.getStringAttr("constant"), builder.getDenseI64ArrayAttr({members}),
                                      StringAttr(), FloatAttr(), FloatAttr(), FloatAttr(), FloatAttr(),
                                      DenseElementsAttr::get(type, ArrayRef<float>(values)));
    });
  }

  LogicalResult lowerStage(ModuleOp module, StageOp stage, OpBuilder &builder) {
    SmallVector<std::string> trainedStorage, frozenStorage;
    auto kdrtStage = builder.create<rt::StageOp>(
        stage.getLoc(), stage.getSymName(), stage.getKind(), stage.getData(), stage.getSplit(),
        stage.getEpochs(), stage.getBatch(), builder.getStrArrayAttr(userNames(module, stage.getTrained(), trainedStorage)),
        builder.getStrArrayAttr(userNames(module, stage.getFrozen(), frozenStorage)), 0);
    // Values the stage starts from ({from, to} parameter names): the teacher
    // blocks a grafted student keeps (--kd-expand-grafts).
    if (auto copies = stage->getAttrOfType<ArrayAttr>("copy_params"))
      kdrtStage->setAttr("copy_params", copies);
    Block *body = new Block();
    kdrtStage.getBody().push_back(body);
    OpBuilder inner = OpBuilder::atBlockBegin(body);
    GraphLowering graph(inner, stage.getBatch(), /*training=*/true);
    // The GPU backend has no logitLossGroup or batchNormScaleShift entry.
    graph.logitLossGroupKernel = target != "gpu";
    graph.scaleShiftKernel = target != "gpu";
    if (auto planned = stage->getAttrOfType<IntegerAttr>("arena_bytes"))
      graph.reserveArena(planned.getInt());
    SmallVector<std::string> trained;
    for (auto grad : stage.getBody().getOps<ParamGradOp>()) {
      graph.gradientNames[grad.getGrad()] = grad.getName().str();
      if (graph.trainedParameters.insert(grad.getName()).second)
        trained.push_back(grad.getName().str());
    }
    llvm::SetVector<Operation *> teacherOps = cachedTeacherOps(module, stage);
    Value loss;
    for (Operation &op : stage.getBody().front()) {
      if (teacherOps.contains(&op)) {
        if (&op == teacherOps.front() && failed(lowerTeacherCache(module, stage, teacherOps, graph, inner)))
          return failure();
        continue;
      }
      if (failed(graph.lower(&op)))
        return failure();
      if (auto minimize = dyn_cast<MinimizeOp>(op))
        loss = graph.operand(minimize.getLoss());
    }
    if (!loss)
      return stage.emitError("stage has no loss to minimise");
    auto schedule = lowerSchedule(stage, stage.getScheduleAttr());
    if (failed(schedule))
      return failure();
    inner.create<rt::UpdateOp>(stage.getLoc(), loss, lowerOptimizer(inner, stage.getOptimizerAttr()),
                               lowerGroups(inner, stage.getOptimizerAttr(), stage.getGroups(), trained), *schedule);
    int64_t arena = graph.arenaBytes();
    if (auto planned = stage->getAttrOfType<IntegerAttr>("arena_bytes"))
      arena = std::max(arena, planned.getInt());
    kdrtStage.setArenaBytes(arena);
    return lowerAccuracyWeights(module, stage, builder);
  }

  /// One evaluation per member of each accuracy-weighted ensemble the
  /// stage reads, on the ensemble's weighting split, run before the stage:
  /// the runtime turns their accuracies into the ensemble's weights.
  LogicalResult lowerAccuracyWeights(ModuleOp module, StageOp stage, OpBuilder &builder) {
    llvm::StringSet<> done;
    for (auto ensemble : stage.getBody().getOps<EnsembleOp>()) {
      if (ensemble.getWeighting() != "accuracy" || !ensemble.getEnsemble() ||
          !done.insert(*ensemble.getEnsemble()).second)
        continue;
      auto teacher = SymbolTable::lookupNearestSymbolFrom<TeacherOp>(stage, ensemble.getEnsembleAttr());
      if (!teacher || !teacher.getMembers() || !teacher.getWeightData() || !teacher.getWeightSplit())
        return ensemble.emitError() << "accuracy weighting needs the ensemble teacher '" << *ensemble.getEnsemble()
                                    << "' with its members and the split to measure them on";
      if (teacher.getMembers()->size() != ensemble.getMembers().size())
        return ensemble.emitError() << "'" << *ensemble.getEnsemble() << "' has " << teacher.getMembers()->size()
                                    << " members, the ensemble op combines " << ensemble.getMembers().size();
      for (auto [index, ref] : llvm::enumerate(teacher.getMembers()->getAsRange<FlatSymbolRefAttr>())) {
        auto member = SymbolTable::lookupNearestSymbolFrom<TeacherOp>(stage, ref);
        auto model = member && member.getModelAttr()
                         ? SymbolTable::lookupNearestSymbolFrom<ModelOp>(stage, member.getModelAttr())
                         : ModelOp();
        if (!model)
          return ensemble.emitError() << "ensemble member '" << ref.getValue() << "' has no model to measure";
        Builder &b = builder;
        DictionaryAttr weight = b.getDictionaryAttr(
            {b.getNamedAttr("ensemble", b.getStringAttr(*ensemble.getEnsemble())),
             b.getNamedAttr("parameter", b.getStringAttr(lowering::ensembleWeightsName(ensemble))),
             b.getNamedAttr("member", b.getI64IntegerAttr(int64_t(index))),
             b.getNamedAttr("before_stage", stage.getSymNameAttr())});
        FailureOr<rt::EvaluateOp> evaluation =
            lowerInference(module, model, ensemble.getLoc(), *teacher.getWeightData(), *teacher.getWeightSplit(),
                           b.getStrArrayAttr({"accuracy"}), "", /*batch=*/256, StringAttr(), nullptr,
                           IntegerAttr(), builder);
        if (failed(evaluation))
          return failure();
        evaluation->setEnsembleWeightAttr(weight);
      }
    }
    return success();
  }

  /// The ops of a stage that compute the teachers --kd-cache-soft-targets
  /// cached: everything that reads only the batch images, the frozen
  /// parameters of a cached teacher (named `<teacher>/...`) and other such
  /// ops. A refused teacher's ops and an ensemble's combine stay in the
  /// step. Empty when the stage caches nothing.
  static llvm::SetVector<Operation *> cachedTeacherOps(ModuleOp module, StageOp stage) {
    llvm::SetVector<Operation *> ops;
    auto mode = stage->getAttrOfType<StringAttr>("soft_target_cache");
    auto keys = stage->getAttrOfType<ArrayAttr>("cache_key");
    if (!mode || (mode.getValue() != "cached" && mode.getValue() != "partial") || !keys || keys.empty())
      return ops;
    SmallVector<std::string> prefixes;
    for (auto entry : keys.getAsRange<DictionaryAttr>())
      prefixes.push_back(userName(module, entry.getAs<FlatSymbolRefAttr>("model").getValue()) + "/");
    auto cachedParam = [&](ParamOp param) {
      return param->hasAttr("frozen") &&
             llvm::any_of(prefixes, [&](const std::string &prefix) { return param.getName().starts_with(prefix); });
    };
    for (Operation &op : stage.getBody().front()) {
      if (op.getNumResults() == 0 || isa<ParamOp, BatchInputOp, BatchLabelsOp, EnsembleOp>(op) ||
          lowering::isFusedLossKernel(&op) || isa<LossGradOp, LossCombineOp, LogitLossGroupOp>(op))
        continue;
      bool teacherOnly = true, readsTeacher = false;
      for (Value operand : op.getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (auto param = dyn_cast_or_null<ParamOp>(def)) {
          teacherOnly &= cachedParam(param);
          readsTeacher |= cachedParam(param);
        } else if (def && ops.contains(def)) {
          readsTeacher = true;
        } else if (!isa_and_nonnull<BatchInputOp>(def)) {
          teacherOnly = false;
        }
      }
      if (teacherOnly && readsTeacher)
        ops.insert(&op);
    }
    return ops;
  }

  /// A kdrt.teacher_cache holding the cached teachers' program; the values
  /// the rest of the stage reads from it are its outputs, placed after the
  /// arena (the executor fills them from the cache before each step). With
  /// several teachers (an ensemble's members) the cache is named after all
  /// of them and keyed by the hash of their keys; the runtime completes the
  /// key with the values of every parameter the program reads.
  LogicalResult lowerTeacherCache(ModuleOp module, StageOp stage, const llvm::SetVector<Operation *> &teacherOps,
                                  GraphLowering &graph, OpBuilder &builder) {
    SmallVector<Value> outputs;
    SmallVector<StringRef> names;
    SmallVector<std::string> nameStorage, models;
    std::string joinedKeys;
    for (auto entry : stage->getAttrOfType<ArrayAttr>("cache_key").getAsRange<DictionaryAttr>()) {
      models.push_back(userName(module, entry.getAs<FlatSymbolRefAttr>("model").getValue()));
      joinedKeys += entry.getAs<StringAttr>("key").getValue().str() + "\n";
    }
    std::string model = llvm::join(models, "+");
    for (Operation *op : teacherOps)
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) { return !teacherOps.contains(user); })) {
          outputs.push_back(graph.define(result, /*planned=*/false));
          nameStorage.push_back(model + "/cached" + std::to_string(nameStorage.size()));
        }
    if (outputs.empty())
      return success();
    for (const std::string &name : nameStorage)
      names.push_back(name);
    std::string key = models.size() == 1 ? joinedKeys.substr(0, joinedKeys.size() - 1)
                                         : llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(joinedKeys)),
                                                       /*LowerCase=*/true);
    if (!StringRef(key).starts_with("sha256:"))
      key = "sha256:" + key;
    // Parameters the cached program reads are bound in the stage, not in
    // the cache's region: the rest of the stage may read them too (a graft
    // hybrid reads the frozen teacher's).
    for (Operation *op : teacherOps)
      for (Value operand : op->getOperands())
        if (operand.getDefiningOp<ParamOp>())
          graph.operand(operand);
    auto cache = builder.create<rt::TeacherCacheOp>(stage.getLoc(), model, key, outputs, builder.getStrArrayAttr(names));
    Block *body = new Block();
    cache.getBody().push_back(body);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(body);
    for (Operation *op : teacherOps)
      if (failed(graph.lower(op)))
        return failure();
    return success();
  }

  LogicalResult lowerEvaluate(ModuleOp module, EvaluateOp evaluate, StringRef afterStage, OpBuilder &builder) {
    auto model = SymbolTable::lookupNearestSymbolFrom<ModelOp>(evaluate, evaluate.getModelAttr());
    if (!model)
      return evaluate.emitError("evaluates an unknown model");
    // kdc always sets the batch; a hand-written kd.evaluate without one
    // runs in batches of kd-plan-memory's default eval-batch.
    int64_t batch = evaluate.getBatch().value_or(256);
    Block *usingBody = evaluate.getBody().empty() ? nullptr : &evaluate.getBody().front();
    FailureOr<rt::EvaluateOp> lowered =
        lowerInference(module, model, evaluate.getLoc(), evaluate.getData(), evaluate.getSplit(),
                       evaluate.getMetrics(), afterStage, batch, evaluate.getPredictionAttr(), usingBody,
                       evaluate->getAttrOfType<IntegerAttr>("arena_bytes"), builder);
    if (failed(lowered))
      return failure();
    // `evaluate LOSS on SPLIT`: the loss as written, the name it is reported under.
    if (auto expression = evaluate->getAttrOfType<StringAttr>("expression"))
      (*lowered)->setAttr("expression", expression);
    return success();
  }

  /// A kdrt.evaluate over a split: with `usingBody` the flat body
  /// --kd-inline-models made (the model's inference program, a loss, a
  /// `using` prediction: batch input, the inlined models' ops, what combines
  /// their taps), fused and planned (`plannedArena`) like any inference
  /// graph; without, `model`'s own body, unfused and unplanned (the
  /// per-member evaluations of an accuracy-weighted ensemble, which exist
  /// only here).
  FailureOr<rt::EvaluateOp> lowerInference(ModuleOp module, ModelOp model, Location loc, StringRef data,
                                           StringRef split, ArrayAttr metrics, StringRef afterStage, int64_t batch,
                                           StringAttr prediction, Block *usingBody, IntegerAttr plannedArena,
                                           OpBuilder &builder) {
    auto kdrtEval = builder.create<rt::EvaluateOp>(loc, userName(module, model.getSymName()), data, split, batch,
                                                   metrics, afterStage, 0, prediction, DictionaryAttr());
    Block *body = new Block();
    kdrtEval.getBody().push_back(body);
    OpBuilder inner = OpBuilder::atBlockBegin(body);
    GraphLowering graph(inner, batch, /*training=*/false);
    graph.scaleShiftKernel = target != "gpu";
    Value output;
    if (usingBody) {
      if (plannedArena)
        graph.reserveArena(plannedArena.getInt());
      for (Operation &op : *usingBody) {
        if (failed(graph.lower(&op)))
          return failure();
        if (auto yield = dyn_cast<YieldOp>(op))
          output = graph.operand(yield.getValue());
      }
    } else {
      Value input = graph.scratch(graph.memrefFor(model.getInput().getType()));
      // The model's declaration may resize its input (`transform resize`).
      inner.create<rt::LoadBatchOp>(loc, "image", input,
                                    lowering::inputTransform(inner, model.getDeclaredTransform()));
      graph.bind(model.getInput(), input);
      for (Operation &op : model.getBodyBlock()) {
        if (failed(graph.lower(&op)))
          return failure();
        if (auto out = dyn_cast<OutputOp>(op))
          output = graph.operand(out.getValue());
      }
    }
    if (!output)
      return emitError(loc, "the evaluation computes nothing to score");
    if (!output.getDefiningOp<rt::BufferOp>())
      return emitError(loc, "the evaluated prediction is not computed from the batch");
    inner.create<rt::OutputOp>(loc, output);
    kdrtEval.setArenaBytes(graph.arenaBytes());
    return kdrtEval;
  }

  LogicalResult lowerExport(ModuleOp module, ExportOp exportOp, StringRef afterStage,
                            const std::pair<std::string, std::string> &stageData, OpBuilder &builder) {
    auto model = SymbolTable::lookupNearestSymbolFrom<ModelOp>(exportOp, exportOp.getModelAttr());
    if (!model)
      return exportOp.emitError("exports an unknown model");
    SmallVector<StringRef> params;
    for (auto param : model.getBodyBlock().getOps<ParamOp>())
      params.push_back(param.getName());
    auto kdrtExport =
        builder.create<rt::ExportOp>(exportOp.getLoc(), userName(module, model.getSymName()), exportOp.getPath(),
                                     exportOp.getFormat(), builder.getStrArrayAttr(params), afterStage,
                                     /*data=*/StringAttr(), /*split=*/StringAttr(), /*batch=*/IntegerAttr(),
                                     /*metrics=*/ArrayAttr(), /*arena_bytes=*/IntegerAttr());
    if (exportOp.getFormat() != "kdx")
      return success();
    if (exportOp.getBody().empty())
      return exportOp.emitError("an export to .kdx has no inference program (run --kd-inline-models first)");
    return lowerInferenceExport(module, exportOp, model, stageData, kdrtExport, builder);
  }

  /// The data an inference export is evaluated on when the exported plan
  /// runs: that of an evaluation of the same model's output (its split and
  /// metrics; not a loss or a `using` prediction), else the split the model
  /// was last trained on.
  static void inferenceData(ModuleOp module, ModelOp model, const std::pair<std::string, std::string> &stageData,
                            rt::ExportOp kdrtExport) {
    Builder b(module.getContext());
    std::string data = stageData.first, split = stageData.second;
    SmallVector<StringRef> metrics = {"accuracy"};
    for (auto evaluate : module.getOps<EvaluateOp>())
      if (evaluate.getModel() == model.getSymName() && !evaluate.getPrediction() &&
          !evaluate->hasAttr("expression")) {
        data = evaluate.getData().str();
        split = evaluate.getSplit().str();
        metrics.clear();
        for (StringRef metric : evaluate.getMetrics().getAsValueRange<StringAttr>())
          if (metric != "per_class")
            metrics.push_back(metric);
        break;
      }
    auto datasets = module.getOps<DatasetOp>();
    if (data.empty() && !datasets.empty())
      data = (*datasets.begin()).getSymName().str();
    kdrtExport.setDataAttr(b.getStringAttr(data));
    kdrtExport.setSplitAttr(b.getStringAttr(split));
    kdrtExport.setMetricsAttr(b.getStrArrayAttr(metrics));
  }

  LogicalResult lowerInferenceExport(ModuleOp module, ExportOp exportOp, ModelOp model,
                                     const std::pair<std::string, std::string> &stageData, rt::ExportOp kdrtExport,
                                     OpBuilder &builder) {
    auto plannedBatch = exportOp->getAttrOfType<IntegerAttr>("plan_batch");
    auto planned = exportOp->getAttrOfType<IntegerAttr>("arena_bytes");
    if (!plannedBatch || !planned)
      return exportOp.emitError("an export to .kdx has no memory plan (run --kd-plan-memory first)");
    int64_t batch = plannedBatch.getInt();
    inferenceData(module, model, stageData, kdrtExport);
    Block *body = new Block();
    kdrtExport.getBody().push_back(body);
    OpBuilder inner = OpBuilder::atBlockBegin(body);
    GraphLowering graph(inner, batch, /*training=*/false);
    graph.scaleShiftKernel = target != "gpu";
    graph.reserveArena(planned.getInt());
    Value output;
    for (Operation &op : exportOp.getBody().front()) {
      if (failed(graph.lower(&op)))
        return failure();
      if (auto yield = dyn_cast<YieldOp>(op))
        output = graph.operand(yield.getValue());
    }
    if (!output)
      return exportOp.emitError("an export's inference program yields no value");
    // A model whose input is smaller or larger than the data set's images
    // reads them resized, as its stages do (through its declaration's
    // transform where it has one).
    auto dataset = SymbolTable::lookupNearestSymbolFrom<DatasetOp>(
        module, FlatSymbolRefAttr::get(module.getContext(), *kdrtExport.getData()));
    auto inputType = cast<RankedTensorType>(model.getInput().getType());
    if (dataset && inputType.getRank() == 4 && dataset.getImageShape().size() == 3) {
      ArrayRef<int64_t> image = dataset.getImageShape();
      if (image[0] != inputType.getDimSize(1))
        return exportOp.emitError() << "model '" << userName(module, model.getSymName()) << "' reads "
                                    << inputType.getDimSize(1) << " channels, the data '" << dataset.getSymName()
                                    << "' has " << image[0];
      if (image[1] != inputType.getDimSize(2) || image[2] != inputType.getDimSize(3))
        for (auto load : body->getOps<rt::LoadBatchOp>())
          if (!load.getTransformAttr())
            load.setTransformAttr(inner.getDictionaryAttr(
              {inner.getNamedAttr("op", inner.getStringAttr("resize")),
               inner.getNamedAttr("h", inner.getI64IntegerAttr(inputType.getDimSize(2))),
               inner.getNamedAttr("w", inner.getI64IntegerAttr(inputType.getDimSize(3)))}));
    }
    inner.create<rt::OutputOp>(exportOp.getLoc(), output);
    kdrtExport.setBatchAttr(builder.getI64IntegerAttr(batch));
    kdrtExport.setArenaBytesAttr(builder.getI64IntegerAttr(std::max(graph.arenaBytes(), planned.getInt())));
    return success();
  }
};

} // namespace

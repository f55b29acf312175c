//===- FreezeTeachers.cpp - Frozen models become pruned inference copies --===//
//
// In each stage, a model that does not train (a teacher, a student frozen
// after an earlier stage) is read for its taps only. Its `kd.apply` is
// marked frozen, so no gradient flows into it, and points at a pruned
// inference copy of the model: only the ops its read taps depend on, with
// dropout removed and batch norm on running statistics.
//
// Pruning makes one copy per distinct (model, tap set) instead of pruning
// while inlining: the copy is an ordinary kd.model, so the pruned program
// can be printed and checked between passes, and stages that read the same
// taps share it. Models keep their original parameter names, so a copy
// loads the weights its model trained.
//
// For a trained model, the stage's `freeze` statements (`frozen_parts`:
// `S` or `S.l1`) are resolved to the parameter names they cover and put on
// the apply as `frozen_params`.
//
//===----------------------------------------------------------------------===//
#include "FrozenMarks.h"

#include "kd/Dialect/KD/KDOps.h"
#include "kd/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

#include <map>

namespace kd {
#define GEN_PASS_DEF_KDFREEZETEACHERS
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

/// The instance name a model's parameters are prefixed with (`S` for
/// `S/l1.conv0.weight`): the teacher or student that binds the model, or
/// the first parameter's prefix.
std::string instanceName(ModuleOp module, ModelOp model) {
  for (Operation &op : module.getBody()->getOperations()) {
    FlatSymbolRefAttr bound;
    StringRef name;
    if (auto teacher = dyn_cast<TeacherOp>(op)) {
      bound = teacher.getModelAttr();
      name = teacher.getSymName();
    } else if (auto student = dyn_cast<StudentOp>(op)) {
      bound = student.getModelAttr();
      name = student.getSymName();
    }
    if (bound && bound.getValue() == model.getSymName())
      return name.str();
  }
  for (ParamOp param : model.getBodyBlock().getOps<ParamOp>())
    return param.getName().split('/').first.str();
  return model.getSymName().str();
}

/// The parameters the ops of tap `tap` read that its own definition
/// created: the ops between the value and the nearest other named values.
void collectDefinitionParams(ModelOp model, TapOp tap, llvm::StringSet<> &params) {
  llvm::DenseSet<Value> otherNamed;
  for (TapOp other : model.getBodyBlock().getOps<TapOp>())
    if (other != tap && other.getValue() != tap.getValue())
      otherNamed.insert(other.getValue());
  SmallVector<Value> worklist = {tap.getValue()};
  llvm::DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    Operation *def = value.getDefiningOp();
    if (!def)
      continue;
    if (auto param = dyn_cast<ParamOp>(def)) {
      params.insert(param.getName());
      continue;
    }
    for (Value operand : def->getOperands())
      if (!otherNamed.contains(operand))
        worklist.push_back(operand);
  }
}

struct FreezeTeachersPass : public kd::impl::KdFreezeTeachersBase<FreezeTeachersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    copies.clear();
    for (StageOp stage : llvm::make_early_inc_range(module.getOps<StageOp>()))
      if (failed(freezeStage(module, symbols, stage)))
        return signalPassFailure();
  }

  LogicalResult freezeStage(ModuleOp module, SymbolTable &symbols, StageOp stage) {
    llvm::StringSet<> trained;
    for (auto ref : stage.getTrained().getAsRange<FlatSymbolRefAttr>())
      trained.insert(ref.getValue());
    SmallVector<ApplyOp> applies(stage.getBody().front().getOps<ApplyOp>());
    for (ApplyOp apply : applies) {
      auto model = symbols.lookup<ModelOp>(apply.getModel());
      if (!model)
        return apply.emitOpError() << "'" << apply.getModel() << "' does not name a kd.model";
      if (trained.contains(apply.getModel())) {
        if (failed(markFrozenParts(module, stage, apply, model)))
          return failure();
        continue;
      }
      // Already pointing at a pruned copy (the pass ran before).
      if (apply->hasAttr(kFrozenAttrName) && model->hasAttr(kFrozenFromAttrName))
        continue;
      ModelOp copy = inferenceCopy(symbols, model, apply.getTaps());
      apply.setModelAttr(FlatSymbolRefAttr::get(copy.getSymNameAttr()));
      apply->setAttr(kFrozenAttrName, UnitAttr::get(&getContext()));
    }
    return success();
  }

  /// Resolves the stage's `freeze` targets that name this model.
  LogicalResult markFrozenParts(ModuleOp module, StageOp stage, ApplyOp apply, ModelOp model) {
    std::string instance = instanceName(module, model);
    llvm::StringSet<> frozen;
    for (StringRef part : stage.getFrozenParts().getAsValueRange<StringAttr>()) {
      auto [owner, member] = part.split('.');
      if (member.empty()) {
        // A whole model: its parameters, also where another model reads
        // them (a graft hybrid reads the teacher's `T/...` by name).
        std::string scope = owner.str() + "/";
        for (ParamOp param : model.getBodyBlock().getOps<ParamOp>())
          if (param.getName().starts_with(scope))
            frozen.insert(param.getName());
        continue;
      }
      if (owner != instance)
        continue;
      TapOp tap;
      for (TapOp candidate : model.getBodyBlock().getOps<TapOp>())
        if (candidate.getName() == member)
          tap = candidate;
      if (!tap)
        return stage.emitOpError() << "freezes '" << part << "', but model '" << model.getSymName()
                                   << "' has no value named '" << member << "'";
      if (tap.getKind() == TapKind::Block) {
        // A block freezes all its layers: their names start with it.
        std::string prefix = instance + "/" + member.str() + ".";
        for (ParamOp param : model.getBodyBlock().getOps<ParamOp>())
          if (param.getName().starts_with(prefix))
            frozen.insert(param.getName());
        continue;
      }
      collectDefinitionParams(model, tap, frozen);
    }
    if (frozen.empty())
      return success();
    SmallVector<StringRef> names;
    for (const auto &entry : frozen)
      names.push_back(entry.getKey());
    llvm::sort(names);
    apply->setAttr(kFrozenParamsAttrName, Builder(&getContext()).getStrArrayAttr(names));
    return success();
  }

  /// The pruned inference copy of `model` for `taps`, made once per tap set.
  ModelOp inferenceCopy(SymbolTable &symbols, ModelOp model, ArrayAttr taps) {
    SmallVector<StringRef> sortedTaps(taps.getAsValueRange<StringAttr>());
    llvm::sort(sortedTaps);
    std::string key = model.getSymName().str();
    for (StringRef tap : sortedTaps)
      key += "." + tap.str();
    if (ModelOp &cached = copies[key])
      return cached;

    // Copies follow their model in the order they were made.
    Operation *after = model;
    while (auto next = dyn_cast_or_null<ModelOp>(after->getNextNode())) {
      auto from = next->getAttrOfType<FlatSymbolRefAttr>(kFrozenFromAttrName);
      if (!from || from.getValue() != model.getSymName())
        break;
      after = next;
    }
    OpBuilder builder(model);
    builder.setInsertionPointAfter(after);
    auto copy = cast<ModelOp>(builder.clone(*model));
    copy.setSymName(model.getSymName().str() + ".frozen");
    symbols.insert(copy);
    copy->setAttr(kFrozenFromAttrName, FlatSymbolRefAttr::get(model.getSymNameAttr()));
    makeInference(copy);
    prune(copy, sortedTaps);
    copies[key] = copy;
    return copy;
  }

  /// A teacher is pure inference: dropout is the identity and batch norm
  /// uses the running statistics.
  static void makeInference(ModelOp model) {
    for (Operation &op : llvm::make_early_inc_range(model.getBodyBlock())) {
      if (auto dropout = dyn_cast<DropoutOp>(op)) {
        dropout.getResult().replaceAllUsesWith(dropout.getInput());
        dropout.erase();
      } else if (auto bn = dyn_cast<BatchNormOp>(op)) {
        bn->setAttr(kInferenceAttrName, UnitAttr::get(bn.getContext()));
      }
    }
  }

  /// Keeps only the ops the read taps depend on; the model's output becomes
  /// the read tap computed last.
  static void prune(ModelOp model, ArrayRef<StringRef> taps) {
    Block &body = model.getBodyBlock();
    llvm::SetVector<Operation *> live;
    SmallVector<Value> worklist;
    Value last = model.getInput();
    for (TapOp tap : body.getOps<TapOp>()) {
      if (!llvm::is_contained(taps, tap.getName()))
        continue;
      live.insert(tap);
      worklist.push_back(tap.getValue());
      Operation *def = tap.getValue().getDefiningOp();
      Operation *lastDef = last.getDefiningOp();
      if (def && (!lastDef || lastDef->isBeforeInBlock(def)))
        last = tap.getValue();
    }
    while (!worklist.empty()) {
      Operation *def = worklist.pop_back_val().getDefiningOp();
      if (!def || !live.insert(def))
        continue;
      for (Value operand : def->getOperands())
        worklist.push_back(operand);
    }
    auto output = cast<OutputOp>(body.getTerminator());
    output.getValueMutable().assign(last);
    model.setFunctionTypeAttr(TypeAttr::get(
        FunctionType::get(model.getContext(), model.getInput().getType(), last.getType())));
    SmallVector<Operation *> dead;
    for (Operation &op : body.without_terminator())
      if (!live.contains(&op))
        dead.push_back(&op);
    // Users come after their operands' definitions: erase from the back.
    for (Operation *op : llvm::reverse(dead))
      op->erase();
  }

  std::map<std::string, ModelOp> copies;
};

} // namespace

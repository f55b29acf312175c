//===- Autodiff.cpp - Reverse-mode gradients of each stage's loss ---------===//
//
// Each stage's body, flat after --kd-inline-models, gets the backward of its
// loss appended before `kd.minimize`:
//
// 1. Activity: a value needs a gradient only when it depends on a trainable
//    parameter (not state, not marked frozen). Batch inputs, labels and
//    everything computed from frozen models alone never get one, so no
//    backward op ever asks for their gradient.
// 2. Loss weights: `kd.loss.combine` folds the loss expression into one
//    weight per loss; that weight is the gradScale of the loss's fused
//    kernel (`kd.loss.grad`).
// 3. The ops are walked in reverse order; each builds its backward through
//    DifferentiableOpInterface / DifferentiableLossOpInterface with a
//    `wanted` flag per active operand. A loss's target operands (those its
//    kernel has no gradient slot for: labels, soft targets, kl's target,
//    the teacher side of rkd and dkd) are never wanted: in self-distillation
//    the student's deepest classifier teaches its exits as a detached
//    target. A value several ops read sums the gradients with `kd.add`.
// 4. Every trainable parameter's gradient is bound by `kd.param_grad`; one
//    the loss does not reach is an error at the parameter's `.kd` line.
//
// The pass finally checks that no frozen parameter received a gradient, and
// replaces each `kd.stop_gradient` (`detach(x)`: a constant to step 1) by
// its input, which is all it is after this pass.
//
//===----------------------------------------------------------------------===//
#include "FrozenMarks.h"

#include "kd/Dialect/KD/KDOps.h"
#include "kd/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"

namespace kd {
#define GEN_PASS_DEF_KDAUTODIFF
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

/// The backward of one stage body.
class StageDifferentiator {
public:
  StageDifferentiator(ModuleOp module, StageOp stage)
      : module(module), stage(stage), body(stage.getBody().front()),
        builder(OpBuilder::atBlockTerminator(&body)) {}

  LogicalResult run() {
    if (failed(checkFlat()))
      return failure();
    findActiveValues();
    if (failed(weighLosses()))
      return failure();
    if (failed(buildBackward()))
      return failure();
    if (failed(bindParameterGradients()))
      return failure();
    return checkFrozenParametersHaveNoGradient();
  }

private:
  LogicalResult checkFlat() {
    for (Operation &op : body)
      if (isa<ApplyOp>(op))
        return op.emitOpError() << "is left in stage '" << stage.getSymName()
                                << "': run --kd-inline-models before --kd-autodiff";
    return success();
  }

  void findActiveValues() {
    for (Operation &op : body) {
      if (auto param = dyn_cast<ParamOp>(op)) {
        if (isTrainableParam(param))
          active.insert(param.getResult());
        continue;
      }
      if (isa<StopGradientOp>(op))
        continue;
      if (llvm::any_of(op.getOperands(), [&](Value v) { return active.contains(v); }))
        active.insert(op.getResults().begin(), op.getResults().end());
    }
  }

  /// The weight of each loss value in the minimised loss.
  LogicalResult weighLosses() {
    auto minimize = cast<MinimizeOp>(body.getTerminator());
    lossWeights[minimize.getLoss()] = 1.0;
    for (Operation &op : llvm::reverse(body.without_terminator())) {
      auto combine = dyn_cast<LossCombineOp>(op);
      if (!combine)
        continue;
      double outer = lossWeights.lookup(combine.getResult());
      for (auto [loss, weight] : llvm::zip(combine.getLosses(), combine.getWeights()))
        lossWeights[loss] += outer * weight;
    }
    return success();
  }

  void accumulate(Value value, Value grad) {
    if (!grad)
      return;
    Value &sum = grads[value];
    sum = sum ? builder.create<AddOp>(value.getLoc(), sum, grad).getResult() : grad;
  }

  SmallVector<bool> wantedOperands(Operation *op) {
    SmallVector<bool> wanted;
    for (Value operand : op->getOperands())
      wanted.push_back(active.contains(operand));
    return wanted;
  }

  /// A loss's wanted operands: the active ones it passes a gradient to. Its
  /// targets (labels, soft targets, kl's target distribution, the teacher
  /// side of rkd and dkd) are constants even when a trained model computes
  /// them, e.g. the deepest classifier that teaches the exits.
  SmallVector<bool> wantedLossOperands(DifferentiableLossOpInterface loss) {
    SmallVector<bool> wanted = wantedOperands(loss.getOperation());
    for (unsigned index = 0; index < wanted.size(); ++index)
      wanted[index] = wanted[index] && loss.hasGradientSlot(index);
    return wanted;
  }

  LogicalResult buildBackward() {
    SmallVector<Operation *> forward;
    for (Operation &op : body.without_terminator())
      forward.push_back(&op);
    for (Operation *op : llvm::reverse(forward)) {
      if (isa<LossCombineOp, ParamOp>(op))
        continue;
      SmallVector<Value> operandGrads;
      if (auto loss = dyn_cast<DifferentiableLossOpInterface>(op)) {
        double weight = lossWeights.lookup(op->getResult(0));
        SmallVector<bool> wanted = wantedLossOperands(loss);
        if (weight == 0.0 || !llvm::is_contained(wanted, true))
          continue;
        if (failed(loss.buildLossBackward(builder, weight, wanted, operandGrads)))
          return failure();
      } else {
        SmallVector<Value> resultGrads;
        for (Value result : op->getResults())
          resultGrads.push_back(grads.lookup(result));
        if (llvm::all_of(resultGrads, [](Value g) { return !g; }))
          continue;
        auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
        if (!differentiable)
          return op->emitOpError() << "has no backward rule, but the loss of stage '" << stage.getSymName()
                                   << "' needs a gradient through it";
        if (failed(differentiable.buildBackward(builder, resultGrads, wantedOperands(op), operandGrads)))
          return failure();
      }
      for (auto [operand, grad] : llvm::zip(op->getOperands(), operandGrads))
        accumulate(operand, grad);
    }
    return success();
  }

  /// One `kd.param_grad` per trainable parameter name.
  LogicalResult bindParameterGradients() {
    llvm::MapVector<StringRef, SmallVector<ParamOp>> byName;
    for (ParamOp param : body.getOps<ParamOp>())
      if (isTrainableParam(param))
        byName[param.getName()].push_back(param);
    for (auto &[name, params] : byName) {
      Value sum;
      for (ParamOp param : params)
        if (Value grad = grads.lookup(param.getResult()))
          sum = sum ? builder.create<AddOp>(param.getLoc(), sum, grad).getResult() : grad;
      if (!sum)
        return reportUnreached(params.front());
      builder.create<ParamGradOp>(params.front().getLoc(), name, sum);
    }
    return success();
  }

  LogicalResult reportUnreached(ParamOp param) {
    InFlightDiagnostic diag = param.emitError() << "parameter '" << param.getName() << "'";
    StringRef owner = param.getName().split('/').first;
    if (isa_and_nonnull<StudentOp, TeacherOp>(SymbolTable::lookupSymbolIn(module, owner)))
      diag << " of the trained model '" << owner << "'";
    diag << " receives no gradient from the loss of stage '" << stage.getSymName()
         << "'; freeze it or use it in the loss";
    return diag;
  }

  LogicalResult checkFrozenParametersHaveNoGradient() {
    llvm::StringSet<> frozen;
    for (ParamOp param : body.getOps<ParamOp>())
      if (param->hasAttr(kFrozenAttrName))
        frozen.insert(param.getName());
    for (ParamGradOp grad : body.getOps<ParamGradOp>())
      if (frozen.contains(grad.getName()))
        return grad.emitOpError() << "binds a gradient of the frozen parameter '" << grad.getName() << "'";
    return success();
  }

  ModuleOp module;
  StageOp stage;
  Block &body;
  OpBuilder builder;
  llvm::DenseSet<Value> active;
  llvm::DenseMap<Value, double> lossWeights;
  llvm::DenseMap<Value, Value> grads;
};

struct AutodiffPass : public kd::impl::KdAutodiffBase<AutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (StageOp stage : module.getOps<StageOp>()) {
      // A stage already differentiated keeps its backward.
      Block &body = stage.getBody().front();
      bool differentiated = !body.getOps<ParamGradOp>().empty() || !body.getOps<LossGradOp>().empty();
      if (!differentiated && failed(StageDifferentiator(module, stage).run()))
        return signalPassFailure();
      for (StopGradientOp stop : llvm::make_early_inc_range(body.getOps<StopGradientOp>())) {
        stop.getResult().replaceAllUsesWith(stop.getInput());
        stop.erase();
      }
    }
  }
};

} // namespace

//===- PlanMemory.cpp - Liveness-based offsets in one arena per graph -----===//
//
// Every activation, gradient and loss buffer of a flat stage (forward,
// losses and backward in one block) or of an evaluation body lives from the
// moment the executor writes it to its last reader in program order; forward
// values the backward reads therefore stay alive until that backward op.
// Most values are written by their defining op, with two exceptions:
//
//  - batch inputs (the images of every view, the labels) are all written
//    by the executor before the step's first kernel, so they live from the
//    start of the step wherever their op stands;
//  - the results of a kd.loss.grad are written by the loss's fused kernel,
//    in the same call as the loss value, so they live from the loss op.
//
// An evaluation or export body is inference, where a dropout is the
// identity and the lowering reads its input in its place. The planner first
// replaces every such dropout by its input, so that the input lives until the
// dropout's last reader: planned as a buffer of its own, the dropout's
// result let the input's bytes be reused while the lowered graph still read
// them (a linear layer writing its logits over its own input).
//
// Buffers are
// placed largest first, each into the smallest gap between the buffers
// already placed whose lifetimes overlap its own (best fit), or above them:
// bytes of dead buffers are reused, live ones never shared.
//
//===----------------------------------------------------------------------===//
#include "GraphKind.h"
#include "kd/Dialect/KD/KDOps.h"
#include "kd/Transforms/MemoryPlan.h"
#include "kd/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>

namespace kd {
#define GEN_PASS_DEF_KDPLANMEMORY
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

struct Interval {
  mlir::Value value;
  int64_t bytes;
  int64_t first, last; // op indices, inclusive
  int64_t offset = -1;
};

bool overlaps(const Interval &a, const Interval &b) { return a.first <= b.last && b.first <= a.last; }

/// Where the executor writes the results of `op`: the step's start for
/// batch inputs, the loss's kernel for a loss gradient, else `op` itself.
int64_t firstWrite(Operation &op, Block &block, const llvm::DenseMap<Operation *, int64_t> &position) {
  if (isa<BatchInputOp, BatchLabelsOp>(op))
    return 0;
  if (auto grad = dyn_cast<LossGradOp>(op))
    if (Operation *loss = grad.getLoss().getDefiningOp())
      if (Operation *inBlock = block.findAncestorOpInBlock(*loss))
        return std::min(position.lookup(inBlock), position.lookup(&op));
  return position.lookup(&op);
}

/// Best fit of `interval` among the placed intervals it overlaps in time.
int64_t bestFitOffset(const Interval &interval, ArrayRef<const Interval *> placed) {
  SmallVector<const Interval *> live;
  for (const Interval *other : placed)
    if (overlaps(interval, *other))
      live.push_back(other);
  llvm::sort(live, [](const Interval *a, const Interval *b) { return a->offset < b->offset; });
  int64_t best = -1, bestGap = 0, cursor = 0;
  for (const Interval *other : live) {
    int64_t gap = other->offset - cursor;
    if (gap >= interval.bytes && (best < 0 || gap < bestGap)) {
      best = cursor;
      bestGap = gap;
    }
    cursor = std::max(cursor, other->offset + other->bytes);
  }
  return best >= 0 ? best : cursor;
}

/// Bytes per trainable parameter byte the optimizer keeps: momentum for
/// SGD with momentum, two moments for Adam / AdamW.
int64_t optimizerStateCopies(StageOp stage) {
  DictionaryAttr optimizer = stage.getOptimizerAttr();
  if (!optimizer)
    return 0;
  auto kind = optimizer.getAs<StringAttr>("kind");
  if (!kind)
    return 0;
  if (kind.getValue() == "adam" || kind.getValue() == "adamw")
    return 2;
  if (kind.getValue() == "sgd") {
    auto momentum = optimizer.getAs<FloatAttr>("momentum");
    return momentum && momentum.getValueAsDouble() != 0 ? 1 : 0;
  }
  return 1;
}

struct KdPlanMemory : kd::impl::KdPlanMemoryBase<KdPlanMemory> {
  using Base::Base;

  void runOnOperation() override {
    for (Operation &op : getOperation().getBody()->getOperations()) {
      if (auto stage = dyn_cast<StageOp>(op)) {
        if (failed(planGraph(&op, stage.getBatch())))
          return signalPassFailure();
      } else if (auto evaluate = dyn_cast<EvaluateOp>(op); evaluate && !evaluate.getBody().empty()) {
        if (failed(planGraph(&op, evaluate.getBatch().value_or(evalBatch))))
          return signalPassFailure();
      } else if (isa<ExportOp>(op) && !op.getRegion(0).empty()) {
        if (failed(planGraph(&op, evalBatch)))
          return signalPassFailure();
      }
    }
  }

  /// Inference dropouts are identities (see the file comment).
  static void dropInferenceDropouts(Block &block) {
    for (Operation &op : llvm::make_early_inc_range(block))
      if (auto dropout = dyn_cast<DropoutOp>(op); dropout && graphKindOf(&op) == GraphKind::Inference) {
        dropout.getResult().replaceAllUsesWith(dropout.getInput());
        dropout.erase();
      }
  }

  LogicalResult planGraph(Operation *owner, int64_t batch) {
    Block &block = owner->getRegion(0).front();
    dropInferenceDropouts(block);
    if (batch < 1)
      return owner->emitError() << "cannot plan memory for a batch of " << batch;
    llvm::DenseMap<Operation *, int64_t> position;
    int64_t index = 0;
    for (Operation &op : block)
      position[&op] = index++;

    SmallVector<Interval> intervals;
    llvm::StringSet<> params;
    int64_t paramBytes = 0, gradBytes = 0, trainableBytes = 0;
    for (Operation &op : block) {
      if (auto param = dyn_cast<ParamOp>(op)) {
        if (params.insert(param.getName()).second)
          paramBytes += staticTensorBytes(param.getType());
        continue;
      }
      if (auto grad = dyn_cast<ParamGradOp>(op)) {
        gradBytes += staticTensorBytes(grad.getGrad().getType());
        trainableBytes += staticTensorBytes(grad.getGrad().getType());
        continue;
      }
      if (isa<ApplyOp>(op))
        return op.emitError("a model application must be inlined (--kd-inline-models) before memory planning");
      for (Value result : op.getResults()) {
        if (!isArenaValue(result))
          continue;
        FailureOr<int64_t> bytes = alignedBufferBytes(result.getType(), batch);
        if (failed(bytes))
          return op.emitError() << "value of type " << result.getType()
                                << " has no static size: only the batch dimension may be dynamic";
        int64_t last = position[&op];
        for (Operation *user : result.getUsers()) {
          Operation *inBlock = block.findAncestorOpInBlock(*user);
          if (inBlock)
            last = std::max(last, position[inBlock]);
        }
        intervals.push_back({result, *bytes, firstWrite(op, block, position), last});
      }
    }

    // Largest first; among equals, the earlier definition first, so the
    // plan does not depend on anything but the program.
    SmallVector<Interval *> order;
    for (Interval &interval : intervals)
      order.push_back(&interval);
    std::stable_sort(order.begin(), order.end(),
                     [](const Interval *a, const Interval *b) { return a->bytes > b->bytes; });
    SmallVector<const Interval *> placed;
    int64_t arenaBytes = 0, naiveBytes = 0;
    for (Interval *interval : order) {
      interval->offset = bestFitOffset(*interval, placed);
      placed.push_back(interval);
      arenaBytes = std::max(arenaBytes, interval->offset + interval->bytes);
      naiveBytes += interval->bytes;
    }

    llvm::DenseMap<Value, int64_t> offsetOf;
    for (const Interval &interval : intervals)
      offsetOf[interval.value] = interval.offset;
    Builder builder(owner->getContext());
    for (Operation &op : block) {
      if (op.getNumResults() == 0)
        continue;
      SmallVector<int64_t> offsets;
      bool any = false;
      for (Value result : op.getResults()) {
        auto it = offsetOf.find(result);
        offsets.push_back(it == offsetOf.end() ? -1 : it->second);
        any |= it != offsetOf.end();
      }
      if (any)
        op.setAttr("offsets", builder.getDenseI64ArrayAttr(offsets));
    }
    int64_t optimizerBytes = 0;
    if (auto stage = dyn_cast<StageOp>(owner))
      optimizerBytes = optimizerStateCopies(stage) * trainableBytes;
    owner->setAttr("plan_batch", builder.getI64IntegerAttr(batch));
    owner->setAttr("arena_bytes", builder.getI64IntegerAttr(arenaBytes));
    owner->setAttr("naive_bytes", builder.getI64IntegerAttr(naiveBytes));
    owner->setAttr("param_bytes", builder.getI64IntegerAttr(paramBytes));
    owner->setAttr("grad_bytes", builder.getI64IntegerAttr(gradBytes));
    owner->setAttr("optimizer_state_bytes", builder.getI64IntegerAttr(optimizerBytes));
    return success();
  }
};

} // namespace

//===- VerifyShapes.cpp - Re-infers and checks every recorded shape -------===//
//
// A safety net between passes: every layer op, tap read, batch, adapter and
// loss operand is re-inferred from the op semantics and compared exactly
// with the type the IR records. The op verifiers accept a dynamic dimension
// where a static one belongs and cannot see across symbols (a batch against
// its data set, an adapter against its kind); this pass can.
//
//===----------------------------------------------------------------------===//
#include "kd/Transforms/Passes.h"

#include "ShapeRules.h"

#include "kd/Dialect/KD/KDOps.h"

#include "mlir/IR/SymbolTable.h"

namespace kd {
#define GEN_PASS_DEF_KDVERIFYSHAPES
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

using Shape = SmallVector<int64_t>;

ArrayRef<int64_t> shapeOf(Value v) { return cast<RankedTensorType>(v.getType()).getShape(); }

// Batched: a dynamic batch dimension first, every other dimension static.
bool isBatched(ArrayRef<int64_t> shape) {
  return !shape.empty() && ShapedType::isDynamic(shape[0]) &&
         llvm::none_of(shape.drop_front(), ShapedType::isDynamic);
}

LogicalResult mismatch(Operation *op, StringRef what, ArrayRef<int64_t> recorded, ArrayRef<int64_t> inferred) {
  return op->emitOpError() << what << " is recorded as " << describeShape(recorded) << " but its shape rule gives "
                           << describeShape(inferred);
}

LogicalResult expectBatched(Operation *op, StringRef what, Value v) {
  if (isBatched(shapeOf(v)))
    return success();
  return op->emitOpError() << what << " " << describeShape(shapeOf(v))
                           << " must have a dynamic batch dimension and static other dimensions";
}

// The per-sample image shape a split delivers: the data set's image after
// the split's resizing and cropping augmentations, then the model's input
// transform.
Shape batchShape(DatasetOp data, StringRef split, DictionaryAttr transform) {
  Shape shape = {ShapedType::kDynamic};
  llvm::append_range(shape, data.getImageShape());
  auto resizeTo = [&](DictionaryAttr call) {
    auto kind = call.getAs<StringAttr>("kind");
    auto h = call.getAs<IntegerAttr>("h"), w = call.getAs<IntegerAttr>("w");
    auto size = call.getAs<IntegerAttr>("size");
    if (kind && kind.getValue() == "resize" && h && w) {
      shape[2] = h.getInt();
      shape[3] = w.getInt();
    } else if (kind && kind.getValue() == "crop" && size) {
      shape[2] = shape[3] = size.getInt();
    }
  };
  for (DictionaryAttr entry : data.getSplits().getAsRange<DictionaryAttr>()) {
    auto name = entry.getAs<StringAttr>("name");
    if (!name || name.getValue() != split)
      continue;
    if (auto augment = entry.getAs<ArrayAttr>("augment"))
      for (auto call : augment.getAsRange<DictionaryAttr>())
        resizeTo(call);
  }
  if (transform)
    resizeTo(transform);
  return shape;
}

struct VerifyShapesPass : public kd::impl::KdVerifyShapesBase<VerifyShapesPass> {
  void runOnOperation() override;

  LogicalResult verifyModel(ModelOp model);
  LogicalResult verifyOp(Operation *op);
  LogicalResult verifyAdapter(AdaptOp adapt);
  LogicalResult verifyLoss(Operation *op);
  LogicalResult verifyBatch(BatchInputOp batch);

  // Set for the duration of one run (a pass must stay copyable).
  SymbolTableCollection *symbols = nullptr;
};

LogicalResult VerifyShapesPass::verifyModel(ModelOp model) {
  if (failed(expectBatched(model, "the model input", model.getInput())))
    return failure();
  auto output = cast<OutputOp>(model.getBodyBlock().getTerminator());
  if (output.getValue().getType() != model.getFunctionType().getResult(0))
    return mismatch(model, "the model output", shapeOf(output.getValue()),
                    cast<RankedTensorType>(model.getFunctionType().getResult(0)).getShape());
  return success();
}

LogicalResult VerifyShapesPass::verifyAdapter(AdaptOp adapt) {
  ArrayRef<int64_t> from = shapeOf(adapt.getInput()), to = shapeOf(adapt.getResult());
  StringRef kind = adapt.getKind();
  auto refuse = [&](StringRef rule) {
    return adapt.emitOpError() << "a " << kind << " adapter " << rule << "; cannot map " << describeShape(from)
                               << " to " << describeShape(to);
  };
  if (failed(expectBatched(adapt, "the adapter input", adapt.getInput())) ||
      failed(expectBatched(adapt, "the adapter result", adapt.getResult())))
    return failure();
  if (kind == "identity" && from != to)
    return refuse("keeps the shape");
  if ((kind == "conv1x1" || kind == "conv3x3") &&
      (from.size() != 4 || to.size() != 4 || from[2] != to[2] || from[3] != to[3]))
    return refuse("maps image features and keeps the spatial size");
  if (kind == "linear" && (from.size() != 2 || to.size() != 2))
    return refuse("maps vectors [N, I] to [N, O]");
  if (kind == "pool" &&
      (from.size() != 4 || to.size() != 4 || from[1] != to[1] || to[2] > from[2] || to[3] > from[3]))
    return refuse("keeps the channels and shrinks the spatial size");
  if (kind == "conv1x1+pool" &&
      (from.size() != 4 || to.size() != 4 || to[2] > from[2] || to[3] > from[3]))
    return refuse("maps image features and shrinks the spatial size");
  return success();
}

LogicalResult VerifyShapesPass::verifyLoss(Operation *op) {
  auto same = [&](Value lhs, Value rhs) -> LogicalResult {
    if (shapeOf(lhs) == shapeOf(rhs))
      return success();
    return op->emitOpError() << "compares " << describeShape(shapeOf(lhs)) << " with " << describeShape(shapeOf(rhs))
                             << "; the shapes must be equal";
  };
  for (Value operand : op->getOperands())
    if (!cast<RankedTensorType>(operand.getType()).getElementType().isInteger(64) &&
        failed(expectBatched(op, "the loss operand", operand)))
      return failure();
  if (isa<KlDivLossOp, MseLossOp, L1LossOp, SmoothL1LossOp, CosineLossOp, DkdLossOp>(op))
    return same(op->getOperand(0), op->getOperand(1));
  if (auto ce = dyn_cast<CrossEntropyLossOp>(op)) {
    if (shapeOf(ce.getLogits()).size() != 2)
      return ce.emitOpError() << "logits " << describeShape(shapeOf(ce.getLogits())) << " must be [N, K]";
    if (cast<RankedTensorType>(ce.getTarget().getType()).getElementType().isInteger(64))
      return success();
    return same(ce.getLogits(), ce.getTarget());
  }
  if (auto at = dyn_cast<AttentionTransferLossOp>(op)) {
    ArrayRef<int64_t> s = shapeOf(at.getLhs()), t = shapeOf(at.getRhs());
    if (s.size() != 4 || t.size() != 4 || s[2] != t[2] || s[3] != t[3])
      return at.emitOpError() << "compares " << describeShape(s) << " with " << describeShape(t)
                              << "; attention transfer needs image features of the same spatial size";
  }
  return success();
}

LogicalResult VerifyShapesPass::verifyBatch(BatchInputOp batch) {
  if (failed(expectBatched(batch, "the batch", batch.getResult())))
    return failure();
  // The data set a batch comes from is its stage's.
  Operation *owner = batch->getParentOp();
  auto data = owner ? owner->getAttrOfType<FlatSymbolRefAttr>("data") : FlatSymbolRefAttr();
  auto split = owner ? owner->getAttrOfType<StringAttr>("split") : StringAttr();
  if (!data || !split)
    return success();
  auto dataset = symbols->lookupNearestSymbolFrom<DatasetOp>(owner, data);
  if (!dataset)
    return success(); // the stage's symbol verifier reports it
  Shape expected = batchShape(dataset, split.getValue(), batch.getTransformAttr());
  if (shapeOf(batch.getResult()) != ArrayRef<int64_t>(expected))
    return mismatch(batch, "the batch of split '" + split.getValue().str() + "'", shapeOf(batch.getResult()),
                    expected);
  return success();
}

LogicalResult VerifyShapesPass::verifyOp(Operation *op) {
  if (auto model = dyn_cast<ModelOp>(op))
    return verifyModel(model);
  if (auto adapt = dyn_cast<AdaptOp>(op))
    return verifyAdapter(adapt);
  if (auto batch = dyn_cast<BatchInputOp>(op))
    return verifyBatch(batch);
  if (isa<CrossEntropyLossOp, KlDivLossOp, MseLossOp, L1LossOp, SmoothL1LossOp, CosineLossOp,
          AttentionTransferLossOp, RkdDistanceLossOp, RkdAngleLossOp, DkdLossOp>(op))
    return verifyLoss(op);
  if (auto reshape = dyn_cast<ReshapeOp>(op)) {
    ArrayRef<int64_t> x = shapeOf(reshape.getInput()), y = shapeOf(reshape.getResult());
    if (!isBatched(y))
      return expectBatched(op, "the reshape result", reshape.getResult());
    int64_t in = 1, out = 1;
    for (int64_t d : x.drop_front())
      in *= d;
    for (int64_t d : y.drop_front())
      out *= d;
    if (in != out)
      return op->emitOpError() << "reshapes " << describeShape(x) << " (" << in << " values per sample) to "
                               << describeShape(y) << " (" << out << ")";
    return success();
  }
  if (auto apply = dyn_cast<ApplyOp>(op)) {
    auto model = symbols->lookupNearestSymbolFrom<ModelOp>(apply, apply.getModelAttr());
    if (!model)
      return success(); // reported by the symbol verifier
    for (auto [tap, result] : llvm::zip(apply.getTaps().getAsRange<StringAttr>(), apply.getResults())) {
      Value tapped = model.lookupTap(tap.getValue());
      if (tapped && tapped.getType() != result.getType())
        return mismatch(apply, "tap '" + tap.getValue().str() + "'", shapeOf(result), shapeOf(tapped));
    }
    return success();
  }
  if (op->getNumResults() != 1)
    return success();
  std::optional<Shape> inferred = inferResultShape(op);
  if (!inferred)
    return success();
  if (shapeOf(op->getResult(0)) != ArrayRef<int64_t>(*inferred))
    return mismatch(op, "the result", shapeOf(op->getResult(0)), *inferred);
  return success();
}

void VerifyShapesPass::runOnOperation() {
  SymbolTableCollection tables;
  symbols = &tables;
  bool failedAny = false;
  getOperation()->walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "kd" && failed(verifyOp(op)))
      failedAny = true;
  });
  if (failedAny)
    return signalPassFailure();
  markAllAnalysesPreserved();
}

} // namespace

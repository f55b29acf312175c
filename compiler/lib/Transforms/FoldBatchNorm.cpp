//===- FoldBatchNorm.cpp - Inference batch norm into the layer before it --===//
//
// In an inference graph a batch norm is an affine map per channel, so a
// convolution (or a linear layer on [N, C]) followed by it is one layer with
// rescaled weights and a shifted bias. The trained parameters are only
// known when the plan runs, so the fold is an op (kd.fold_batch_norm) that
// computes the new weight and bias from the originals there: the runtime's
// fold_batch_norm, run once when a .kdx export is written.
//
//===----------------------------------------------------------------------===//
#include "GraphKind.h"

#include "kd/Dialect/KD/KDOps.h"
#include "kd/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace kd {
#define GEN_PASS_DEF_KDFOLDBATCHNORM
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

/// True when `value` is a parameter read by `user` alone: its folded
/// replacement takes its name in the exported plan, so no other op may read
/// the original.
bool onlyReadBy(Value value, Operation *user) {
  return !value || (value.getDefiningOp<ParamOp>() && llvm::all_of(value.getUsers(), [&](Operation *other) {
                      return other == user;
                    }));
}

/// Folds `norm` into the convolution or linear layer producing its input
/// when that layer's result is read by nothing else (a tap or a second
/// reader still needs the unnormalised value) and its weight and bias are
/// parameters it alone reads. A linear layer folds only on [N, C] values:
/// on tokens [B, N, D] the batch norm's channel is not the layer's output.
void foldIntoLayer(BatchNormOp norm) {
  Operation *layer = norm.getInput().getDefiningOp();
  if (!layer || !isa<Conv2dOp, LinearOp>(layer) || !layer->hasOneUse())
    return;
  auto linear = dyn_cast<LinearOp>(layer);
  if (linear && cast<RankedTensorType>(linear.getType()).getRank() != 2)
    return;
  Value weight = layer->getOperand(1);
  Value bias = layer->getNumOperands() > 2 ? layer->getOperand(2) : Value();
  if (!onlyReadBy(weight, layer) || !onlyReadBy(bias, layer))
    return;
  OpBuilder builder(norm);
  auto fold = builder.create<FoldBatchNormOp>(norm.getLoc(), TypeRange{weight.getType(), norm.getWeight().getType()},
                                              weight, bias, norm.getWeight(), norm.getBias(), norm.getRunningMean(),
                                              norm.getRunningVar(), norm.getEpsAttr());
  Value folded;
  if (auto conv = dyn_cast<Conv2dOp>(layer))
    folded = builder.create<Conv2dOp>(conv.getLoc(), conv.getType(), conv.getInput(), fold.getFoldedWeight(),
                                      fold.getFoldedBias(), conv.getStrideAttr(), conv.getPadAttr(),
                                      conv.getDilationAttr(), conv.getGroupsAttr());
  else
    folded = builder.create<LinearOp>(linear.getLoc(), linear.getType(), linear.getInput(), fold.getFoldedWeight(),
                                      fold.getFoldedBias());
  norm.getResult().replaceAllUsesWith(folded);
  norm.erase();
  layer->erase();
}

struct KdFoldBatchNorm : kd::impl::KdFoldBatchNormBase<KdFoldBatchNorm> {
  void runOnOperation() override {
    // Only an export's inference program: its folds run once, when the
    // export is written. An evaluation's program runs on the live weights
    // of the training run and keeps its batch norms.
    SmallVector<BatchNormOp> norms;
    getOperation().walk([&](ExportOp exported) {
      exported.walk([&](BatchNormOp norm) {
        if (graphKindOf(norm) == GraphKind::Inference)
          norms.push_back(norm);
      });
    });
    for (BatchNormOp norm : norms)
      foldIntoLayer(norm);
  }
};

} // namespace

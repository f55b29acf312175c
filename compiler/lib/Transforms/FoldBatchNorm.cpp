//===- FoldBatchNorm.cpp - Inference batch norm into the conv before it ---===//
//
// In an inference graph a batch norm is an affine map per channel, so a
// convolution followed by it is one convolution with rescaled weights and a
// shifted bias. The trained parameters are only known when the plan runs,
// so the fold is an op (kd.fold_batch_norm) that computes the new weight
// and bias from the originals there, once per run.
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

/// Folds `norm` into the convolution producing its input when that
/// convolution's result is read by nothing else (a tap or a second reader
/// still needs the unnormalised value).
void foldIntoConv(BatchNormOp norm) {
  auto conv = norm.getInput().getDefiningOp<Conv2dOp>();
  if (!conv || !conv->hasOneUse())
    return;
  OpBuilder builder(norm);
  auto fold = builder.create<FoldBatchNormOp>(
      norm.getLoc(), TypeRange{conv.getWeight().getType(), norm.getWeight().getType()}, conv.getWeight(),
      conv.getBias(), norm.getWeight(), norm.getBias(), norm.getRunningMean(), norm.getRunningVar(),
      norm.getEpsAttr());
  auto folded = builder.create<Conv2dOp>(conv.getLoc(), conv.getType(), conv.getInput(), fold.getFoldedWeight(),
                                         fold.getFoldedBias(), conv.getStrideAttr(), conv.getPadAttr(),
                                         conv.getDilationAttr(), conv.getGroupsAttr());
  norm.getResult().replaceAllUsesWith(folded.getResult());
  norm.erase();
  conv.erase();
}

struct KdFoldBatchNorm : kd::impl::KdFoldBatchNormBase<KdFoldBatchNorm> {
  void runOnOperation() override {
    SmallVector<BatchNormOp> norms;
    getOperation().walk([&](BatchNormOp norm) {
      if (graphKindOf(norm) == GraphKind::Inference)
        norms.push_back(norm);
    });
    for (BatchNormOp norm : norms)
      foldIntoConv(norm);
  }
};

} // namespace

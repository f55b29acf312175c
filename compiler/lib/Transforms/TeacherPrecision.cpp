//===- TeacherPrecision.cpp - bf16 permission for frozen convolutions -----===//
//
// A frozen teacher's forward convolutions are pure inference inside a
// training step: nothing differentiates through their weights, and the
// values they feed (soft targets, hint features) are compared with a
// student's at far coarser precision than fp32. With precision=bf16 they
// are marked so that a backend with native bf16 convolutions may run them
// in bf16. Runs after --kd-fuse, so the marks land on the fused ops the
// lowering sees.
//
//===----------------------------------------------------------------------===//
#include "FrozenMarks.h"
#include "GraphKind.h"

#include "kd/Dialect/KD/KDOps.h"
#include "kd/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace kd {
#define GEN_PASS_DEF_KDTEACHERPRECISION
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

bool hasFrozenWeight(Value weight) {
  auto param = weight.getDefiningOp<ParamOp>();
  return param && param->hasAttr(kFrozenAttrName);
}

struct TeacherPrecisionPass : public kd::impl::KdTeacherPrecisionBase<TeacherPrecisionPass> {
  using KdTeacherPrecisionBase::KdTeacherPrecisionBase;

  void runOnOperation() override {
    if (precision != "fp32" && precision != "bf16") {
      getOperation().emitError() << "unknown teacher precision '" << precision << "' (expected 'fp32' or 'bf16')";
      return signalPassFailure();
    }
    if (precision == "fp32")
      return;
    StringAttr bf16 = StringAttr::get(&getContext(), "bf16");
    for (auto stage : getOperation().getOps<StageOp>()) {
      stage.walk([&](Operation *op) {
        Value weight;
        if (auto conv = dyn_cast<Conv2dOp>(op))
          weight = conv.getWeight();
        else if (auto fused = dyn_cast<Conv2dFusedOp>(op))
          weight = fused.getWeight();
        if (weight && hasFrozenWeight(weight) && graphKindOf(op) == GraphKind::Training)
          op->setAttr(kPrecisionAttrName, bf16);
      });
    }
  }
};

} // namespace

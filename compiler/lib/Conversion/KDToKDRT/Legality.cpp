//===- Legality.cpp - Which kd ops have a runtime kernel on a target ------===//
//
// Runs before any lowering, so a program the runtime cannot execute is
// refused with the op, the target and the reason at the user's line rather
// than failing half-way through the conversion.
//
//===----------------------------------------------------------------------===//
#include "kd/Conversion/KDToKDRT/KDToKDRT.h"
#include "Lowering.h"

#include "kd/Dialect/KD/KDOps.h"

using namespace mlir;
using namespace kd;

std::optional<std::string> kd::lowering::unsupportedReason(Operation *op, StringRef target) {
  if (isa<ApplyOp>(op))
    return std::string("is left in a stage: the stage is not flat (run --kd-inline-models first)");
  if (isa<AdaptOp, AttentionFuseOp>(op))
    return std::string("is left in a stage: run --kd-materialize-adapters first");
  if (isa<StopGradientOp>(op))
    return std::string("is left in a stage: run --kd-autodiff first, which resolves it");
  if (isa<NormalizeOp>(op))
    return std::string("has no runtime kernel");
  if (target != "cpu" && target != "gpu")
    return "unknown target '" + target.str() + "' (expected cpu or gpu)";
  if (isa<EnsembleOp>(op) && target == "gpu")
    return std::string("the GPU backend has no ensemble_combine entry (compile for --target cpu)");
  if (!isLowerable(op))
    return std::string("has no runtime kernel");
  if (isa<FoldBatchNormOp>(op) && target == "gpu")
    return std::string("the GPU runtime computes no batch-norm folds: export the model to .safetensors, or "
                       "compile for the CPU");
  return std::nullopt;
}

LogicalResult kd::checkRuntimeLegality(ModuleOp module, StringRef target) {
  bool ok = true;
  auto check = [&](Operation *op) {
    if (std::optional<std::string> reason = lowering::unsupportedReason(op, target)) {
      op->emitError() << "'" << op->getName() << "' has no runtime kernel on target '" << target
                      << "': " << *reason;
      ok = false;
    }
  };
  module.walk([&](Operation *op) {
    // Everything a plan runs: stage bodies, the models evaluations and
    // stages execute, and the inference programs of exports to .kdx.
    if (isa_and_nonnull<StageOp, EvaluateOp, ModelOp, ExportOp>(op->getParentOp()))
      check(op);
  });
  return success(ok);
}

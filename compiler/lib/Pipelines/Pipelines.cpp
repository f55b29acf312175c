//===- Pipelines.cpp - kdc's pass pipelines -------------------------------===//
//
// The order follows what each pass needs from the ones before it:
//
//   verify-shapes         a safety net on the imported module
//   materialize-adapters  kd.adapt must become a model before anything
//                         inlines or differentiates it
//   expand-grafts         graft stages become concrete stages, which the
//                         following passes treat like any other stage
//   cache-soft-targets    decides on the still-structured stage whether a
//                         teacher's outputs can be computed once; it runs
//                         before freeze-teachers because it finds teachers
//                         by the stage's `frozen` list, which names the
//                         models, while freeze-teachers points the applies
//                         at pruned copies (`@T_model.frozen`)
//   freeze-teachers       marks frozen applies, so that autodiff does not
//                         look inside a teacher
//   inline-models         every stage becomes one flat graph
//   autodiff              backward ops for the trained parameters
//   fuse                  conv/linear + post-ops, shared log-softmax
//   plan-memory           offsets of the final op sequence
//   lower-to-runtime      legality check for the target, then kd -> kdrt
//
//===----------------------------------------------------------------------===//
#include "kd/Pipelines/Pipelines.h"

#include "kd/Conversion/Passes.h"
#include "kd/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void kd::buildKDPipeline(OpPassManager &pm, llvm::StringRef target) {
  pm.addPass(createKdVerifyShapes());
  pm.addPass(createKdMaterializeAdapters());
  pm.addPass(createKdExpandGrafts());
  pm.addPass(createKdCacheSoftTargets());
  pm.addPass(createKdFreezeTeachers());
  pm.addPass(createKdInlineModels());
  pm.addPass(createKdAutodiff());
  pm.addPass(createKdFuse());
  pm.addPass(createKdPlanMemory());
  KdLowerToRuntimeOptions lowering;
  lowering.target = target.str();
  pm.addPass(createKdLowerToRuntime(lowering));
}

void kd::buildKDCpuPipeline(OpPassManager &pm) { buildKDPipeline(pm, "cpu"); }

void kd::buildKDGpuPipeline(OpPassManager &pm) { buildKDPipeline(pm, "gpu"); }

void kd::registerKDPipelines() {
  PassPipelineRegistration<>("kd-cpu-pipeline",
                             "The whole compilation of `kdc compile --target cpu`: kd passes, then the "
                             "lowering to kdrt for the CPU runtime",
                             buildKDCpuPipeline);
  PassPipelineRegistration<>("kd-gpu-pipeline",
                             "The whole compilation of `kdc compile --target gpu`: kd passes, then the "
                             "lowering to kdrt for the GPU runtime",
                             buildKDGpuPipeline);
}

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
//   fold-batchnorm        in inference graphs (the body inline-models gives
//                         an export to .kdx), a batch norm after a conv or
//                         linear layer becomes a fold of that layer's weights,
//                         before fuse would make it a scale_shift post-op
//   fuse                  conv/linear + post-ops; CE/KL on the same logits
//                         with their gradients as one logit loss group
//   teacher-precision     marks a frozen teacher's (fused) convolutions in
//                         stages for bf16 when asked; after fuse, so the
//                         marks are on the ops the lowering sees
//   plan-memory           offsets of the final op sequence
//   lower-to-runtime      legality check for the target, then kd -> kdrt
//
//===----------------------------------------------------------------------===//
#include "kd/Pipelines/Pipelines.h"

#include "kd/Conversion/Passes.h"
#include "kd/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void kd::buildKDPipeline(OpPassManager &pm, const KDPipelineOptions &options) {
  pm.addPass(createKdVerifyShapes());
  pm.addPass(createKdMaterializeAdapters());
  pm.addPass(createKdExpandGrafts());
  pm.addPass(createKdCacheSoftTargets());
  pm.addPass(createKdFreezeTeachers());
  pm.addPass(createKdInlineModels());
  pm.addPass(createKdAutodiff());
  pm.addPass(createKdFoldBatchNorm());
  if (options.fuse)
    pm.addPass(createKdFuse());
  KdTeacherPrecisionOptions precision;
  precision.precision = options.teacherPrecision;
  pm.addPass(createKdTeacherPrecision(precision));
  pm.addPass(createKdPlanMemory());
  KdLowerToRuntimeOptions lowering;
  lowering.target = options.target;
  pm.addPass(createKdLowerToRuntime(lowering));
}

void kd::buildKDPipeline(OpPassManager &pm, llvm::StringRef target) {
  KDPipelineOptions options;
  options.target = target.str();
  buildKDPipeline(pm, options);
}

void kd::buildKDCpuPipeline(OpPassManager &pm) { buildKDPipeline(pm, "cpu"); }

void kd::buildKDGpuPipeline(OpPassManager &pm) { buildKDPipeline(pm, "gpu"); }

namespace {

/// The pipelines' options on kd-opt's command line.
struct PipelineCommandLine : public PassPipelineOptions<PipelineCommandLine> {
  Option<bool> fuse{*this, "fuse", llvm::cl::desc("Run --kd-fuse (default: true)"), llvm::cl::init(true)};
  Option<std::string> teacherPrecision{
      *this, "teacher-precision",
      llvm::cl::desc("fp32 or bf16: the precision a frozen teacher's convolutions in stages may use (default: fp32)"),
      llvm::cl::init("fp32")};
};

void buildFor(OpPassManager &pm, const PipelineCommandLine &commandLine, llvm::StringRef target) {
  kd::KDPipelineOptions options;
  options.target = target.str();
  options.fuse = commandLine.fuse;
  options.teacherPrecision = commandLine.teacherPrecision;
  kd::buildKDPipeline(pm, options);
}

} // namespace

void kd::registerKDPipelines() {
  PassPipelineRegistration<PipelineCommandLine>(
      "kd-cpu-pipeline",
      "The whole compilation of `kdc compile --target cpu`: kd passes, then the lowering to kdrt for the CPU "
      "runtime",
      [](OpPassManager &pm, const PipelineCommandLine &options) { buildFor(pm, options, "cpu"); });
  PassPipelineRegistration<PipelineCommandLine>(
      "kd-gpu-pipeline",
      "The whole compilation of `kdc compile --target gpu`: kd passes, then the lowering to kdrt for the GPU "
      "runtime",
      [](OpPassManager &pm, const PipelineCommandLine &options) { buildFor(pm, options, "gpu"); });
}

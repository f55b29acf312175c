//===- Pipelines.h - kdc's pass pipelines -----------------------*- C++ -*-===//
//
// The one place where the order of the kd passes is decided. `kdc compile`
// runs these pipelines, and kd-opt registers them as `--kd-cpu-pipeline` /
// `--kd-gpu-pipeline`, so a failing compilation can be replayed pass by pass
// on the output of `kdc --emit=mlir`.
//
//===----------------------------------------------------------------------===//
#ifndef KD_PIPELINES_PIPELINES_H
#define KD_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace kd {

/// What a pipeline may be asked to leave out.
struct KDPipelineOptions {
  /// "cpu" or "gpu".
  std::string target = "cpu";
  /// Run --kd-fuse. Off only to compare a program with its unfused self
  /// (`kdc --no-fuse`, `kd-opt --kd-cpu-pipeline=fuse=false`): both must
  /// train the same weights.
  bool fuse = true;
  /// --kd-teacher-precision: "fp32" (default) or "bf16", which lets a frozen
  /// teacher's convolutions in training stages run in bf16
  /// (`kdc --teacher-precision bf16`).
  std::string teacherPrecision = "fp32";
};

/// Appends the whole compilation for `target` ("cpu" or "gpu"): shape
/// verification, adapters, grafts, soft-target caching, frozen teachers,
/// inlining, autodiff, batch-norm folding, fusion, memory planning and the
/// lowering to kdrt.
void buildKDPipeline(mlir::OpPassManager &pm, llvm::StringRef target);
void buildKDPipeline(mlir::OpPassManager &pm, const KDPipelineOptions &options);

/// buildKDPipeline for the oneDNN / reference CPU runtime.
void buildKDCpuPipeline(mlir::OpPassManager &pm);
/// buildKDPipeline for the cuDNN GPU runtime.
void buildKDGpuPipeline(mlir::OpPassManager &pm);

/// Registers `--kd-cpu-pipeline` and `--kd-gpu-pipeline`.
void registerKDPipelines();

} // namespace kd

#endif // KD_PIPELINES_PIPELINES_H

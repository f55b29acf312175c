//===- kd-opt.cpp - Runs kd passes and pipelines on MLIR files ------------===//
//
// Registers every kd dialect, pass and named pipeline, so that
// `kd-opt --kd-cpu-pipeline` replays exactly what `kdc compile` does.
//
//===----------------------------------------------------------------------===//
#include "kd/Conversion/Passes.h"
#include "kd/Dialect/KD/KDDialect.h"
#include "kd/Dialect/KDRT/KDRTDialect.h"
#include "kd/Pipelines/Pipelines.h"
#include "kd/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<kd::KDDialect, kd::rt::KDRTDialect, mlir::func::FuncDialect>();
  kd::registerKDPasses();
  kd::registerKDConversionPasses();
  kd::registerKDPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "kd optimizer driver\n", registry));
}

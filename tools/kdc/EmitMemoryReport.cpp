//===- EmitMemoryReport.cpp - kdc --emit=memory-report --------------------===//
#include "EmitMemoryReport.h"

#include "kd/Import/ImportChecked.h"
#include "kd/Transforms/MemoryPlan.h"
#include "kd/Transforms/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/raw_os_ostream.h"

#include <iostream>

// The passes a training stage needs before its memory can be planned: the
// stages become flat graphs with their backward and fused ops.
static constexpr const char *kMemoryPlanPipeline =
    "kd-freeze-teachers,kd-inline-models,kd-autodiff,kd-fuse,kd-plan-memory";

bool kdc::emitMemoryReport(const kd::CheckedProgram &program, const kd::SourceManager &sources, std::ostream &os) {
  kd::registerKDPasses();
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module = kd::importChecked(context, program, sources);
  if (!module)
    return false;
  mlir::PassManager pm(&context, mlir::ModuleOp::getOperationName());
  llvm::raw_os_ostream errors(std::cerr);
  if (failed(mlir::parsePassPipeline(kMemoryPlanPipeline, pm, errors)) || failed(pm.run(*module)))
    return false;
  llvm::raw_os_ostream out(os);
  return succeeded(kd::printMemoryReport(*module, out));
}

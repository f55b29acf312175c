//===- EmitMlir.cpp - kdc --emit=mlir -------------------------------------===//
#include "EmitMlir.h"

#include "kd/Import/ImportChecked.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"

#include "llvm/Support/raw_os_ostream.h"

bool kdc::emitMlir(const kd::CheckedProgram &program, const kd::SourceManager &sources, bool withLocations,
                   std::ostream &os) {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module = kd::importChecked(context, program, sources);
  if (!module)
    return false;
  mlir::OpPrintingFlags flags;
  if (withLocations) {
    // Inline `loc(...)` on each op rather than aliases at the end, so a
    // reader (and a FileCheck line) sees an op and its source together.
    flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
    flags.useLocalScope();
  }
  llvm::raw_os_ostream out(os);
  module->print(out, flags);
  out << '\n';
  return true;
}

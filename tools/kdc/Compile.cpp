//===- Compile.cpp - kdc compile: a checked program to a .kdx plan --------===//
#include "Compile.h"

#include "kd/Import/ImportChecked.h"
#include "kd/Pipelines/Pipelines.h"
#include "kd/Serialize/PlanSerializer.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/raw_os_ostream.h"

#include <iostream>

bool kdc::compileProgram(const kd::CheckedProgram &program, const kd::SourceManager &sources,
                         const kd::KDPipelineOptions &pipeline, CompileOutput output, std::ostream &os,
                         kdrt::plan::Plan &plan) {
  mlir::MLIRContext context;
  // The .kd line says where; the op's generic form would only add noise.
  context.printOpOnDiagnostic(false);
  // Errors of the passes as a compiler prints them, at the user's .kd line:
  // `file.kd:12:3: error: ...`.
  mlir::ScopedDiagnosticHandler printer(&context, [](mlir::Diagnostic &diag) {
    std::string where;
    diag.getLocation()->walk([&](mlir::Location loc) {
      if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(loc)) {
        where = (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) + ":" +
                 llvm::Twine(file.getColumn()) + ": ")
                    .str();
        return mlir::WalkResult::interrupt();
      }
      return mlir::WalkResult::advance();
    });
    const char *severity = diag.getSeverity() == mlir::DiagnosticSeverity::Error     ? "error"
                           : diag.getSeverity() == mlir::DiagnosticSeverity::Warning ? "warning"
                                                                                     : "note";
    std::cerr << where << severity << ": " << diag.str() << '\n';
    for (const mlir::Diagnostic &note : diag.getNotes())
      std::cerr << "note: " << note.str() << '\n';
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = kd::importChecked(context, program, sources);
  if (!module)
    return false;
  mlir::PassManager pm(&context);
  kd::buildKDPipeline(pm, pipeline);
  if (mlir::failed(pm.run(*module)))
    return false;
  if (output == CompileOutput::Lowered) {
    llvm::raw_os_ostream out(os);
    module->print(out);
    out << '\n';
    return true;
  }
  kd::PlanProvenance provenance;
  provenance.producer = plan.producer;
  provenance.target = pipeline.target;
  provenance.specFile = plan.specFile;
  provenance.specSha256 = plan.specSha256;
  provenance.seed = plan.seed;
  return mlir::succeeded(kd::buildPlan(*module, provenance, plan));
}

std::string kdc::planManifest(const kdrt::plan::Plan &plan) { return kd::planManifestText(plan); }

bool kdc::savePlan(const kdrt::plan::Plan &plan, const std::string &path, std::string &error) {
  return kd::writePlanFile(plan, path, error);
}

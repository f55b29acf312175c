//===- kdc.cpp - The kdc compiler driver ----------------------------------===//
//
// Thin by design: parse the command line, then for each input (or each
// `// -----` part of it) run the front-end phases in order and stop at the
// one `--emit=` asks for. Everything else lives in the libraries.
//
//===----------------------------------------------------------------------===//
#include "CompileAndRun.h"
#include "EmitMemoryReport.h"
#include "EmitMlir.h"
#include "Options.h"
#include "Recipes.h"
#include "SplitInput.h"
#include "VerifyDiagnostics.h"

#include "kd/dsl/Checked.h"
#include "kd/dsl/Frontend.h"
#include "kd/dsl/Sema.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace {

using kdc::DriverOptions;
using kdc::Emit;

constexpr int kExitOk = 0;
constexpr int kExitInputErrors = 1;
constexpr int kExitUsage = 2;

// Runs the phases on one buffer already in `sm`. Returns false if the input
// had errors (diagnostics went to `diags`).
bool runPipeline(uint32_t file, kd::SourceManager &sm, kd::DiagnosticEngine &diags,
                 const std::vector<std::string> &searchPath, const DriverOptions &opts) {
  kd::Program prog;
  kd::Loader loader(sm, diags, searchPath);
  if (!loader.loadBuffer(file, prog))
    return false;
  for (const auto &[name, path] : opts.dataFiles)
    if (!kd::replaceData(prog, sm, diags, name, path))
      return false;
  if (opts.emit == Emit::AST) {
    kd::ast::dump(prog.root(), sm, std::cout);
    return true;
  }

  kd::SemaOptions semaOpts;
  semaOpts.overrides = opts.overrides;
  std::unique_ptr<kd::CheckedProgram> checked = kd::check(prog, diags, semaOpts);
  if (!checked)
    return false;
  if (opts.emit == Emit::Checked) {
    kd::dumpChecked(*checked, sm, std::cout);
    return true;
  }
  if (opts.emit == Emit::MLIR)
    return kdc::emitMlir(*checked, sm, opts.printDebugInfo, std::cout);
  if (opts.emit == Emit::MemoryReport)
    return kdc::emitMemoryReport(*checked, sm, std::cout);
  if (opts.emit == Emit::Lowered || opts.emit == Emit::Plan || opts.command == kdc::Command::Compile ||
      opts.command == kdc::Command::Run)
    return kdc::compileAndRun(file, sm, *checked, opts);
  return true;
}

// One buffer: a whole file or one part of a split file. Returns the exit
// status for it.
int processBuffer(const std::string &name, std::string text, const std::vector<std::string> &searchPath,
                  const DriverOptions &opts) {
  kd::SourceManager sm;
  kd::DiagnosticEngine diags(sm);
  std::optional<kdc::DiagnosticVerifier> verifier;
  if (opts.verifyDiagnostics)
    verifier.emplace(diags);

  uint32_t file = sm.addBuffer(name, std::move(text));
  bool ok = runPipeline(file, sm, diags, searchPath, opts) && !diags.hadError();
  if (verifier)
    return verifier->verify(file, std::cerr) ? kExitOk : kExitInputErrors;
  return ok ? kExitOk : kExitInputErrors;
}

bool readFile(const std::string &path, std::string &text) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return false;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return !in.bad();
}

int processInput(const std::string &path, const std::vector<std::string> &searchPath, const DriverOptions &opts) {
  std::string text;
  if (!readFile(path, text)) {
    std::cerr << "kdc: error: cannot open '" << path << "'\n";
    return kExitInputErrors;
  }
  if (!opts.splitInputFile)
    return processBuffer(path, std::move(text), searchPath, opts);

  int status = kExitOk;
  std::vector<std::string> chunks = kdc::splitInputFile(text);
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i && opts.emit != Emit::None)
      std::cout << "// -----\n";
    status = std::max(status, processBuffer(path, std::move(chunks[i]), searchPath, opts));
  }
  return status;
}

} // namespace

int main(int argc, char **argv) {
  DriverOptions opts;
  std::string error;
  switch (kdc::parseOptions(argc, argv, opts, error)) {
  case kdc::ParseOutcome::ShowHelp:
    std::cout << kdc::helpText();
    return kExitOk;
  case kdc::ParseOutcome::ShowVersion:
    std::cout << "kdc version " << KDC_VERSION << '\n';
    return kExitOk;
  case kdc::ParseOutcome::UsageError:
    std::cerr << "kdc: error: " << error << '\n';
    return kExitUsage;
  case kdc::ParseOutcome::Run:
    break;
  }

  for (int i = 0; i < argc; ++i)
    opts.commandLine += (i ? " " : "") + std::string(argv[i]);
  std::string stdlibDir = opts.stdlibDir.empty() ? kdc::defaultStdlibDir(argv[0]) : opts.stdlibDir;
  if (opts.command == kdc::Command::List) {
    if (kdc::listRecipes(stdlibDir, std::cout))
      return kExitOk;
    std::cerr << "kdc: error: cannot read the recipes of '" << stdlibDir << "'\n";
    return kExitInputErrors;
  }
  // A bare recipe name (`kdc run hinton`) is a stdlib recipe.
  for (std::string &input : opts.inputs)
    input = kdc::resolveRecipe(input, stdlibDir);

  std::vector<std::string> searchPath;
  searchPath.push_back(stdlibDir);
  searchPath.insert(searchPath.end(), opts.includeDirs.begin(), opts.includeDirs.end());

  int status = kExitOk;
  for (const std::string &input : opts.inputs)
    status = std::max(status, processInput(input, searchPath, opts));
  return status;
}

//===- Options.h - kdc's command line ---------------------------*- C++ -*-===//
//
//   kdc [COMMAND] [OPTIONS] FILE...
//
// A command says what to do with the program (only `check` so far; `compile`
// and `run` will follow), `--emit=` says where to stop and what to print.
// Both are ordered enums, so a later phase is one more enumerator and one more
// step in the driver's pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef KDC_OPTIONS_H
#define KDC_OPTIONS_H

#include <map>
#include <string>
#include <vector>

namespace kdc {

enum class Command { Check };

// What to print, in pipeline order: the driver runs phases up to the one
// that produces it.
enum class Emit { None, AST, Checked, MLIR };

struct DriverOptions {
  Command command = Command::Check;
  Emit emit = Emit::None;
  std::vector<std::string> inputs;
  std::vector<std::string> includeDirs;
  std::string stdlibDir; // empty: use the default (see defaultStdlibDir)
  std::map<std::string, std::string> overrides; // --set key=value
  bool verifyDiagnostics = false;
  bool splitInputFile = false;
  bool printDebugInfo = false; // --mlir-print-debuginfo: locations in --emit=mlir
};

enum class ParseOutcome { Run, ShowHelp, ShowVersion, UsageError };

// Parses argv; on UsageError `error` says what was wrong.
ParseOutcome parseOptions(int argc, char **argv, DriverOptions &opts, std::string &error);

std::string helpText();

// $KDC_STDLIB if set, else <dir of the executable>/../share/kdc/stdlib if it
// exists, else the stdlib of the source tree kdc was built from.
std::string defaultStdlibDir(const char *argv0);

} // namespace kdc

#endif // KDC_OPTIONS_H

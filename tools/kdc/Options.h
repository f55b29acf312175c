//===- Options.h - kdc's command line ---------------------------*- C++ -*-===//
//
//   kdc [COMMAND] [OPTIONS] FILE...
//
// A command says what to do with the program (`check`, `compile`, `run`,
// `list`), `--emit=` says where to stop and what to print.
// Both are ordered enums, so a later phase is one more enumerator and one more
// step in the driver's pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef KDC_OPTIONS_H
#define KDC_OPTIONS_H

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kdc {

enum class Command { Check, Compile, Run, List };

// What to print, in pipeline order: the driver runs phases up to the one
// that produces it.
enum class Emit { None, AST, Checked, MLIR, MemoryReport, Lowered, Plan };

struct DriverOptions {
  Command command = Command::Check;
  Emit emit = Emit::None;
  std::vector<std::string> inputs;
  std::vector<std::string> includeDirs;
  std::string stdlibDir; // empty: use the default (see defaultStdlibDir)
  std::map<std::string, std::string> overrides; // --set key=value
  // --data [NAME=]FILE: data declarations that replace the program's own,
  // as (NAME, FILE); NAME empty for the program's only data declaration.
  std::vector<std::pair<std::string, std::string>> dataFiles;
  bool verifyDiagnostics = false;
  bool splitInputFile = false;
  bool printDebugInfo = false; // --mlir-print-debuginfo: locations in --emit=mlir

  // compile and run.
  std::string target = "cpu";     // --target cpu|gpu
  bool fuse = true;               // --no-fuse: compile without --kd-fuse
  std::string teacherPrecision = "fp32"; // --teacher-precision fp32|bf16
  std::string outputPath;         // compile -o FILE (default: <stem>.kdx)
  std::string runDirectory;       // run --out DIR (default: runs/<recipe>-<time>)
  bool resume = false;            // run --resume DIR: continue the run in DIR
  bool overwrite = false;         // run --overwrite: start over in a DIR that holds a run
  std::string stopAfter;          // run --stop-after STAGE
  std::optional<uint64_t> teacherCacheLimit; // run --teacher-cache-limit SIZE
  std::optional<uint64_t> seed;   // --seed N
  std::optional<int64_t> maxSteps; // --max-steps N
  bool json = false;              // run --json: one JSON object per stage
  int threads = 0;                // --threads N (0: one per core)
  std::string backend;            // --backend reference|onednn
  std::string commandLine;        // as typed, for the run's manifest
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

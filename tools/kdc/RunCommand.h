//===- RunCommand.h - kdc run: execute a compiled plan ----------*- C++ -*-===//
//
// `kdc run` compiles in process (kdc.cpp), then hands the plan to the
// runtime's executor here: the run directory gets the plan file, the
// runtime's metrics.jsonl, final.json, checkpoints and exports, each
// student's weights, and manifest.json, the provenance of the run (hashes
// of the spec files and of the teachers' weights, seed, versions, command
// line, target, date).
//
//===----------------------------------------------------------------------===//
#ifndef KDC_RUNCOMMAND_H
#define KDC_RUNCOMMAND_H

#include "kdrt/plan/PlanFormat.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kdc {

struct RunRequest {
  /// Names the default run directory runs/<recipe>-<timestamp>.
  std::string recipe;
  /// The run directory; empty: the default.
  std::string outDir;
  /// Continue the run in outDir after its last completed stage.
  bool resume = false;
  /// Start over in an outDir that holds a run (else that is refused).
  bool overwrite = false;
  /// Stop once this stage has completed; empty: run every stage.
  std::string stopAfter;
  /// RunOptions::teacherCacheLimit.
  std::optional<uint64_t> teacherCacheLimit;
  std::optional<int64_t> maxSteps;
  int threads = 0;
  /// reference | onednn; empty: the runtime's default.
  std::string backend;
  /// One JSON object per stage on stdout.
  bool json = false;
  /// The command line as typed, for the manifest.
  std::string commandLine;
  /// (file name, sha256) of the root file, then every imported file.
  std::vector<std::pair<std::string, std::string>> specFiles;
  std::vector<std::string> teachers, students;
  /// Per teacher and student: its size and cost from the compiler's shapes.
  struct ModelCost {
    std::string name;
    std::vector<int64_t> input; // per sample, after its transform
    int64_t parameters = 0;
    int64_t multiplyAdds = 0;   // one forward pass on one sample
  };
  std::vector<ModelCost> models;
};

/// Runs `plan` (its seed already the run's); returns the exit status (0, or
/// 1 after printing the error to stderr).
int runPlan(const kdrt::plan::Plan &plan, const RunRequest &request);

} // namespace kdc

#endif // KDC_RUNCOMMAND_H

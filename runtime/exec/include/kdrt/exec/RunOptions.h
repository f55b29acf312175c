//===- RunOptions.h - How a session runs a plan -----------------*- C++ -*-===//

#ifndef KDRT_EXEC_RUNOPTIONS_H
#define KDRT_EXEC_RUNOPTIONS_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace kdrt::exec {

/// One report of training progress (per logged step and per epoch end).
struct ProgressEvent {
  std::string stage;
  int64_t epoch = 0;  // from 0
  int64_t epochs = 0;
  int64_t step = 0;   // optimizer steps done in this stage
  int64_t totalSteps = 0;
  double loss = 0;    // this step's loss, or the epoch's mean at epoch end
  double learningRate = 0;
  double imagesPerSecond = 0;
  bool epochEnd = false;
};

struct RunOptions {
  /// "reference" or "onednn"; empty picks oneDNN when it is built in.
  std::string backend;
  /// Backend threads; 0 uses one per core.
  int threads = 0;
  /// Replaces the plan's seed (initialisation, shuffling, augmentation).
  std::optional<uint64_t> seed;
  /// Caps the optimizer steps of every stage; the schedule then runs over
  /// the capped count.
  std::optional<int64_t> maxSteps;
  /// Where metrics, checkpoints, exports and the teacher cache go.
  std::string runDirectory = "run";
  /// A progress bar on a terminal, plain lines otherwise, on stderr.
  bool printProgress = true;
  /// Every how many steps a step is logged (metrics.jsonl and progress).
  int64_t logEvery = 20;
  /// Threads preparing batches in the background.
  int loaderWorkers = 1;
  /// Continue the run in runDirectory from the checkpoint of its last
  /// completed stage: that stage's parameters are loaded and the stages
  /// after it run. Stage seeds depend only on the run's seed and the
  /// stage's index, so the result equals an uninterrupted run's.
  bool resume = false;
  /// Stop once the stage of this name has completed (checkpoint written);
  /// empty runs every stage.
  std::string stopAfterStage;
  /// The most bytes of teacher outputs a stage's soft-target cache may hold
  /// in memory. A cache that would need more is not filled: the teacher's
  /// cached program then runs on every batch instead (the same values,
  /// computed each step). Unset: $KDRT_TEACHER_CACHE_LIMIT (bytes, or with
  /// a K/M/G suffix) if set, else half the memory available when the stage
  /// starts.
  std::optional<uint64_t> teacherCacheLimit;
  /// Called for every logged step and every epoch end.
  std::function<void(const ProgressEvent &)> onProgress;
};

/// Parses a byte count: digits with an optional K, M, G or T suffix
/// (powers of 1024, "KiB"/"KB" spellings too). False on anything else.
bool parseByteSize(const std::string &text, uint64_t &bytes);

} // namespace kdrt::exec

#endif // KDRT_EXEC_RUNOPTIONS_H

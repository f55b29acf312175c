//===- Checkpoint.h - Stage checkpoints with optimizer state ----*- C++ -*-===//
//
// After each stage the session writes `<run>/checkpoints/<stage>.safetensors`:
// every parameter under its full name ("S/l1.conv0.weight"), then the state
// of the stage's optimizer under the parameter's name and the state's
// PyTorch name ("S/l1.conv0.weight.momentum_buffer", ".exp_avg",
// ".exp_avg_sq"). The metadata says what a resumed run must match and what
// the stage reported:
//
//   stage            the stage's name
//   stage_index      its position in the plan, from 0
//   seed             the run's seed
//   optimizer        sgd | adam | adamw | none
//   optimizer_step   the optimizer's step count (Adam's bias correction)
//   report           the stage's entry of final.json, as JSON text
//
// The checkpoint is written last, after the stage's evaluations and exports,
// so its presence means the stage completed.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_CHECKPOINT_H
#define KDRT_EXEC_CHECKPOINT_H

#include "kdrt/exec/ParameterStore.h"
#include "kdrt/io/Safetensors.h"
#include "kdrt/train/Optimizer.h"

#include <nlohmann/json.hpp>

#include <string>

namespace kdrt::exec {

/// What a stage leaves for its checkpoint besides the parameters.
struct StageOutcome {
  std::string stage;
  int64_t stageIndex = 0;
  uint64_t seed = 0;
  /// "none" when the stage trained nothing.
  std::string optimizerKind = "none";
  train::OptimizerState optimizerState;
  nlohmann::json report;
};

/// The checkpoint file of a finished stage.
Status makeCheckpoint(const ParameterStore &store, const StageOutcome &outcome,
                      io::SafetensorsFile &file);

/// A checkpoint read back: the outcome, and the parameter tensors.
struct LoadedCheckpoint {
  StageOutcome outcome;
  io::SafetensorsFile parameters;
};

/// Splits `file` (read from `source`) into parameters and optimizer state.
/// A tensor that is neither a parameter of `store` nor the state of one,
/// a missing parameter or missing metadata is an error naming `source`.
Status readCheckpoint(const io::SafetensorsFile &file,
                      const std::string &source, const ParameterStore &store,
                      LoadedCheckpoint &checkpoint);

/// `checkpoints/<stage>.safetensors`, relative to the run directory.
std::string checkpointPath(const std::string &stage);

} // namespace kdrt::exec

#endif // KDRT_EXEC_CHECKPOINT_H

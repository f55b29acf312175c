//===- LearningRateSchedule.h - Learning rate as a function of step -*- C++ -*-//
//
// A schedule is a pure function of (step, total steps, base rate), so the
// rate at any step can be recomputed after a restart without replaying the
// run. Steps count from 0; total is the number of optimizer steps in the
// stage.
//
//   constant   base
//   step       base * gamma^floor(step / every)
//   cosine     minLr + (base - minLr) * (1 + cos(pi * step / total)) / 2
//   one-cycle  torch.optim.lr_scheduler.OneCycleLR with cosine annealing:
//              from base/div to base over the first pctStart of the steps
//              (peak at step pctStart * total - 1), then down to
//              base/div/finalDiv at step total - 1; with cycleMomentum
//              the momentum (SGD) or beta1 (Adam) follows the same phases
//              inversely, maxMomentum -> baseMomentum -> maxMomentum
//
// Any of them can be preceded by a linear warm-up: during the first
// `warmupSteps` steps the rate is base * (step + 1) / warmupSteps, then the
// schedule runs over the remaining total - warmupSteps steps (a cycled
// momentum stays at its starting value, maxMomentum, during the warm-up).
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TRAIN_LEARNINGRATESCHEDULE_H
#define KDRT_TRAIN_LEARNINGRATESCHEDULE_H

#include <cstdint>
#include <optional>

namespace kdrt::train {

struct OneCycleOptions {
  double pctStart = 0.3;
  double divFactor = 25;
  double finalDivFactor = 1e4;
  /// torch.optim.lr_scheduler.OneCycleLR's cycle_momentum (off here by
  /// default, on in PyTorch) and its bounds.
  bool cycleMomentum = false;
  double baseMomentum = 0.85;
  double maxMomentum = 0.95;
};

class LearningRateSchedule {
public:
  static LearningRateSchedule constant();
  static LearningRateSchedule stepDecay(int64_t every, double gamma);
  static LearningRateSchedule cosine(double minLearningRate = 0);
  static LearningRateSchedule oneCycle(OneCycleOptions options = {});

  /// This schedule preceded by `steps` of linear warm-up.
  LearningRateSchedule withWarmup(int64_t steps) const;

  /// Throws TrainError for a negative step or non-positive total.
  double at(int64_t step, int64_t totalSteps, double baseLearningRate) const;

  /// The momentum (SGD) or beta1 (Adam) at `step` when the schedule cycles
  /// it, nothing otherwise. Throws as at() does.
  std::optional<double> momentumAt(int64_t step, int64_t totalSteps) const;

private:
  enum class Kind { Constant, Step, Cosine, OneCycle };
  explicit LearningRateSchedule(Kind kind) : kind(kind) {}
  double afterWarmup(int64_t step, int64_t totalSteps, double base) const;
  /// Throws unless step and total describe a step of this schedule.
  void checkStep(int64_t step, int64_t totalSteps) const;

  Kind kind;
  int64_t every = 1;
  double gamma = 1;
  double minLearningRate = 0;
  OneCycleOptions oneCycleOptions;
  int64_t warmupSteps = 0;
};

} // namespace kdrt::train

#endif // KDRT_TRAIN_LEARNINGRATESCHEDULE_H

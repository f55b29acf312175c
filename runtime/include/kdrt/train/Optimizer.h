//===- Optimizer.h - Parameter groups and the optimizer interface -*- C++ -*-//
//
// An optimizer updates float parameter arrays in place from their gradients.
// Parameters come in groups, each with its own learning rate and weight
// decay (e.g. adapters at a higher rate than the student). The optimizer's
// state (momentum buffers, moment estimates, step count) can be exported as
// named float arrays and restored, so it can be stored in a checkpoint.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TRAIN_OPTIMIZER_H
#define KDRT_TRAIN_OPTIMIZER_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kdrt::train {

class LearningRateSchedule;

/// A view of one parameter array and its gradient; the memory is owned by
/// the caller and must outlive the optimizer.
struct Parameter {
  std::string name;
  float *values = nullptr;
  const float *gradients = nullptr;
  size_t size = 0;
};

struct ParameterGroup {
  std::vector<Parameter> parameters;
  /// The rate schedules scale; also the starting learning rate.
  double baseLearningRate = 1e-3;
  double weightDecay = 0;
  /// The rate used by the next step (set by applySchedule or directly).
  double learningRate = 1e-3;
  /// SGD's momentum or Adam's beta1 for the next step: the schedule's when
  /// it cycles one (one-cycle), else the group's own; unset: the
  /// optimizer's.
  std::optional<double> momentum;
  /// The group's own momentum (a `group ... momentum:`), used when the
  /// schedule does not cycle one.
  std::optional<double> ownMomentum;
};

/// One array of optimizer state, named after its parameter, e.g.
/// "conv1.weight.exp_avg".
struct StateTensor {
  std::string name;
  std::vector<float> values;
};

struct OptimizerState {
  /// Steps taken so far (Adam's bias correction depends on it).
  int64_t step = 0;
  std::vector<StateTensor> tensors;
};

class Optimizer {
public:
  /// Throws TrainError for duplicate parameter names, null arrays or
  /// negative rates.
  explicit Optimizer(std::vector<ParameterGroup> groups);
  virtual ~Optimizer() = default;

  /// Updates every parameter from its current gradient.
  void step();

  /// Sets every group's rate to schedule(step, totalSteps, baseLearningRate)
  /// and its momentum to the schedule's momentum at that step, if it has one.
  void applySchedule(const LearningRateSchedule &schedule, int64_t step,
                     int64_t totalSteps);

  std::vector<ParameterGroup> &groups() { return parameterGroups; }
  const std::vector<ParameterGroup> &groups() const { return parameterGroups; }
  int64_t stepCount() const { return steps; }

  OptimizerState exportState() const;
  /// Restores state exported from an optimizer of the same kind over the
  /// same parameters; throws TrainError naming any missing or mis-sized
  /// array.
  void importState(const OptimizerState &state);

protected:
  /// Updates one parameter; `step` counts from 1 for the first update.
  virtual void update(const ParameterGroup &group, const Parameter &parameter,
                      int64_t step) = 0;
  /// Suffixes of the state arrays kept per parameter, e.g. "exp_avg".
  virtual std::vector<std::string> stateSuffixes() const = 0;

  /// The state array `suffix` of a parameter, zero-filled on first use.
  std::vector<float> &stateOf(const Parameter &parameter,
                              const std::string &suffix);
  bool hasState(const Parameter &parameter, const std::string &suffix) const;

private:
  std::vector<ParameterGroup> parameterGroups;
  std::map<std::string, std::vector<float>> state;
  int64_t steps = 0;
};

} // namespace kdrt::train

#endif // KDRT_TRAIN_OPTIMIZER_H

//===- Optimizer.cpp - Parameter groups and the optimizer interface -------===//

#include "kdrt/train/Optimizer.h"

#include "kdrt/train/LearningRateSchedule.h"
#include "kdrt/train/TrainError.h"

#include <cmath>
#include <set>

namespace kdrt::train {
namespace {

std::string stateName(const Parameter &parameter, const std::string &suffix) {
  return parameter.name + "." + suffix;
}

} // namespace

Optimizer::Optimizer(std::vector<ParameterGroup> groups)
    : parameterGroups(std::move(groups)) {
  std::set<std::string> names;
  for (const ParameterGroup &group : parameterGroups) {
    if (!(group.learningRate >= 0) || !(group.baseLearningRate >= 0) ||
        !(group.weightDecay >= 0))
      throw TrainError("learning rates and weight decay must be non-negative");
    for (const Parameter &parameter : group.parameters) {
      if (parameter.name.empty())
        throw TrainError("every parameter needs a name");
      if (!names.insert(parameter.name).second)
        throw TrainError("parameter " + parameter.name +
                         " appears twice in the optimizer");
      if (parameter.size > 0 && (!parameter.values || !parameter.gradients))
        throw TrainError("parameter " + parameter.name +
                         " has no values or no gradients");
    }
  }
}

void Optimizer::step() {
  ++steps;
  for (const ParameterGroup &group : parameterGroups)
    for (const Parameter &parameter : group.parameters)
      update(group, parameter, steps);
}

void Optimizer::applySchedule(const LearningRateSchedule &schedule,
                              int64_t step, int64_t totalSteps) {
  std::optional<double> momentum = schedule.momentumAt(step, totalSteps);
  for (ParameterGroup &group : parameterGroups) {
    group.learningRate = schedule.at(step, totalSteps, group.baseLearningRate);
    group.momentum = momentum ? momentum : group.ownMomentum;
  }
}

std::vector<float> &Optimizer::stateOf(const Parameter &parameter,
                                       const std::string &suffix) {
  std::vector<float> &values = state[stateName(parameter, suffix)];
  if (values.size() != parameter.size)
    values.assign(parameter.size, 0.0f);
  return values;
}

bool Optimizer::hasState(const Parameter &parameter,
                         const std::string &suffix) const {
  return state.count(stateName(parameter, suffix)) != 0;
}

OptimizerState Optimizer::exportState() const {
  OptimizerState exported;
  exported.step = steps;
  for (const ParameterGroup &group : parameterGroups)
    for (const Parameter &parameter : group.parameters)
      for (const std::string &suffix : stateSuffixes()) {
        auto found = state.find(stateName(parameter, suffix));
        if (found != state.end())
          exported.tensors.push_back({found->first, found->second});
      }
  return exported;
}

void Optimizer::importState(const OptimizerState &imported) {
  if (imported.step < 0)
    throw TrainError("optimizer state has a negative step count");
  std::map<std::string, const Parameter *> expected;
  for (const ParameterGroup &group : parameterGroups)
    for (const Parameter &parameter : group.parameters)
      for (const std::string &suffix : stateSuffixes())
        expected[stateName(parameter, suffix)] = &parameter;
  std::map<std::string, std::vector<float>> restored;
  for (const StateTensor &tensor : imported.tensors) {
    auto found = expected.find(tensor.name);
    if (found == expected.end())
      throw TrainError("optimizer state " + tensor.name +
                       " belongs to no parameter of this optimizer");
    if (tensor.values.size() != found->second->size)
      throw TrainError("optimizer state " + tensor.name + " has " +
                       std::to_string(tensor.values.size()) +
                       " values; its parameter has " +
                       std::to_string(found->second->size));
    restored[tensor.name] = tensor.values;
  }
  // Every parameter has state once a step was taken.
  if (imported.step > 0 && restored.size() != expected.size())
    throw TrainError("optimizer state holds " +
                     std::to_string(restored.size()) + " arrays, expected " +
                     std::to_string(expected.size()));
  state = std::move(restored);
  steps = imported.step;
}

} // namespace kdrt::train

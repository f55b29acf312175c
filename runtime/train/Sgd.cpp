//===- Sgd.cpp - Stochastic gradient descent with momentum ----------------===//

#include "kdrt/train/Sgd.h"

#include "kdrt/train/TrainError.h"

namespace kdrt::train {
namespace {
constexpr const char *kMomentumBuffer = "momentum_buffer";
} // namespace

Sgd::Sgd(std::vector<ParameterGroup> groups, SgdOptions sgdOptions)
    : Optimizer(std::move(groups)), options(sgdOptions) {
  if (!(options.momentum >= 0) || !(options.dampening >= 0))
    throw TrainError("SGD momentum and dampening must be non-negative");
  if (options.nesterov && (options.momentum <= 0 || options.dampening != 0))
    throw TrainError("Nesterov momentum needs a positive momentum and zero "
                     "dampening");
}

std::vector<std::string> Sgd::stateSuffixes() const {
  if (options.momentum == 0)
    return {};
  return {kMomentumBuffer};
}

void Sgd::update(const ParameterGroup &group, const Parameter &parameter,
                 int64_t) {
  const double rate = group.learningRate, decay = group.weightDecay;
  float *values = parameter.values;
  const float *gradients = parameter.gradients;
  if (options.momentum == 0) {
    // No buffer is kept (nor stored in a checkpoint) without momentum.
    if (group.momentum)
      throw TrainError("SGD without momentum keeps no momentum buffers: a "
                       "cycled or per-group momentum needs the optimizer's "
                       "momentum");
    for (size_t i = 0; i < parameter.size; ++i)
      values[i] -= float(rate * (gradients[i] + decay * values[i]));
    return;
  }
  const double momentum = group.momentum.value_or(options.momentum);
  // PyTorch initialises the buffer with the first gradient (no dampening).
  bool firstUpdate = !hasState(parameter, kMomentumBuffer);
  std::vector<float> &buffer = stateOf(parameter, kMomentumBuffer);
  for (size_t i = 0; i < parameter.size; ++i) {
    double gradient = gradients[i] + decay * values[i];
    double velocity = firstUpdate ? gradient
                                  : momentum * buffer[i] +
                                        (1 - options.dampening) * gradient;
    buffer[i] = float(velocity);
    double direction =
        options.nesterov ? gradient + momentum * velocity : velocity;
    values[i] -= float(rate * direction);
  }
}

} // namespace kdrt::train

//===- Adam.cpp - Adam and AdamW ------------------------------------------===//

#include "kdrt/train/Adam.h"

#include "kdrt/train/TrainError.h"

#include <cmath>

namespace kdrt::train {
namespace {
constexpr const char *kFirstMoment = "exp_avg";
constexpr const char *kSecondMoment = "exp_avg_sq";
} // namespace

Adam::Adam(std::vector<ParameterGroup> groups, AdamOptions adamOptions)
    : Adam(std::move(groups), adamOptions, /*decoupledWeightDecay=*/false) {}

Adam::Adam(std::vector<ParameterGroup> groups, AdamOptions adamOptions,
           bool decoupled)
    : Optimizer(std::move(groups)), options(adamOptions),
      decoupledWeightDecay(decoupled) {
  if (!(options.beta1 >= 0 && options.beta1 < 1) ||
      !(options.beta2 >= 0 && options.beta2 < 1))
    throw TrainError("Adam betas must lie in [0, 1)");
  if (!(options.epsilon >= 0))
    throw TrainError("Adam epsilon must be non-negative");
}

std::vector<std::string> Adam::stateSuffixes() const {
  return {kFirstMoment, kSecondMoment};
}

void Adam::update(const ParameterGroup &group, const Parameter &parameter,
                  int64_t step) {
  const double rate = group.learningRate, decay = group.weightDecay;
  // A cycled beta1 also enters the bias correction, as in torch.optim.Adam.
  const double beta1 = group.momentum.value_or(options.beta1);
  const double beta2 = options.beta2;
  const double firstCorrection = 1 - std::pow(beta1, double(step));
  const double secondCorrectionRoot = std::sqrt(1 - std::pow(beta2, double(step)));
  const double stepSize = rate / firstCorrection;
  std::vector<float> &firstMoment = stateOf(parameter, kFirstMoment);
  std::vector<float> &secondMoment = stateOf(parameter, kSecondMoment);
  float *values = parameter.values;
  for (size_t i = 0; i < parameter.size; ++i) {
    double gradient = parameter.gradients[i];
    if (decoupledWeightDecay)
      values[i] = float(values[i] * (1 - rate * decay));
    else
      gradient += decay * values[i];
    double m = beta1 * firstMoment[i] + (1 - beta1) * gradient;
    double v = beta2 * secondMoment[i] + (1 - beta2) * gradient * gradient;
    firstMoment[i] = float(m);
    secondMoment[i] = float(v);
    double denominator = std::sqrt(v) / secondCorrectionRoot + options.epsilon;
    values[i] -= float(stepSize * m / denominator);
  }
}

} // namespace kdrt::train

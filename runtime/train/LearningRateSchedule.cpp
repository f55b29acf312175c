//===- LearningRateSchedule.cpp - Learning rate as a function of step -----===//

#include "kdrt/train/LearningRateSchedule.h"

#include "kdrt/train/TrainError.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace kdrt::train {
namespace {

/// Cosine interpolation from `start` (fraction 0) to `end` (fraction 1).
double cosineAnneal(double start, double end, double fraction) {
  return end + (start - end) / 2 * (std::cos(M_PI * fraction) + 1);
}

/// OneCycleLR's two cosine phases over `total` steps: from `initial` to
/// `peak` until step pctStart * total - 1, then to `last` at step total - 1
/// (PyTorch's phase boundaries).
double oneCyclePhases(double pctStart, int64_t step, int64_t total,
                      double initial, double peak, double last) {
  double peakStep = pctStart * double(total) - 1;
  double lastStep = double(total) - 1;
  double s = std::min(double(step), lastStep);
  if (s <= peakStep)
    return cosineAnneal(initial, peak, peakStep > 0 ? s / peakStep : 1.0);
  return cosineAnneal(peak, last, (s - peakStep) / (lastStep - peakStep));
}

} // namespace

LearningRateSchedule LearningRateSchedule::constant() {
  return LearningRateSchedule(Kind::Constant);
}

LearningRateSchedule LearningRateSchedule::stepDecay(int64_t every,
                                                     double gamma) {
  if (every <= 0 || !(gamma > 0))
    throw TrainError("a step schedule needs a positive period and factor");
  LearningRateSchedule schedule(Kind::Step);
  schedule.every = every;
  schedule.gamma = gamma;
  return schedule;
}

LearningRateSchedule LearningRateSchedule::cosine(double minLearningRate) {
  if (!(minLearningRate >= 0))
    throw TrainError("a cosine schedule's minimum rate must be non-negative");
  LearningRateSchedule schedule(Kind::Cosine);
  schedule.minLearningRate = minLearningRate;
  return schedule;
}

LearningRateSchedule LearningRateSchedule::oneCycle(OneCycleOptions options) {
  if (!(options.pctStart > 0 && options.pctStart < 1) ||
      !(options.divFactor > 0) || !(options.finalDivFactor > 0))
    throw TrainError("one-cycle needs pct_start in (0, 1) and positive "
                     "division factors");
  if (options.cycleMomentum &&
      !(options.baseMomentum >= 0 && options.baseMomentum <= options.maxMomentum &&
        options.maxMomentum < 1))
    throw TrainError("one-cycle momentum needs 0 <= base_momentum <= "
                     "max_momentum < 1");
  LearningRateSchedule schedule(Kind::OneCycle);
  schedule.oneCycleOptions = options;
  return schedule;
}

LearningRateSchedule LearningRateSchedule::withWarmup(int64_t steps) const {
  if (steps < 0)
    throw TrainError("warm-up steps must be non-negative");
  LearningRateSchedule schedule = *this;
  schedule.warmupSteps = steps;
  return schedule;
}

void LearningRateSchedule::checkStep(int64_t step, int64_t totalSteps) const {
  if (step < 0 || totalSteps <= 0)
    throw TrainError("learning rate asked for step " + std::to_string(step) +
                     " of " + std::to_string(totalSteps));
  if (warmupSteps >= totalSteps)
    throw TrainError("warm-up of " + std::to_string(warmupSteps) +
                     " steps leaves no step of the " +
                     std::to_string(totalSteps) + "-step schedule");
}

std::optional<double> LearningRateSchedule::momentumAt(int64_t step,
                                                       int64_t totalSteps) const {
  checkStep(step, totalSteps);
  const OneCycleOptions &o = oneCycleOptions;
  if (kind != Kind::OneCycle || !o.cycleMomentum)
    return std::nullopt;
  if (step < warmupSteps)
    return o.maxMomentum;
  int64_t total = totalSteps - warmupSteps;
  return oneCyclePhases(o.pctStart, std::min(step - warmupSteps, total), total,
                        o.maxMomentum, o.baseMomentum, o.maxMomentum);
}

double LearningRateSchedule::at(int64_t step, int64_t totalSteps,
                                double base) const {
  checkStep(step, totalSteps);
  if (step < warmupSteps)
    return base * double(step + 1) / double(warmupSteps);
  return afterWarmup(step - warmupSteps, totalSteps - warmupSteps, base);
}

double LearningRateSchedule::afterWarmup(int64_t step, int64_t total,
                                         double base) const {
  // Past the end the rate stays at its final value.
  step = std::min(step, total);
  switch (kind) {
  case Kind::Constant:
    return base;
  case Kind::Step:
    return base * std::pow(gamma, double(step / every));
  case Kind::Cosine:
    return cosineAnneal(base, minLearningRate, double(step) / double(total));
  case Kind::OneCycle: {
    const OneCycleOptions &o = oneCycleOptions;
    double initial = base / o.divFactor;
    return oneCyclePhases(o.pctStart, step, total, initial, base,
                          initial / o.finalDivFactor);
  }
  }
  return base;
}

} // namespace kdrt::train

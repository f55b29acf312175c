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

double LearningRateSchedule::at(int64_t step, int64_t totalSteps,
                                double base) const {
  if (step < 0 || totalSteps <= 0)
    throw TrainError("learning rate asked for step " + std::to_string(step) +
                     " of " + std::to_string(totalSteps));
  if (warmupSteps >= totalSteps)
    throw TrainError("warm-up of " + std::to_string(warmupSteps) +
                     " steps leaves no step of the " +
                     std::to_string(totalSteps) + "-step schedule");
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
    double finalRate = initial / o.finalDivFactor;
    // PyTorch's phase boundaries: the peak at pct_start * total - 1, the
    // end at total - 1.
    double peakStep = o.pctStart * double(total) - 1;
    double lastStep = double(total) - 1;
    double s = std::min(double(step), lastStep);
    if (s <= peakStep)
      return cosineAnneal(initial, base, peakStep > 0 ? s / peakStep : 1.0);
    return cosineAnneal(base, finalRate, (s - peakStep) / (lastStep - peakStep));
  }
  }
  return base;
}

} // namespace kdrt::train

//===- TrainScheduleTest.cpp - Learning-rate schedules at known steps -----===//

#include "kdrt/train/LearningRateSchedule.h"
#include "kdrt/train/Optimizer.h"
#include "kdrt/train/Sgd.h"
#include "kdrt/train/TrainError.h"

#include <gtest/gtest.h>

#include <optional>
#include <utility>
#include <vector>

using kdrt::train::LearningRateSchedule;
using kdrt::train::TrainError;

namespace {
/// The schedule's momentum at each (step, expected value) of `total` steps.
void expectMomenta(const LearningRateSchedule &schedule, int64_t total,
                   std::vector<std::pair<int64_t, double>> expected) {
  for (const auto &[step, momentum] : expected) {
    std::optional<double> actual = schedule.momentumAt(step, total);
    ASSERT_TRUE(actual) << "step " << step;
    EXPECT_NEAR(*actual, momentum, 1e-12) << "step " << step;
  }
}
} // namespace

TEST(ScheduleTest, Constant) {
  LearningRateSchedule schedule = LearningRateSchedule::constant();
  EXPECT_DOUBLE_EQ(schedule.at(0, 10, 0.1), 0.1);
  EXPECT_DOUBLE_EQ(schedule.at(9, 10, 0.1), 0.1);
}

TEST(ScheduleTest, StepDecay) {
  LearningRateSchedule schedule = LearningRateSchedule::stepDecay(30, 0.1);
  EXPECT_DOUBLE_EQ(schedule.at(29, 100, 1.0), 1.0);
  EXPECT_NEAR(schedule.at(30, 100, 1.0), 0.1, 1e-12);
  EXPECT_NEAR(schedule.at(65, 100, 1.0), 0.01, 1e-12);
}

// Half way, cos(pi/2) = 0: the rate is the mean of base and minimum.
TEST(ScheduleTest, CosineMidpointAndEnds) {
  LearningRateSchedule schedule = LearningRateSchedule::cosine();
  EXPECT_DOUBLE_EQ(schedule.at(0, 100, 0.1), 0.1);
  EXPECT_NEAR(schedule.at(50, 100, 0.1), 0.05, 1e-12);
  EXPECT_NEAR(schedule.at(100, 100, 0.1), 0.0, 1e-12);
  LearningRateSchedule floored = LearningRateSchedule::cosine(0.01);
  EXPECT_NEAR(floored.at(50, 100, 0.1), 0.055, 1e-12);
}

// OneCycleLR defaults over 100 steps: start at max/25, peak (max) at step
// 0.3*100 - 1 = 29, end at max/25/1e4 at step 99. Half way up (step 14.5)
// would be the mean of start and max; step 64 is half way down.
TEST(ScheduleTest, OneCyclePeaksAtThirtyPercent) {
  LearningRateSchedule schedule = LearningRateSchedule::oneCycle();
  double max = 0.1;
  EXPECT_NEAR(schedule.at(0, 100, max), max / 25, 1e-12);
  EXPECT_NEAR(schedule.at(29, 100, max), max, 1e-12);
  EXPECT_LT(schedule.at(28, 100, max), max);
  EXPECT_LT(schedule.at(30, 100, max), max);
  EXPECT_NEAR(schedule.at(99, 100, max), max / 25 / 1e4, 1e-12);
  EXPECT_NEAR(schedule.at(64, 100, max), (max + max / 25 / 1e4) / 2, 1e-12);
}

// Warm-up of 10 steps: base * (step + 1) / 10, then the inner schedule over
// the 90 remaining steps (a cosine reaching its midpoint 45 steps later).
TEST(ScheduleTest, WarmupRampThenSchedule) {
  LearningRateSchedule schedule =
      LearningRateSchedule::cosine().withWarmup(10);
  EXPECT_NEAR(schedule.at(0, 100, 1.0), 0.1, 1e-12);
  EXPECT_NEAR(schedule.at(4, 100, 1.0), 0.5, 1e-12);
  EXPECT_NEAR(schedule.at(9, 100, 1.0), 1.0, 1e-12);
  EXPECT_NEAR(schedule.at(10, 100, 1.0), 1.0, 1e-12);
  EXPECT_NEAR(schedule.at(55, 100, 1.0), 0.5, 1e-12);
}

// OneCycleLR(cycle_momentum=True, base_momentum=0.85, max_momentum=0.95)
// over 100 steps: the momentum mirrors the rate, 0.95 at step 0, 0.85 at
// the peak step 29, 0.9 half way down (step 64), 0.95 at step 99. In the
// fall from 0.95, step 10 is 0.85 + 0.05 * (cos(pi * 10/29) + 1); step 30,
// the first of the rise, 0.95 - 0.05 * (cos(pi * 1/70) + 1). torch 2.x's
// scheduler gives these values.
TEST(ScheduleTest, OneCycleMomentumMirrorsTheRate) {
  LearningRateSchedule schedule =
      LearningRateSchedule::oneCycle({0.3, 25, 1e4, true, 0.85, 0.95});
  expectMomenta(schedule, 100,
                {{0, 0.95}, {10, 0.9234204220349895}, {29, 0.85},
                 {30, 0.8500503466729342}, {64, 0.9}, {99, 0.95}, {150, 0.95}});
  // The rate is unchanged by cycling the momentum.
  EXPECT_DOUBLE_EQ(schedule.at(10, 100, 0.1),
                   LearningRateSchedule::oneCycle().at(10, 100, 0.1));
}

// 31 steps: the peak falls between steps, at 0.3 * 31 - 1 = 8.3. Step 8 is
// still in the fall, 0.85 + 0.05 * (cos(pi * 8/8.3) + 1); step 9 already in
// the rise, 0.95 - 0.05 * (cos(pi * 0.7/21.7) + 1) (torch's values too).
TEST(ScheduleTest, OneCycleMomentumPhaseBoundaryBetweenSteps) {
  LearningRateSchedule schedule =
      LearningRateSchedule::oneCycle({0.3, 25, 1e4, true, 0.85, 0.95});
  expectMomenta(schedule, 31,
                {{8, 0.8503220026018408}, {9, 0.8502565338304052}, {30, 0.95}});
}

// During a warm-up the momentum holds at max_momentum; the cycle then runs
// over the remaining steps (90 here: its peak at step 10 + 26).
TEST(ScheduleTest, OneCycleMomentumAfterWarmup) {
  LearningRateSchedule schedule =
      LearningRateSchedule::oneCycle({0.3, 25, 1e4, true, 0.8, 0.9})
          .withWarmup(10);
  expectMomenta(schedule, 100,
                {{0, 0.9}, {9, 0.9}, {10, 0.9}, {36, 0.8}, {99, 0.9}});
}

TEST(ScheduleTest, OnlyACyclingOneCycleHasAMomentum) {
  EXPECT_FALSE(LearningRateSchedule::oneCycle().momentumAt(5, 10));
  EXPECT_FALSE(LearningRateSchedule::cosine().momentumAt(5, 10));
  EXPECT_FALSE(LearningRateSchedule::constant().momentumAt(5, 10));
}

TEST(ScheduleTest, RejectsBadArguments) {
  EXPECT_THROW(LearningRateSchedule::stepDecay(0, 0.1), TrainError);
  EXPECT_THROW(LearningRateSchedule::oneCycle({1.5, 25, 1e4}), TrainError);
  EXPECT_THROW(LearningRateSchedule::oneCycle({0.3, 25, 1e4, true, 0.95, 0.85}),
               TrainError);
  EXPECT_THROW(LearningRateSchedule::oneCycle({0.3, 25, 1e4, true, 0.85, 1.0}),
               TrainError);
  EXPECT_THROW(LearningRateSchedule::oneCycle({0.3, 25, 1e4, true, -0.1, 0.9}),
               TrainError);
  EXPECT_THROW(LearningRateSchedule::oneCycle({0.3, 25, 1e4, true, 0.85, 0.95})
                   .momentumAt(-1, 10),
               TrainError);
  EXPECT_THROW(LearningRateSchedule::constant().at(-1, 10, 0.1), TrainError);
  EXPECT_THROW(LearningRateSchedule::constant().withWarmup(10).at(0, 10, 0.1),
               TrainError);
}

TEST(ScheduleTest, OptimizerAppliesScheduleToEveryGroup) {
  float a = 0, b = 0, g = 0;
  kdrt::train::ParameterGroup first, second;
  first.parameters.push_back({"a", &a, &g, 1});
  first.baseLearningRate = 0.1;
  second.parameters.push_back({"b", &b, &g, 1});
  second.baseLearningRate = 1.0;
  kdrt::train::Sgd sgd({first, second}, {});
  sgd.applySchedule(LearningRateSchedule::cosine(), 50, 100);
  EXPECT_NEAR(sgd.groups()[0].learningRate, 0.05, 1e-12);
  EXPECT_NEAR(sgd.groups()[1].learningRate, 0.5, 1e-12);
}

// A cycled momentum goes to every group with the rate; schedules that do
// not cycle it leave the optimizer's own.
TEST(ScheduleTest, OptimizerAppliesCycledMomentumToEveryGroup) {
  float a = 0, b = 0, g = 0;
  kdrt::train::ParameterGroup first, second;
  first.parameters.push_back({"a", &a, &g, 1});
  second.parameters.push_back({"b", &b, &g, 1});
  kdrt::train::Sgd sgd({first, second}, {0.9, 0, false});
  sgd.applySchedule(
      LearningRateSchedule::oneCycle({0.3, 25, 1e4, true, 0.85, 0.95}), 29, 100);
  for (const kdrt::train::ParameterGroup &group : sgd.groups())
    EXPECT_NEAR(group.momentum.value_or(-1), 0.85, 1e-12);
  sgd.applySchedule(LearningRateSchedule::oneCycle(), 29, 100);
  for (const kdrt::train::ParameterGroup &group : sgd.groups())
    EXPECT_FALSE(group.momentum);
}

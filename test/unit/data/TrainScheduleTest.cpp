//===- TrainScheduleTest.cpp - Learning-rate schedules at known steps -----===//

#include "kdrt/train/LearningRateSchedule.h"
#include "kdrt/train/Optimizer.h"
#include "kdrt/train/Sgd.h"
#include "kdrt/train/TrainError.h"

#include <gtest/gtest.h>

using kdrt::train::LearningRateSchedule;
using kdrt::train::TrainError;

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

TEST(ScheduleTest, RejectsBadArguments) {
  EXPECT_THROW(LearningRateSchedule::stepDecay(0, 0.1), TrainError);
  EXPECT_THROW(LearningRateSchedule::oneCycle({1.5, 25, 1e4}), TrainError);
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

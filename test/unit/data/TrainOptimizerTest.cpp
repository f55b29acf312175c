//===- TrainOptimizerTest.cpp - SGD, Adam, AdamW against hand values ------===//

#include "kdrt/train/Adam.h"
#include "kdrt/train/LearningRateSchedule.h"
#include "kdrt/train/Sgd.h"
#include "kdrt/train/TrainError.h"

#include <gtest/gtest.h>

using namespace kdrt::train;

namespace {

/// One scalar parameter p with gradient g, in one group.
struct Scalar {
  float value = 1.0f;
  float gradient = 0.0f;
  std::vector<ParameterGroup> groups(double lr, double decay) {
    ParameterGroup group;
    group.parameters.push_back({"p", &value, &gradient, 1});
    group.baseLearningRate = group.learningRate = lr;
    group.weightDecay = decay;
    return {group};
  }
  /// Two steps with gradients g1 then g2, expecting the values p1 then p2.
  void expectTwoSteps(Optimizer &optimizer, float g1, double p1, float g2,
                      double p2) {
    gradient = g1;
    optimizer.step();
    EXPECT_NEAR(value, p1, 1e-6);
    gradient = g2;
    optimizer.step();
    EXPECT_NEAR(value, p2, 1e-6);
  }
};

} // namespace

// lr 0.1, momentum 0.9, Nesterov, weight decay 0.01, p0 = 1.
// Step 1, g = 0.5:  g' = 0.5 + 0.01*1 = 0.51; buf = 0.51 (first gradient);
//   direction = 0.51 + 0.9*0.51 = 0.969; p1 = 1 - 0.0969 = 0.9031.
// Step 2, g = -0.2: g' = -0.2 + 0.01*0.9031 = -0.190969;
//   buf = 0.9*0.51 - 0.190969 = 0.268031;
//   direction = -0.190969 + 0.9*0.268031 = 0.0502589;
//   p2 = 0.9031 - 0.00502589 = 0.89807411.
TEST(SgdTest, NesterovMomentumWithWeightDecayMatchesHandValues) {
  Scalar p;
  Sgd sgd(p.groups(0.1, 0.01), {0.9, 0.0, true});
  p.gradient = 0.5f;
  sgd.step();
  EXPECT_NEAR(p.value, 0.9031, 1e-6);
  p.gradient = -0.2f;
  sgd.step();
  EXPECT_NEAR(p.value, 0.89807411, 1e-6);
  OptimizerState state = sgd.exportState();
  ASSERT_EQ(state.tensors.size(), 1u);
  EXPECT_EQ(state.tensors[0].name, "p.momentum_buffer");
  EXPECT_NEAR(state.tensors[0].values[0], 0.268031, 1e-6);
}

// Plain momentum (no Nesterov), no decay: p1 = 1 - 0.1*0.5 = 0.95;
// buf2 = 0.9*0.5 + 0.5 = 0.95, p2 = 0.95 - 0.095 = 0.855.
TEST(SgdTest, HeavyBallMomentum) {
  Scalar p;
  Sgd sgd(p.groups(0.1, 0), {0.9, 0.0, false});
  p.gradient = 0.5f;
  sgd.step();
  EXPECT_NEAR(p.value, 0.95, 1e-6);
  sgd.step();
  EXPECT_NEAR(p.value, 0.855, 1e-6);
}

// A group's cycled momentum replaces the optimizer's: with 0.5 instead of
// 0.9, buf2 = 0.5*0.5 + 0.5 = 0.75, p2 = 0.95 - 0.075 = 0.875.
TEST(SgdTest, UsesTheGroupsCycledMomentum) {
  Scalar p;
  Sgd sgd(p.groups(0.1, 0), {0.9, 0.0, false});
  sgd.groups()[0].momentum = 0.5;
  p.expectTwoSteps(sgd, 0.5f, 0.95, 0.5f, 0.875);
}

// A group's own momentum (`group X momentum: 0.5`) holds through a
// schedule that does not cycle one, and yields to one that does.
TEST(SgdTest, AGroupsOwnMomentumHoldsUnlessTheScheduleCyclesOne) {
  Scalar p;
  Sgd sgd(p.groups(0.1, 0), {0.9, 0.0, false});
  sgd.groups()[0].ownMomentum = 0.5;
  sgd.applySchedule(LearningRateSchedule::constant(), 0, 10);
  EXPECT_EQ(sgd.groups()[0].momentum, 0.5);
  p.expectTwoSteps(sgd, 0.5f, 0.95, 0.5f, 0.875);

  OneCycleOptions cycling;
  cycling.cycleMomentum = true;
  sgd.applySchedule(LearningRateSchedule::oneCycle(cycling), 0, 10);
  ASSERT_TRUE(sgd.groups()[0].momentum.has_value());
  EXPECT_DOUBLE_EQ(*sgd.groups()[0].momentum, cycling.maxMomentum);
}

// Without momentum SGD keeps no buffer, so there is nothing to cycle.
TEST(SgdTest, RejectsACycledMomentumWithoutMomentum) {
  Scalar p;
  Sgd sgd(p.groups(0.1, 0), {});
  sgd.groups()[0].momentum = 0.9;
  p.gradient = 0.5f;
  EXPECT_THROW(sgd.step(), TrainError);
}

// Adam with a cycled beta1 of 0.5 (beta2 0.999), p0 = 1, lr 0.1, no decay;
// the bias correction uses the cycled beta1, as torch.optim.Adam does.
// Step 1, g = 0.5: m = 0.25, m^ = 0.5, v^ = 0.25; p1 = 1 - 0.1 = 0.9.
// Step 2, g = -0.2: m = 0.025, m^ = 0.025/0.75; v = 0.00028975,
//   v^ = v/0.001999; p2 = 0.9 - 0.1 * m^/sqrt(v^) = 0.89124465.
TEST(AdamTest, UsesTheGroupsCycledBeta1) {
  Scalar p;
  Adam adam(p.groups(0.1, 0), {0.9, 0.999, 1e-8});
  adam.groups()[0].momentum = 0.5;
  p.expectTwoSteps(adam, 0.5f, 0.9, -0.2f, 0.89124465);
}

// Adam, lr 0.1, betas (0.9, 0.999), eps 1e-8, coupled L2 decay 0.1, g = 0.5.
// Step 1: g' = 0.5 + 0.1*1 = 0.6; m = 0.06, v = 0.00036;
//   m^ = 0.06/0.1 = 0.6, sqrt(v^) = sqrt(0.00036/0.001) = 0.6; p1 = 0.9.
// Step 2: g' = 0.5 + 0.1*0.9 = 0.59; m = 0.054 + 0.059 = 0.113;
//   v = 0.999*0.00036 + 0.001*0.3481 = 0.00070774;
//   m^ = 0.113/0.19, v^ = 0.00070774/0.001999;
//   p2 = 0.9 - 0.1 * m^/(sqrt(v^) + eps) = 0.80004734.
TEST(AdamTest, CoupledWeightDecayMatchesHandValues) {
  Scalar p;
  Adam adam(p.groups(0.1, 0.1), {});
  p.gradient = 0.5f;
  adam.step();
  EXPECT_NEAR(p.value, 0.9, 1e-6);
  adam.step();
  EXPECT_NEAR(p.value, 0.80004734, 1e-6);
}

// AdamW, same settings, decoupled decay: p is first scaled by 1 - lr*wd.
// Step 1: p = 0.99; m^ = 0.5, sqrt(v^) = 0.5; p1 = 0.99 - 0.1 = 0.89.
// Step 2: p = 0.89*0.99 = 0.8811; m = 0.095, v = 0.00049975;
//   m^ = 0.5, sqrt(v^) = 0.5; p2 = 0.8811 - 0.1 = 0.7811.
TEST(AdamWTest, DecoupledWeightDecayMatchesHandValues) {
  Scalar p;
  AdamW adamw(p.groups(0.1, 0.1), {});
  p.gradient = 0.5f;
  adamw.step();
  EXPECT_NEAR(p.value, 0.89, 1e-6);
  adamw.step();
  EXPECT_NEAR(p.value, 0.7811, 1e-6);
}

TEST(OptimizerTest, GroupsUseTheirOwnRates) {
  float a = 1, b = 1, ga = 1, gb = 1;
  ParameterGroup slow, fast;
  slow.parameters.push_back({"a", &a, &ga, 1});
  slow.learningRate = slow.baseLearningRate = 0.01;
  fast.parameters.push_back({"b", &b, &gb, 1});
  fast.learningRate = fast.baseLearningRate = 0.1;
  Sgd sgd({slow, fast}, {});
  sgd.step();
  EXPECT_NEAR(a, 0.99, 1e-7);
  EXPECT_NEAR(b, 0.9, 1e-7);
}

TEST(OptimizerTest, StateRoundTripContinuesIdentically) {
  std::vector<float> values = {1, -2, 3}, grads = {0.1f, 0.2f, -0.3f};
  auto groupsFor = [&](std::vector<float> &v) {
    ParameterGroup group;
    group.parameters.push_back({"w", v.data(), grads.data(), v.size()});
    group.learningRate = group.baseLearningRate = 0.01;
    return std::vector<ParameterGroup>{group};
  };
  std::vector<float> original = values;
  Adam first(groupsFor(values), {});
  first.step();
  first.step();
  OptimizerState state = first.exportState();
  EXPECT_EQ(state.step, 2);
  ASSERT_EQ(state.tensors.size(), 2u);

  std::vector<float> copy = values;
  Adam resumed(groupsFor(copy), {});
  resumed.importState(state);
  first.step();
  resumed.step();
  EXPECT_EQ(values, copy);
  EXPECT_NE(values, original);
}

TEST(OptimizerTest, RejectsMismatchedState) {
  Scalar p;
  Adam adam(p.groups(0.1, 0), {});
  OptimizerState state;
  state.step = 1;
  state.tensors.push_back({"p.exp_avg", {1.0f, 2.0f}});
  try {
    adam.importState(state);
    FAIL() << "mismatched state was accepted";
  } catch (const TrainError &error) {
    EXPECT_NE(std::string(error.what()).find("p.exp_avg"), std::string::npos);
  }
  state.tensors = {{"q.exp_avg", {1.0f}}};
  EXPECT_THROW(adam.importState(state), TrainError);
}

TEST(OptimizerTest, RejectsDuplicateParametersAndBadHyperParameters) {
  float v = 0, g = 0;
  ParameterGroup group;
  group.parameters.push_back({"p", &v, &g, 1});
  group.parameters.push_back({"p", &v, &g, 1});
  EXPECT_THROW(Sgd({group}, {}), TrainError);
  Scalar p;
  EXPECT_THROW(Sgd(p.groups(0.1, 0), {0.0, 0.0, true}), TrainError);
  EXPECT_THROW(Adam(p.groups(0.1, 0), {1.0, 0.999, 1e-8}), TrainError);
}

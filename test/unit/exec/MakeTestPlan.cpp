//===- MakeTestPlan.cpp - Plans for the lit tests of the kdrt CLI ---------===//
//
//   kdrt-make-test-plan DIR
//
// Writes DIR/data (a separable two-class IDX data set) and DIR/linear.kdx,
// DIR/conv.kdx, DIR/distill.kdx, DIR/cached.kdx, DIR/two-stage.kdx over it.
//
//===----------------------------------------------------------------------===//

#include "TestPlans.h"
#include "kdrt/plan/PlanIo.h"

#include <filesystem>
#include <iostream>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: kdrt-make-test-plan DIR\n";
    return 2;
  }
  std::string dir = argv[1];
  try {
    std::filesystem::create_directories(dir + "/data");
    kdrt::test::writeSeparableIdx(dir + "/data", 64);
    kdrt::test::PlanSettings settings;
    settings.dataPath = "data"; // relative to the plan's directory
    kdrt::plan::writePlan(dir + "/linear.kdx",
                          kdrt::test::makeLinearPlan(settings));
    kdrt::plan::writePlan(dir + "/conv.kdx",
                          kdrt::test::makeConvPlan(settings));
    kdrt::plan::writePlan(dir + "/two-stage.kdx",
                          kdrt::test::makeTwoStagePlan(settings));
    kdrt::plan::writePlan(dir + "/distill.kdx",
                          kdrt::test::makeDistillPlan(settings, false));
    kdrt::plan::writePlan(dir + "/cached.kdx",
                          kdrt::test::makeDistillPlan(settings, true));
  } catch (const std::exception &error) {
    std::cerr << "kdrt-make-test-plan: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

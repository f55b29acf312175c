//===- CapiTest.cpp - Drives the C test functions of CapiTest.c -----------===//

#include "TestPlans.h"
#include "kdrt/plan/PlanIo.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <unistd.h>

extern "C" int kdrtCapiTrainAndInfer(const char *planPath,
                                     const char *runDirectory);
extern "C" int kdrtCapiRejectsBadInput(const char *missingPath);

namespace {

TEST(CapiTest, TrainsEvaluatesAndInfersFromC) {
  // The process id keeps two suites run at once on one machine apart.
  auto dir = std::filesystem::temp_directory_path() /
             ("kdrt-capi-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  kdrt::test::writeSeparableIdx(dir.string(), 64);
  kdrt::test::PlanSettings settings;
  settings.dataPath = dir.string();
  std::string planPath = (dir / "linear.kdx").string();
  kdrt::plan::writePlan(planPath, kdrt::test::makeLinearPlan(settings));
  EXPECT_EQ(kdrtCapiTrainAndInfer(planPath.c_str(),
                                  (dir / "run").string().c_str()),
            0);
  std::filesystem::remove_all(dir);
}

TEST(CapiTest, RejectsBadInputWithAStatus) {
  EXPECT_EQ(kdrtCapiRejectsBadInput("does-not-exist.kdx"), 0);
}

} // namespace

//===- MetricsTest.cpp - Classification metrics and progress lines --------===//

#include "kdrt/exec/ClassificationMetrics.h"
#include "kdrt/exec/Initializers.h"
#include "kdrt/exec/ProgressPrinter.h"

#include <gtest/gtest.h>

namespace kdrt::exec {
namespace {

TEST(MetricsTest, HandDerivedBinaryMetrics) {
  // 3 true positives of class 1, 1 missed, 1 false alarm, 5 true negatives.
  ConfusionMatrix confusion(2);
  for (int i = 0; i < 3; ++i)
    confusion.add(1, 1);
  confusion.add(1, 0);
  confusion.add(0, 1);
  for (int i = 0; i < 5; ++i)
    confusion.add(0, 0);
  EXPECT_DOUBLE_EQ(confusion.accuracy(), 0.8);
  EXPECT_DOUBLE_EQ(confusion.sensitivity()[1], 0.75);
  EXPECT_DOUBLE_EQ(confusion.specificity()[1], 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(confusion.precision()[1], 0.75);
  EXPECT_DOUBLE_EQ(confusion.f1()[1], 0.75);
  EXPECT_DOUBLE_EQ(confusion.sensitivity()[0], 5.0 / 6.0);
  nlohmann::json report =
      confusion.report({"accuracy", "sensitivity", "confusion"});
  EXPECT_DOUBLE_EQ(report["macro_sensitivity"].get<double>(),
                   (0.75 + 5.0 / 6.0) / 2);
  EXPECT_EQ(report["confusion"], nlohmann::json({{5, 1}, {1, 3}}));
  EXPECT_EQ(report["samples"], 10);
}

TEST(MetricsTest, EmptyClassesReportZeroNotNan) {
  ConfusionMatrix confusion(3);
  confusion.add(0, 0);
  confusion.add(7, 0); // out of range: ignored
  EXPECT_EQ(confusion.total(), 1);
  EXPECT_DOUBLE_EQ(confusion.precision()[2], 0.0);
  EXPECT_DOUBLE_EQ(confusion.f1()[1], 0.0);
}

TEST(InitializerTest, StableAcrossOrderAndDependsOnSeedAndName) {
  plan::ParameterSpec a;
  a.name = "S/a.weight";
  a.shape = {8, 4, 3, 3};
  a.init.kind = "kaiming_normal";
  plan::ParameterSpec b = a;
  b.name = "S/b.weight";
  EXPECT_EQ(initialValues(a, 1), initialValues(a, 1));
  EXPECT_NE(initialValues(a, 1), initialValues(a, 2));
  EXPECT_NE(initialValues(a, 1), initialValues(b, 1));
  // kaiming_normal with gain 1: std = 1 / sqrt(fan_in = 36).
  a.shape = {64, 16, 3, 3};
  std::vector<float> values = initialValues(a, 3);
  double sum = 0;
  for (float v : values)
    sum += double(v) * v;
  EXPECT_NEAR(std::sqrt(sum / values.size()), 1.0 / 12.0, 0.005);
  a.init.kind = "xavier_uniform";
  double bound = std::sqrt(6.0 / (144 + 576));
  for (float v : initialValues(a, 3))
    EXPECT_LE(std::abs(v), bound);
}

TEST(ProgressTest, PlainLineNamesStageStepLossAndSpeed) {
  ProgressEvent event{"distill", 1, 3, 40, 90, 0.25, 0.01, 1234, false};
  std::string line = ProgressPrinter::format(event, false);
  EXPECT_NE(line.find("distill"), std::string::npos);
  EXPECT_NE(line.find("epoch 2/3"), std::string::npos);
  EXPECT_NE(line.find("step 40/90"), std::string::npos);
  EXPECT_NE(line.find("loss 0.2500"), std::string::npos);
  EXPECT_NE(line.find("1234 images/s"), std::string::npos);
  EXPECT_NE(ProgressPrinter::format(event, true).find("[#"),
            std::string::npos);
}

} // namespace
} // namespace kdrt::exec

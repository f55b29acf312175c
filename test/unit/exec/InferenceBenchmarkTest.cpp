//===- InferenceBenchmarkTest.cpp - Batch inference and its timing --------===//

#include "TestPlans.h"
#include "kdrt/exec/InferenceBenchmark.h"
#include "kdrt/exec/Session.h"
#include "kdrt/plan/PlanIo.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include <unistd.h>

namespace kdrt::exec {
namespace {

namespace fs = std::filesystem;

class InferenceBenchmarkTest : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("kdrt-bench-" + std::to_string(::getpid()));
    fs::create_directories(dir / "data");
    test::writeSeparableIdx((dir / "data").string(), 32);
    test::PlanSettings settings;
    settings.dataPath = (dir / "data").string();
    std::string path = (dir / "conv.kdx").string();
    plan::writePlan(path, test::makeConvPlan(settings));
    RunOptions options;
    options.backend = GetParam();
    options.printProgress = false;
    options.runDirectory = (dir / "run").string();
    Status status = Session::create(
        std::make_shared<const plan::Plan>(plan::readPlan(path)), path,
        options, session);
    ASSERT_TRUE(status.ok()) << status.message();
  }
  void TearDown() override {
    session.reset();
    fs::remove_all(dir);
  }

  fs::path dir;
  std::unique_ptr<Session> session;
};

TEST_P(InferenceBenchmarkTest, ShapeComesFromTheInferenceProgram) {
  Session::InferenceShape shape;
  ASSERT_TRUE(session->inferenceShape("S", shape).ok());
  EXPECT_EQ(shape.channels, 1);
  EXPECT_EQ(shape.height, test::kImageSize);
  EXPECT_EQ(shape.width, test::kImageSize);
  EXPECT_EQ(shape.classes, 2);
  EXPECT_EQ(shape.programBatch, 16);
  EXPECT_FALSE(session->inferenceShape("T", shape).ok());
}

TEST_P(InferenceBenchmarkTest, AnyBatchSizeGivesEachImageTheSameLogits) {
  // 37 images: two full slices of the compiled batch 16 and a short one.
  const int64_t count = 37, perImage = test::kImageSize * test::kImageSize;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::vector<float> images(size_t(count * perImage));
  for (float &value : images)
    value = normal(rng);
  std::vector<float> all, one;
  ASSERT_TRUE(session->inferBatch("S", images.data(), count, all).ok());
  ASSERT_EQ(all.size(), size_t(count * 2));
  for (int64_t n = 0; n < count; ++n) {
    ASSERT_TRUE(
        session->inferBatch("S", images.data() + n * perImage, 1, one).ok());
    for (int64_t k = 0; k < 2; ++k)
      EXPECT_NEAR(one[size_t(k)], all[size_t(n * 2 + k)],
                  1e-5 * std::max(1.0f, std::fabs(one[size_t(k)])))
          << "image " << n << " class " << k;
  }
  // Different images give different logits: the check compares something.
  EXPECT_NE(all[0], all[2]);
}

TEST_P(InferenceBenchmarkTest, MeasuresLatencyAndThroughput) {
  InferenceBenchmarkOptions options;
  options.runs = 5;
  options.warmup = 1;
  options.batches = 2;
  InferenceBenchmarkResult result;
  Status status = benchmarkInference(*session, options, result);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_GT(result.latencyMedianMs, 0);
  EXPECT_GE(result.latencyP90Ms, result.latencyMedianMs);
  EXPECT_GT(result.largeBatchMedianMs, 0);
  EXPECT_NEAR(result.throughputImagesPerSecond,
              256 / (result.largeBatchMedianMs / 1e3),
              1e-6 * result.throughputImagesPerSecond);
  EXPECT_LE(result.batchConsistencyDifference, options.tolerance);
}

TEST_P(InferenceBenchmarkTest, RejectsBadOptionsAndInputs) {
  InferenceBenchmarkOptions options;
  options.runs = 0;
  InferenceBenchmarkResult result;
  EXPECT_FALSE(benchmarkInference(*session, options, result).ok());
  std::vector<float> logits;
  EXPECT_FALSE(session->inferBatch("S", nullptr, 1, logits).ok());
  float image[64] = {};
  EXPECT_FALSE(session->inferBatch("S", image, 0, logits).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, InferenceBenchmarkTest,
                         ::testing::Values("reference", ""),
                         [](const auto &info) {
                           return info.param.empty() ? std::string("Default")
                                                     : info.param;
                         });

} // namespace
} // namespace kdrt::exec

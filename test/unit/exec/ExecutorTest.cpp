//===- ExecutorTest.cpp - Training small plans end to end -----------------===//

#include "TestPlans.h"
#include "kdrt/exec/Session.h"
#include "kdrt/io/Safetensors.h"
#include "kdrt/plan/PlanIo.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace kdrt::exec {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ExecutorTest : public ::testing::Test {
protected:
  void SetUp() override {
    // The process id keeps two suites run at once on one machine apart.
    dir = fs::temp_directory_path() /
          ("kdrt-exec-" + std::to_string(::getpid()) + "-" +
           std::string(
               ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir);
    fs::create_directories(dir / "data");
    test::writeSeparableIdx((dir / "data").string(), 96);
    settings.dataPath = (dir / "data").string();
  }
  void TearDown() override { fs::remove_all(dir); }

  /// Writes, reads back (through the file format) and runs `p`.
  std::unique_ptr<Session> run(const plan::Plan &p, const std::string &name,
                               RunOptions options = {}) {
    std::string path = (dir / (name + ".kdx")).string();
    plan::writePlan(path, p);
    auto loaded = std::make_shared<const plan::Plan>(plan::readPlan(path));
    if (options.backend.empty())
      options.backend = "reference";
    options.printProgress = false;
    options.logEvery = 1;
    if (options.runDirectory == "run")
      options.runDirectory = (dir / (name + ".run")).string();
    std::unique_ptr<Session> session;
    Status status = Session::create(loaded, path, options, session);
    EXPECT_TRUE(status.ok()) << status.message();
    if (!status.ok())
      return nullptr;
    status = session->run();
    EXPECT_TRUE(status.ok()) << status.message();
    return session;
  }

  /// Writes `p` and runs it without checking: the status of the session's
  /// creation if that fails, else of the run.
  Status runStatus(const plan::Plan &p, const std::string &name) {
    std::string path = (dir / (name + ".kdx")).string();
    plan::writePlan(path, p);
    RunOptions options;
    options.backend = "reference";
    options.printProgress = false;
    options.runDirectory = (dir / (name + ".run")).string();
    std::unique_ptr<Session> session;
    Status status = Session::create(std::make_shared<const plan::Plan>(p),
                                    path, options, session);
    return status.ok() ? session->run() : status;
  }

  static std::vector<float> weights(Session &session, const std::string &name) {
    Tensor &value = session.parameters().value(name);
    return std::vector<float>(value.data(), value.data() + value.numElements());
  }

  static std::vector<json> readLines(const fs::path &path) {
    std::vector<json> lines;
    std::ifstream file(path);
    std::string line;
    while (std::getline(file, line))
      lines.push_back(json::parse(line));
    return lines;
  }

  fs::path dir;
  test::PlanSettings settings;
};

TEST_F(ExecutorTest, LinearClassifierLearnsAndReportsEverything) {
  auto session = run(test::makeLinearPlan(settings), "linear");
  ASSERT_TRUE(session);
  fs::path runDir = dir / "linear.run";

  std::vector<json> metrics = readLines(runDir / "metrics.jsonl");
  ASSERT_FALSE(metrics.empty());
  std::vector<double> epochLosses;
  for (const json &line : metrics) {
    for (const char *field :
         {"stage", "epoch", "step", "loss", "lr", "images_per_s"})
      EXPECT_TRUE(line.contains(field)) << field << " in " << line.dump();
    if (line["event"] == "epoch")
      epochLosses.push_back(line["loss"].get<double>());
  }
  ASSERT_EQ(epochLosses.size(), 3u);
  EXPECT_LT(epochLosses.back(), epochLosses.front());
  EXPECT_LT(epochLosses.back(), 0.2);

  json final = json::parse(std::ifstream(runDir / "final.json"));
  const json &stage = final["stages"][0];
  for (const char *field :
       {"images", "seconds", "images_per_s", "peak_rss_bytes", "evaluations"})
    EXPECT_TRUE(stage.contains(field)) << field;
  EXPECT_EQ(stage["images"], 3 * 96);
  EXPECT_GT(stage["peak_rss_bytes"].get<int64_t>(), 0);
  const json &evaluation = stage["evaluations"][0];
  EXPECT_GE(evaluation["accuracy"].get<double>(), 0.95);
  for (const char *field : {"sensitivity", "macro_sensitivity", "specificity",
                            "precision", "f1", "macro_f1", "confusion"})
    EXPECT_TRUE(evaluation.contains(field)) << field;
  EXPECT_EQ(evaluation["samples"], 48);

  // The export names parameters without the model prefix; the checkpoint
  // keeps full names. Both load back.
  io::SafetensorsFile exported =
      io::readSafetensors((runDir / "student.safetensors").string());
  ASSERT_NE(exported.find("fc.weight"), nullptr);
  EXPECT_EQ(exported.find("fc.weight")->toFloats(),
            weights(*session, "S/fc.weight"));
  io::SafetensorsFile checkpoint = io::readSafetensors(
      (runDir / "checkpoints" / "train.safetensors").string());
  EXPECT_NE(checkpoint.find("S/fc.bias"), nullptr);
  EXPECT_TRUE(session->loadWeights((runDir / "student.safetensors").string(),
                                   "S/")
                  .ok());
}

TEST_F(ExecutorTest, SameSeedIsBitwiseIdenticalAndAnotherSeedDiffers) {
  plan::Plan p = test::makeLinearPlan(settings);
  auto first = run(p, "first");
  auto second = run(p, "second");
  RunOptions other;
  other.seed = 99;
  auto third = run(p, "third", other);
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(weights(*first, "S/fc.weight"), weights(*second, "S/fc.weight"));
  EXPECT_EQ(weights(*first, "S/fc.bias"), weights(*second, "S/fc.bias"));
  EXPECT_NE(weights(*first, "S/fc.weight"), weights(*third, "S/fc.weight"));
}

TEST_F(ExecutorTest, ConvNetLearnsWithFusedInferenceRelu) {
  settings.epochs = 4;
  settings.lr = 0.05;
  auto session = run(test::makeConvPlan(settings), "conv");
  ASSERT_TRUE(session);
  const json &evaluation = session->report()["stages"][0]["evaluations"][0];
  EXPECT_GE(evaluation["accuracy"].get<double>(), 0.9) << evaluation.dump();
}

TEST_F(ExecutorTest, OneDnnTrainsLikeTheReference) {
  // The oneDNN backend keeps activations channels-last between its kernels
  // and each weight reordered into its kernel's layout until an optimizer
  // step changes it. Four epochs of the conv net end with the reference's
  // weights (to fp32 summation order): a weight left stale after a step or
  // a layout read wrongly would not.
  settings.epochs = 4;
  settings.lr = 0.05;
  RunOptions onednn;
  onednn.backend = "onednn";
  auto reference = run(test::makeConvPlan(settings), "reference");
  auto accelerated = run(test::makeConvPlan(settings), "onednn", onednn);
  ASSERT_TRUE(reference && accelerated);
  for (const char *name : {"S/conv.weight", "S/conv.bias", "S/fc.weight"}) {
    std::vector<float> want = weights(*reference, name);
    std::vector<float> got = weights(*accelerated, name);
    ASSERT_EQ(want.size(), got.size());
    double scale = 0;
    for (float v : want)
      scale = std::max(scale, double(std::fabs(v)));
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-3 * scale) << name << "[" << i << "]";
  }
  EXPECT_EQ(reference->report()["stages"][0]["evaluations"][0]["accuracy"],
            accelerated->report()["stages"][0]["evaluations"][0]["accuracy"]);
}

TEST_F(ExecutorTest, PostOpChainReadsItsTensorsFromThePlan) {
  // Five channels and an evaluation batch of five: the test split's 48
  // images end with a batch of three, which must leave the [5] scale and
  // shift alone.
  settings.batch = 5;
  settings.epochs = 1;
  auto unfused = run(test::makePostOpPlan(settings, 5, false), "unfused");
  auto fused = run(test::makePostOpPlan(settings, 5, true), "fused");
  ASSERT_TRUE(unfused && fused);
  const json &a = unfused->report()["stages"][0]["evaluations"][0];
  const json &b = fused->report()["stages"][0]["evaluations"][0];
  EXPECT_EQ(a["accuracy"], b["accuracy"]) << a.dump() << b.dump();
  EXPECT_EQ(a["confusion"], b["confusion"]);
  std::vector<uint8_t> image(64);
  for (int i = 0; i < 64; ++i)
    image[size_t(i)] = uint8_t((i * 37) % 251);
  std::vector<float> want, got;
  ASSERT_TRUE(unfused->infer("S", image.data(), 1, 8, 8, want).ok());
  Status status = fused->infer("S", image.data(), 1, 8, 8, got);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(want[i], got[i], 1e-5) << i;
  // The probabilities are not those of a degenerate block.
  EXPECT_GT(std::fabs(want[0] - 0.5f), 1e-3);
  // oneDNN runs the chain as post-ops of its convolution (the residual and
  // the output channels-last): the same values to fp32 summation order.
  RunOptions onednn;
  onednn.backend = "onednn";
  auto accelerated =
      run(test::makePostOpPlan(settings, 5, true), "onednn", onednn);
  ASSERT_TRUE(accelerated);
  EXPECT_EQ(accelerated->report()["stages"][0]["evaluations"][0]["confusion"],
            a["confusion"]);
  ASSERT_TRUE(accelerated->infer("S", image.data(), 1, 8, 8, got).ok());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(want[i], got[i], 1e-4) << i;
}

TEST_F(ExecutorTest, PostOpTensorsMustMatchTheChain) {
  settings.batch = 5;
  plan::Plan p = test::makePostOpPlan(settings, 5, true);
  // The chain [scale_shift, sum, relu] reads three tensors; drop the
  // residual.
  for (plan::OpSpec &op : p.evaluations.front().graph.program)
    if (op.op == "conv2d.fwd" && op.in.size() == 6)
      op.in.pop_back();
  Status status = runStatus(p, "short");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("post_ops: the chain reads 3 tensors after "
                                  "the layer's input, weight and bias; the op "
                                  "has 2"),
            std::string::npos)
      << status.message();
}

TEST_F(ExecutorTest, TeacherCacheTrainsLikeRecomputation) {
  auto recomputed = run(test::makeDistillPlan(settings, false), "recompute");
  auto cached = run(test::makeDistillPlan(settings, true), "cached");
  ASSERT_TRUE(recomputed && cached);
  std::vector<float> a = weights(*recomputed, "S/fc.weight");
  std::vector<float> b = weights(*cached, "S/fc.weight");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], b[i], 1e-5) << i;
  // One cache file, named by the plan's key and a hash of the teacher's
  // weights and the images: sha256_test-teacher_<hash>.safetensors.
  std::vector<fs::path> cacheFiles;
  for (const auto &entry :
       fs::directory_iterator(dir / "cached.run" / "cache"))
    cacheFiles.push_back(entry.path());
  ASSERT_EQ(cacheFiles.size(), 1u);
  fs::path cacheFile = cacheFiles.front();
  EXPECT_EQ(cacheFile.filename().string().rfind("sha256_test-teacher_", 0),
            0u);

  // A second run reads the cache file instead of recomputing: corrupt
  // values in a valid file show up in the result.
  io::SafetensorsFile file = io::readSafetensors(cacheFile.string());
  std::vector<float> logits = file.tensors[0].toFloats();
  for (float &v : logits)
    v = -v;
  file.tensors[0] = io::NamedTensor::fromFloats(
      file.tensors[0].name, file.tensors[0].shape, logits);
  io::writeSafetensors(cacheFile.string(), file);
  RunOptions reuse;
  reuse.runDirectory = (dir / "cached.run").string();
  auto reused = run(test::makeDistillPlan(settings, true), "cached", reuse);
  ASSERT_TRUE(reused);
  EXPECT_NE(weights(*reused, "S/fc.weight"), b);
}

TEST_F(ExecutorTest, MaxStepsCapsEveryStage) {
  RunOptions options;
  options.maxSteps = 2;
  auto session = run(test::makeLinearPlan(settings), "capped", options);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->report()["stages"][0]["steps"], 2);
  EXPECT_EQ(session->report()["stages"][0]["images"], 2 * settings.batch);
}

TEST_F(ExecutorTest, ShortLastBatchRuns) {
  settings.batch = 40; // 96 = 2 x 40 + 16
  auto session = run(test::makeLinearPlan(settings), "short");
  ASSERT_TRUE(session);
  EXPECT_EQ(session->report()["stages"][0]["steps"], 9);
  EXPECT_EQ(session->report()["stages"][0]["images"], 3 * 96);
}

TEST_F(ExecutorTest, InferGivesProbabilitiesOfTheRightClass) {
  auto session = run(test::makeLinearPlan(settings), "infer");
  ASSERT_TRUE(session);
  std::vector<uint8_t> right(64);
  for (int i = 0; i < 64; ++i)
    right[size_t(i)] = (i % 8) >= 4 ? 230 : 5;
  std::vector<float> probabilities;
  Status status = session->infer("S", right.data(), 1, 8, 8, probabilities);
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(probabilities.size(), 2u);
  EXPECT_NEAR(probabilities[0] + probabilities[1], 1.0f, 1e-5);
  EXPECT_GT(probabilities[1], 0.5f);
  // A larger RGB image is converted and resized as the dataset declares.
  std::vector<uint8_t> rgb(16 * 16 * 3);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c)
        rgb[size_t((y * 16 + x) * 3 + c)] = x < 8 ? 230 : 5;
  ASSERT_TRUE(session->infer("", rgb.data(), 3, 16, 16, probabilities).ok());
  EXPECT_GT(probabilities[0], 0.5f);
  EXPECT_FALSE(session->infer("X", rgb.data(), 3, 16, 16, probabilities).ok());
}

TEST_F(ExecutorTest, MissingDataIsAStatusNotACrash) {
  settings.dataPath = (dir / "nowhere").string();
  Status status = runStatus(test::makeLinearPlan(settings), "missing");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("nowhere"), std::string::npos)
      << status.message();
}

TEST_F(ExecutorTest, UnknownBackendIsRejected) {
  RunOptions options;
  options.backend = "tpu";
  std::unique_ptr<Session> session;
  Status status = Session::create(
      std::make_shared<const plan::Plan>(test::makeLinearPlan(settings)),
      "x.kdx", options, session);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("unknown backend 'tpu'"), std::string::npos);
}

} // namespace
} // namespace kdrt::exec

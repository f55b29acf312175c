//===- ResumeTest.cpp - Checkpoints with optimizer state, resumed runs ----===//

#include "TestPlans.h"
#include "kdrt/exec/Checkpoint.h"
#include "kdrt/exec/Session.h"
#include "kdrt/io/Safetensors.h"
#include "kdrt/plan/PlanIo.h"
#include "kdrt/train/Adam.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace kdrt::exec {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ResumeTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("kdrt-resume-" +
           std::string(
               ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir);
    fs::create_directories(dir / "data");
    test::writeSeparableIdx((dir / "data").string(), 64);
    test::PlanSettings settings;
    settings.dataPath = (dir / "data").string();
    settings.epochs = 2;
    planPath = (dir / "two-stage.kdx").string();
    plan::writePlan(planPath, test::makeTwoStagePlan(settings));
    loaded = std::make_shared<const plan::Plan>(plan::readPlan(planPath));
  }
  void TearDown() override { fs::remove_all(dir); }

  /// Creates a session on the reference backend (deterministic) and runs it.
  Status runIn(const std::string &runName, RunOptions options,
               std::unique_ptr<Session> &session) {
    options.backend = "reference";
    options.printProgress = false;
    options.runDirectory = (dir / runName).string();
    Status status = Session::create(loaded, planPath, options, session);
    return status.ok() ? session->run() : status;
  }

  static json readJson(const fs::path &path) {
    std::ifstream in(path);
    return json::parse(in);
  }

  fs::path dir;
  std::string planPath;
  std::shared_ptr<const plan::Plan> loaded;
};

TEST_F(ResumeTest, StopAndResumeEqualsAnUninterruptedRunBitForBit) {
  std::unique_ptr<Session> whole, first, second;
  ASSERT_TRUE(runIn("whole", {}, whole).ok());

  RunOptions stop;
  stop.stopAfterStage = "warmup";
  Status status = runIn("split", stop, first);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_TRUE(fs::exists(dir / "split/checkpoints/warmup.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "split/checkpoints/finetune.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "split/student.safetensors"));
  EXPECT_EQ(readJson(dir / "split/final.json")["stopped_after"], "warmup");

  // A fresh session (fresh initialisation) must take everything from the
  // checkpoint.
  RunOptions resume;
  resume.resume = true;
  status = runIn("split", resume, second);
  ASSERT_TRUE(status.ok()) << status.message();

  for (const std::string &name : whole->parameters().names()) {
    Tensor &a = whole->parameters().value(name);
    Tensor &b = second->parameters().value(name);
    ASSERT_EQ(a.numElements(), b.numElements());
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(),
                             size_t(a.numElements()) * sizeof(float)))
        << name << " differs after resuming";
  }
  // The exports and the final checkpoints are the same bytes.
  for (const char *file :
       {"student.safetensors", "checkpoints/finetune.safetensors"}) {
    io::SafetensorsFile a = io::readSafetensors((dir / "whole" / file).string());
    io::SafetensorsFile b = io::readSafetensors((dir / "split" / file).string());
    ASSERT_EQ(a.tensors.size(), b.tensors.size()) << file;
    for (size_t i = 0; i < a.tensors.size(); ++i) {
      EXPECT_EQ(a.tensors[i].name, b.tensors[i].name);
      EXPECT_EQ(a.tensors[i].bytes, b.tensors[i].bytes)
          << file << ": " << a.tensors[i].name;
    }
  }
  // final.json covers both stages, the first from its checkpoint.
  json report = readJson(dir / "split/final.json");
  EXPECT_EQ(report["resumed_after"], "warmup");
  ASSERT_EQ(report["stages"].size(), 2u);
  EXPECT_EQ(report["stages"][0]["name"], "warmup");
  EXPECT_EQ(report["stages"][1]["name"], "finetune");
  EXPECT_EQ(report["evaluations"].size(), 2u);
  EXPECT_EQ(report["stages"][1]["final_loss"],
            readJson(dir / "whole/final.json")["stages"][1]["final_loss"]);
}

TEST_F(ResumeTest, CheckpointHoldsOptimizerStateAndStepCount) {
  std::unique_ptr<Session> session;
  ASSERT_TRUE(runIn("run", {}, session).ok());
  io::SafetensorsFile file = io::readSafetensors(
      (dir / "run/checkpoints/finetune.safetensors").string());
  LoadedCheckpoint checkpoint;
  Status status = readCheckpoint(file, "finetune", session->parameters(),
                                 checkpoint);
  ASSERT_TRUE(status.ok()) << status.message();
  const StageOutcome &outcome = checkpoint.outcome;
  EXPECT_EQ(outcome.stage, "finetune");
  EXPECT_EQ(outcome.stageIndex, 1);
  EXPECT_EQ(outcome.optimizerKind, "adam");
  // 64 images, batch 16, 2 epochs.
  EXPECT_EQ(outcome.optimizerState.step, 8);
  EXPECT_EQ(outcome.report["steps"], 8);
  ASSERT_NE(file.find("S/conv.weight.exp_avg"), nullptr);
  ASSERT_NE(file.find("S/conv.weight.exp_avg_sq"), nullptr);
  EXPECT_EQ(file.find("S/conv.weight.exp_avg")->shape,
            (std::vector<int64_t>{4, 1, 3, 3}));
  EXPECT_EQ(checkpoint.parameters.tensors.size(),
            session->parameters().names().size());
  EXPECT_EQ(outcome.optimizerState.tensors.size(), 8u); // 4 params x 2

  // The state is what an Adam over the same parameters accepts.
  std::vector<train::ParameterGroup> groups(1);
  for (const std::string &name : session->parameters().names())
    groups[0].parameters.push_back(
        {name, session->parameters().value(name).data(),
         session->parameters().gradient(name).data(),
         size_t(session->parameters().value(name).numElements())});
  train::Adam adam(std::move(groups), train::AdamOptions{});
  EXPECT_NO_THROW(adam.importState(outcome.optimizerState));
  EXPECT_EQ(adam.stepCount(), 8);

  io::SafetensorsFile warmup = io::readSafetensors(
      (dir / "run/checkpoints/warmup.safetensors").string());
  EXPECT_EQ(warmup.metadata.at("optimizer"), "sgd");
  EXPECT_NE(warmup.find("S/fc.weight.momentum_buffer"), nullptr);
}

TEST_F(ResumeTest, ResumeWithAnotherSeedIsRefused) {
  std::unique_ptr<Session> first, second;
  RunOptions stop;
  stop.stopAfterStage = "warmup";
  ASSERT_TRUE(runIn("run", stop, first).ok());
  RunOptions resume;
  resume.resume = true;
  resume.seed = 99;
  Status status = runIn("run", resume, second);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("seed 7"), std::string::npos)
      << status.message();
}

TEST_F(ResumeTest, ForeignTensorInCheckpointIsRefused) {
  std::unique_ptr<Session> first, second;
  RunOptions stop;
  stop.stopAfterStage = "warmup";
  ASSERT_TRUE(runIn("run", stop, first).ok());
  std::string path = (dir / "run/checkpoints/warmup.safetensors").string();
  io::SafetensorsFile file = io::readSafetensors(path);
  file.tensors.push_back(io::NamedTensor::fromFloats("X/other", {1}, {1.0f}));
  io::writeSafetensors(path, file);
  RunOptions resume;
  resume.resume = true;
  Status status = runIn("run", resume, second);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'X/other'"), std::string::npos)
      << status.message();
}

TEST_F(ResumeTest, ResumeWithoutCheckpointRunsEveryStage) {
  std::unique_ptr<Session> session;
  RunOptions resume;
  resume.resume = true;
  Status status = runIn("fresh", resume, session);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(readJson(dir / "fresh/final.json")["stages"].size(), 2u);
}

TEST_F(ResumeTest, StopAfterUnknownStageIsAnError) {
  std::unique_ptr<Session> session;
  RunOptions stop;
  stop.stopAfterStage = "nope";
  Status status = runIn("run", stop, session);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no stage named 'nope'"), std::string::npos);
}

} // namespace
} // namespace kdrt::exec

//===- PlanReaderTest.cpp - The .kdx reader's checks and messages ---------===//

#include "GraphBuilder.h"
#include "TestPlans.h"
#include "kdrt/exec/Session.h"
#include "kdrt/plan/PlanIo.h"

#include <gtest/gtest.h>

#include <random>

namespace kdrt::plan {
namespace {

using nlohmann::json;

Plan samplePlan() {
  test::PlanSettings settings;
  settings.dataPath = "data";
  return test::makeDistillPlan(settings, true);
}

/// The message parsePlan throws for `bytes` ("" when it accepts them).
std::string readError(const std::vector<uint8_t> &bytes) {
  try {
    parsePlan(bytes, "p.kdx");
  } catch (const PlanError &error) {
    return error.what();
  }
  return "";
}

/// A file with `manifest` as its manifest and `blob` after it.
std::vector<uint8_t> fileWith(const json &manifest,
                              const std::vector<uint8_t> &blob = {}) {
  Plan empty;
  empty.blob = blob;
  std::vector<uint8_t> bytes = serializePlan(empty);
  std::string text = manifest.dump();
  std::vector<uint8_t> result(bytes.begin(), bytes.begin() + 8);
  for (int i = 0; i < 8; ++i)
    result.push_back(uint8_t(uint64_t(text.size()) >> (8 * i)));
  result.insert(result.end(), text.begin(), text.end());
  result.resize((result.size() + 63) / 64 * 64, 0);
  result.insert(result.end(), blob.begin(), blob.end());
  return result;
}

TEST(PlanReaderTest, RoundTripsThroughTheFileFormat) {
  Plan plan = samplePlan();
  std::vector<uint8_t> bytes = serializePlan(plan);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8),
            std::string("KDXPLAN\0", 8));
  Plan read = parsePlan(bytes, "p.kdx");
  EXPECT_EQ(planToJson(read), planToJson(plan));
  EXPECT_EQ(read.blob, plan.blob);
  EXPECT_EQ(serializePlan(read), bytes);
}

TEST(PlanReaderTest, EvaluationKeepsThePredictionItMeasures) {
  Plan plan = samplePlan();
  ASSERT_FALSE(plan.evaluations.empty());
  EXPECT_FALSE(planToJson(plan)["evaluations"][0].contains("using"));
  plan.evaluations[0].prediction = "mean(e1,e2,logits)";
  Plan read = parsePlan(serializePlan(plan), "p.kdx");
  EXPECT_EQ(read.evaluations[0].prediction, "mean(e1,e2,logits)");
  EXPECT_EQ(planToJson(read)["evaluations"][0]["using"], "mean(e1,e2,logits)");
}

/// The sample plan with its first evaluation replaced by
///   a = relu(x); b = relu(x); c = add(a, b)
/// laid out one buffer after another, so that tests can make two of them
/// share bytes.
Plan planWithSharedBytes(int64_t moved, int64_t onto) {
  Plan plan = samplePlan();
  test::GraphBuilder g;
  int64_t x = g.buffer({2, 8}), a = g.buffer({2, 8}), b = g.buffer({2, 8}),
          c = g.buffer({2, 8});
  g.op("relu.fwd", {test::buf(x)}, {test::buf(a)});
  g.op("relu.fwd", {test::buf(x)}, {test::buf(b)});
  g.op("add.fwd", {test::buf(a), test::buf(b)}, {test::buf(c)});
  g.graph.inputs.push_back(InputSpec{x, "image", std::nullopt});
  if (moved >= 0)
    g.graph.buffers[size_t(moved)].offset = g.graph.buffers[size_t(onto)].offset;
  EvaluationSpec &evaluation = plan.evaluations.front();
  evaluation.graph = g.graph;
  evaluation.outputBuffer = c;
  return plan;
}

std::string sharedBytesError(int64_t moved, int64_t onto) {
  return readError(serializePlan(planWithSharedBytes(moved, onto)));
}

TEST(PlanReaderTest, BuffersSharingBytesWhileLiveAreAPlanError) {
  EXPECT_EQ(sharedBytesError(-1, -1), "");
  // b written over a before add reads a.
  EXPECT_EQ(sharedBytesError(2, 1),
            "p.kdx: evaluations[0].program[2].in[0]: reads buffer 1 [64, +64), "
            "whose bytes buffer 2 [64, +64) took over when "
            "evaluations[0].program[1] wrote it: the plan's memory layout is "
            "broken (a compiler bug)");
  // An op writing over its own input (the linear of an evaluation once
  // wrote its logits over its features).
  EXPECT_EQ(sharedBytesError(3, 1),
            "p.kdx: evaluations[0].program[2].in[0]: reads buffer 1 [64, +64) "
            "while writing buffer 3 [64, +64) over its bytes: the plan's "
            "memory layout is broken (a compiler bug)");
  // Bytes of a dead buffer are free: c may reuse x's once b has read it.
  EXPECT_EQ(sharedBytesError(3, 0), "");
}

TEST(PlanReaderTest, TeacherCacheProgramMayNotTakeOverWhatTheStepReads) {
  // Over the runtime's memory limit the cache program runs on the fed batch
  // before the step: its temporaries must not take over bytes the step
  // still reads. Give its reshape a buffer of its own on the labels' bytes:
  // harmless when the cache is filled (the program never runs during the
  // step), broken when it runs first.
  Plan plan = samplePlan();
  plan::StageSpec &stage = plan.stages[0];
  ASSERT_FALSE(stage.teacherCache.program.empty());
  int64_t labels = -1;
  for (const plan::InputSpec &input : stage.graph.inputs)
    if (input.role == "label")
      labels = input.buffer;
  ASSERT_GE(labels, 0);
  const plan::BufferSpec *labelBuffer = stage.graph.findBuffer(labels);
  int64_t fresh = 0;
  for (const plan::BufferSpec &buffer : stage.graph.buffers)
    fresh = std::max(fresh, buffer.id + 1);
  plan::BufferSpec scratch;
  scratch.id = fresh;
  scratch.shape = labelBuffer->shape;
  scratch.offset = labelBuffer->offset;
  stage.graph.buffers.push_back(scratch);
  // The cache program's reshape writes the scratch; its linear reads it.
  stage.teacherCache.program[0].out[0].buffer = fresh;
  stage.teacherCache.program[1].in[0].buffer = fresh;
  std::string error = readError(serializePlan(plan));
  EXPECT_NE(error.find("reads buffer " + std::to_string(labels)),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("took over when stages[0].teacher_cache.program[0] "
                       "wrote it"),
            std::string::npos)
      << error;
}

TEST(PlanReaderTest, StageCopiesRoundTripAndAreChecked) {
  Plan plan = samplePlan();
  ASSERT_GE(plan.parameters.size(), 1u);
  const std::string name = plan.parameters[0].name;
  plan.stages[0].copies = {{name, name}};
  Plan read = parsePlan(serializePlan(plan), "p.kdx");
  ASSERT_EQ(read.stages[0].copies.size(), 1u);
  EXPECT_EQ(read.stages[0].copies[0].first, name);
  EXPECT_EQ(planToJson(read), planToJson(plan));

  json manifest = planToJson(plan);
  manifest["stages"][0]["copy"][0]["to"] = "S/nope";
  EXPECT_EQ(readError(fileWith(manifest, plan.blob)),
            "p.kdx: stages[0].copy[0].to: unknown parameter 'S/nope'");
  // Two parameters of different shapes.
  std::string other;
  for (const ParameterSpec &parameter : plan.parameters)
    if (parameter.shape != plan.parameters[0].shape)
      other = parameter.name;
  ASSERT_FALSE(other.empty());
  manifest = planToJson(plan);
  manifest["stages"][0]["copy"][0]["to"] = other;
  EXPECT_EQ(readError(fileWith(manifest, plan.blob)),
            "p.kdx: stages[0].copy[0]: copies '" + name + "' into '" + other +
                "', which has another shape");
}

TEST(PlanReaderTest, BadMagic) {
  std::vector<uint8_t> bytes = serializePlan(samplePlan());
  bytes[0] = 'X';
  EXPECT_EQ(readError(bytes), "p.kdx: not a kdx plan (bad magic)");
  EXPECT_NE(readError({'K', 'D'}).find("shorter than the 16-byte header"),
            std::string::npos);
}

TEST(PlanReaderTest, TruncatedManifest) {
  std::vector<uint8_t> bytes = serializePlan(samplePlan());
  bytes.resize(100);
  EXPECT_NE(readError(bytes).find("p.kdx: truncated manifest"),
            std::string::npos);
}

TEST(PlanReaderTest, ManifestMustBeOneJsonObject) {
  EXPECT_EQ(readError(fileWith(json::array())),
            "p.kdx: the manifest is not one JSON object");
  std::vector<uint8_t> bytes = fileWith(json::object());
  bytes[16] = '!';
  EXPECT_EQ(readError(bytes), "p.kdx: the manifest is not valid JSON");
}

TEST(PlanReaderTest, UnknownVersion) {
  json manifest = planToJson(samplePlan());
  manifest["kdx_version"] = 7;
  EXPECT_NE(readError(fileWith(manifest))
                .find("p.kdx: kdx_version: unsupported plan version 7"),
            std::string::npos);
}

TEST(PlanReaderTest, UnknownBufferNamesItsJsonPath) {
  json manifest = planToJson(samplePlan());
  manifest["stages"][0]["program"][2]["in"][1] = {{"buf", 99}};
  EXPECT_EQ(readError(fileWith(manifest, samplePlan().blob)),
            "p.kdx: stages[0].program[2].in[1]: unknown buffer 99");
}

TEST(PlanReaderTest, BufferOutsideTheArena) {
  json manifest = planToJson(samplePlan());
  manifest["stages"][0]["arena"]["bytes"] = 1024;
  EXPECT_NE(readError(fileWith(manifest, samplePlan().blob))
                .find("lies outside the arena of 1024 bytes"),
            std::string::npos);
}

TEST(PlanReaderTest, BlobReferenceOutsideTheFile) {
  Plan plan = samplePlan();
  json manifest = planToJson(plan);
  manifest["parameters"][0]["blob"]["offset"] = 4096;
  EXPECT_NE(readError(fileWith(manifest, plan.blob))
                .find("p.kdx: parameters[0].blob: blob reference [4096, "
                      "+512) lies outside the file"),
            std::string::npos);
  manifest["parameters"][0]["blob"]["offset"] = 0;
  manifest["parameters"][0]["blob"]["bytes"] = 16;
  EXPECT_NE(readError(fileWith(manifest, plan.blob))
                .find("parameters[0].blob.bytes: 16 bytes for a parameter of "
                      "128 floats"),
            std::string::npos);
}

TEST(PlanReaderTest, FieldTypeAndReferenceErrors) {
  json manifest = planToJson(samplePlan());
  manifest["stages"][0]["batch"] = "sixteen";
  EXPECT_EQ(readError(fileWith(manifest, samplePlan().blob)),
            "p.kdx: stages[0].batch: expected an integer");
  manifest = planToJson(samplePlan());
  manifest["stages"][0]["optimizer"]["groups"][0]["params"][0] = "S/nope";
  EXPECT_EQ(readError(fileWith(manifest, samplePlan().blob)),
            "p.kdx: stages[0].optimizer.groups[0].params[0]: unknown "
            "parameter 'S/nope'");
  manifest = planToJson(samplePlan());
  manifest["evaluations"][0]["data"]["split"] = "dev";
  EXPECT_EQ(readError(fileWith(manifest, samplePlan().blob)),
            "p.kdx: evaluations[0].data.split: unknown split 'dev' of "
            "dataset 'toy'");
}

TEST(PlanReaderTest, UnionSplitsAndLossEvaluations) {
  json manifest = planToJson(samplePlan());
  json &splits = manifest["datasets"][0]["splits"];
  std::string first = splits[0]["name"];
  splits.push_back({{"name", "both"},
                    {"source", "union"},
                    {"parts", {first, first}},
                    {"unlabeled", true}});
  Plan read = parsePlan(fileWith(manifest, samplePlan().blob), "p.kdx");
  const SplitSpec &both = read.datasets[0].splits.back();
  EXPECT_EQ(both.source, "union");
  EXPECT_EQ(both.parts, (std::vector<std::string>{first, first}));
  EXPECT_TRUE(both.unlabeled);
  EXPECT_EQ(planToJson(read)["datasets"][0]["splits"].back(), splits.back());

  size_t at = splits.size() - 1;
  splits[at]["parts"] = {first, "later"};
  EXPECT_EQ(readError(fileWith(manifest, samplePlan().blob)),
            "p.kdx: datasets[0].splits[" + std::to_string(at) +
                "].parts[1]: unknown split 'later' (a part is declared "
                "first)");
  splits[at]["parts"] = json::array();
  EXPECT_EQ(readError(fileWith(manifest, samplePlan().blob)),
            "p.kdx: datasets[0].splits[" + std::to_string(at) +
                "].parts: a union joins at least one split");

  manifest = planToJson(samplePlan());
  manifest["evaluations"][0]["metrics"] = {"mean"};
  manifest["evaluations"][0]["expression"] = "kl(S.logits, T.logits)";
  read = parsePlan(fileWith(manifest, samplePlan().blob), "p.kdx");
  EXPECT_TRUE(isLossEvaluation(read.evaluations[0]));
  EXPECT_EQ(read.evaluations[0].expression, "kl(S.logits, T.logits)");
  manifest["evaluations"][0]["metrics"] = {"mean", "accuracy"};
  EXPECT_EQ(readError(fileWith(manifest, samplePlan().blob)),
            "p.kdx: evaluations[0].metrics: \"mean\" (a loss averaged over "
            "the split) is the only metric of its evaluation");
}

/// samplePlan's manifest with its export turned into an export to .kdx
/// whose inference program is the plan's evaluation program of S, over
/// copies of the parameters it reads.
json kdxExportManifest() {
  Plan plan = samplePlan();
  json manifest = planToJson(plan);
  json &exported = manifest["exports"][0];
  const json &evaluation = manifest["evaluations"][0];
  json parameters = json::array();
  for (const OpSpec &op : plan.evaluations[0].graph.program)
    for (const Operand &operand : op.in)
      if (operand.kind == Operand::Kind::Param)
        parameters.push_back(
            {{"name", operand.name},
             {"shape", plan.findParameter(operand.name)->shape},
             {"role", plan.findParameter(operand.name)->role}});
  json inference = {{"parameters", parameters}, {"fold", json::array()}};
  for (const char *key : {"data", "batch", "metrics", "inputs", "arena",
                          "buffers", "program", "output"})
    inference[key] = evaluation[key];
  exported["format"] = "kdx";
  exported["path"] = "student.kdx";
  exported["inference"] = inference;
  return manifest;
}

TEST(PlanReaderTest, InferenceExportRoundTripsAndIsChecked) {
  json manifest = kdxExportManifest();
  std::vector<uint8_t> blob = samplePlan().blob;
  ASSERT_EQ(readError(fileWith(manifest, blob)), "");
  Plan read = parsePlan(fileWith(manifest, blob), "p.kdx");
  ASSERT_TRUE(read.exports[0].inference.has_value());
  EXPECT_EQ(planToJson(read)["exports"][0], manifest["exports"][0]);

  json broken = manifest;
  broken["exports"][0].erase("inference");
  EXPECT_EQ(readError(fileWith(broken, blob)),
            "p.kdx: exports[0].inference: an export to .kdx carries the "
            "inference program it writes");
  broken = manifest;
  broken["exports"][0]["format"] = "safetensors";
  EXPECT_EQ(readError(fileWith(broken, blob)),
            "p.kdx: exports[0].inference: only an export to .kdx carries an "
            "inference program");

  // A fold reads the plan's parameters and writes exported ones.
  std::string weight = manifest["exports"][0]["inference"]["parameters"][0]
                           ["name"].get<std::string>();
  json fold = {{"op", "fold_batch_norm"},
               {"attrs", {{"eps", 1e-5}}},
               {"in", {{{"param", weight}}, nullptr, {{"param", "S/nope"}},
                       {{"param", weight}}, {{"param", weight}},
                       {{"param", weight}}}},
               {"out", {{{"param", weight}}, {{"param", weight}}}}};
  broken = manifest;
  broken["exports"][0]["inference"]["fold"].push_back(fold);
  EXPECT_EQ(readError(fileWith(broken, blob)),
            "p.kdx: exports[0].inference.fold[0].in[2]: unknown parameter "
            "'S/nope'");
  fold["in"][2] = {{"param", weight}};
  fold["out"][1] = {{"param", "S/folded.bias"}};
  broken["exports"][0]["inference"]["fold"][0] = fold;
  EXPECT_EQ(readError(fileWith(broken, blob)),
            "p.kdx: exports[0].inference.fold[0].out[1]: unknown exported "
            "parameter 'S/folded.bias'");
  fold["out"][1] = {{"buf", 0}};
  broken["exports"][0]["inference"]["fold"][0] = fold;
  EXPECT_EQ(readError(fileWith(broken, blob)),
            "p.kdx: exports[0].inference.fold[0].out[1]: a fold writes "
            "parameters of the exported plan");
  fold["op"] = "batch_norm.fwd";
  broken["exports"][0]["inference"]["fold"][0] = fold;
  EXPECT_NE(readError(fileWith(broken, blob))
                .find("p.kdx: exports[0].inference.fold[0].op: "),
            std::string::npos);

  // Exported parameters are folded or copies of the plan's.
  broken = manifest;
  broken["exports"][0]["inference"]["parameters"].push_back(
      {{"name", "S/extra"}, {"shape", {4}}, {"role", "bias"}});
  EXPECT_EQ(readError(fileWith(broken, blob)),
            "p.kdx: exports[0].inference.parameters[" +
                std::to_string(manifest["exports"][0]["inference"]
                                       ["parameters"]
                                           .size()) +
                "]: exported parameter 'S/extra' is neither folded nor a "
                "parameter of the plan");
  broken = manifest;
  broken["exports"][0]["inference"]["parameters"][0]["shape"] = {1, 2, 3};
  EXPECT_EQ(readError(fileWith(broken, blob)),
            "p.kdx: exports[0].inference.parameters[0].shape: differs from "
            "the shape of the plan's parameter '" + weight + "'");
  // The program reads exported parameters only.
  broken = manifest;
  broken["exports"][0]["inference"]["parameters"].erase(0);
  EXPECT_NE(readError(fileWith(broken, blob))
                .find("unknown parameter '" + weight + "'"),
            std::string::npos);
}

/// Session creation binds every op: names, operand counts and attributes.
std::string bindError(const json &manifest) {
  Plan plan = parsePlan(fileWith(manifest, samplePlan().blob), "p.kdx");
  exec::RunOptions options;
  options.backend = "reference";
  std::unique_ptr<exec::Session> session;
  Status status = exec::Session::create(std::make_shared<const Plan>(plan),
                                        "p.kdx", options, session);
  return status.ok() ? "" : status.message();
}

TEST(PlanReaderTest, UnknownOpAndBadOperandsFailAtSessionCreation) {
  json manifest = planToJson(samplePlan());
  manifest["stages"][0]["program"][1]["op"] = "linear.sideways";
  EXPECT_EQ(bindError(manifest),
            "p.kdx: stages[0].program[1].op: unknown op 'linear.sideways'");
  manifest = planToJson(samplePlan());
  manifest["stages"][0]["program"][1]["in"].erase(2);
  EXPECT_EQ(bindError(manifest), "p.kdx: stages[0].program[1].in: "
                                 "linear.fwd takes 3 or more 'in' operands, got 2");
  manifest = planToJson(samplePlan());
  manifest["stages"][0]["program"][1]["in"][0] = nullptr;
  EXPECT_EQ(bindError(manifest), "p.kdx: stages[0].program[1].in[0]: "
                                 "operand of linear.fwd must not be null");
  manifest = planToJson(samplePlan());
  manifest["stages"][0]["program"][3]["attrs"]["temperature"] = -1;
  EXPECT_EQ(bindError(manifest), "p.kdx: stages[0].program[3].attrs."
                                 "temperature: must be positive");
  manifest = planToJson(samplePlan());
  manifest["stages"][0]["teacher_cache"]["program"][1]["op"] = "nope";
  EXPECT_EQ(bindError(manifest), "p.kdx: stages[0].teacher_cache.program[1]"
                                 ".op: unknown op 'nope'");
}

TEST(PlanReaderTest, HostileBytesNeverCrash) {
  std::vector<uint8_t> good = serializePlan(samplePlan());
  std::mt19937 rng(5);
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> bytes = good;
    if (trial % 2)
      bytes.resize(rng() % bytes.size());
    for (int flips = 0; flips < 4 && !bytes.empty(); ++flips)
      bytes[rng() % bytes.size()] ^= uint8_t(1u << (rng() % 8));
    (void)readError(bytes); // either a plan or a PlanError, nothing else
  }
  std::vector<uint8_t> huge = good;
  for (int i = 8; i < 16; ++i)
    huge[size_t(i)] = 0xff; // a manifest length near 2^64
  EXPECT_NE(readError(huge).find("truncated manifest"), std::string::npos);
}

} // namespace
} // namespace kdrt::plan

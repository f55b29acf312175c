//===- StudentPlan.cpp - The stdlib Student as a hand-written plan --------===//

#include "StudentPlan.h"
#include "GraphBuilder.h"
#include "TestPlans.h"
#include "kdrt/plan/PlanIo.h"

#include <cmath>
#include <random>

namespace kdrt::test {

using nlohmann::json;
using plan::Operand;

namespace {

struct Block {
  std::string name;
  int64_t in, out, size; // channels in and out, input height = width
  bool pool;
};

// stdlib/models/student.kd with its defaults: w1 24, w2 48, w3 96.
const std::vector<Block> kBlocks = {{"l1", 1, 24, 28, true},
                                    {"l2", 24, 48, 14, true},
                                    {"l3", 48, 96, 7, false}};
constexpr int64_t kEmbed = 96;

std::string p(const std::string &name) { return "S/" + name; }

plan::ParameterSpec parameterOf(std::string name, std::vector<int64_t> shape,
                                std::string role) {
  plan::ParameterSpec spec;
  spec.name = std::move(name);
  spec.shape = std::move(shape);
  spec.role = std::move(role);
  spec.init.kind = "zeros";
  return spec;
}

/// A parameter whose values are drawn uniformly from [lo, hi) into the blob.
plan::ParameterSpec drawn(plan::Plan &target, std::mt19937 &rng,
                          std::string name, int64_t channels,
                          std::string role, float lo, float hi) {
  plan::ParameterSpec spec =
      parameterOf(std::move(name), {channels}, std::move(role));
  std::uniform_real_distribution<float> uniform(lo, hi);
  std::vector<float> values(static_cast<size_t>(channels));
  for (float &value : values)
    value = uniform(rng);
  spec.blob =
      plan::appendToBlob(target, values.data(), values.size() * sizeof(float));
  return spec;
}

/// The Student's forward pass from buffer `x`; returns the logits buffer
/// and sets `embed` to the [B, 96] features the classifier reads.
int64_t forward(GraphBuilder &g, int64_t batch, int64_t x, int64_t &embed) {
  json conv = {{"stride", {1, 1}}, {"pad", {1, 1}}, {"dilation", {1, 1}},
               {"groups", 1}};
  json bn = {{"training", false}, {"eps", 1e-5}, {"momentum", 0.1}};
  json pool = {{"kernel", {2, 2}}, {"stride", {2, 2}}};
  int64_t current = x;
  for (const Block &block : kBlocks) {
    std::vector<int64_t> shape = {batch, block.out, block.size, block.size};
    int64_t c = g.buffer(shape), n = g.buffer(shape), r = g.buffer(shape);
    std::string conv0 = block.name + ".conv0.", bn0 = block.name + ".bn0.";
    g.op("conv2d.fwd",
         {buf(current), param(p(conv0 + "weight")), Operand::none()},
         {buf(c)}, conv);
    g.op("batch_norm.fwd",
         {buf(c), param(p(bn0 + "weight")), param(p(bn0 + "bias")),
          param(p(bn0 + "running_mean")), param(p(bn0 + "running_var"))},
         {buf(n)}, bn);
    g.op("relu.fwd", {buf(n)}, {buf(r)});
    current = r;
    if (block.pool) {
      int64_t pooled =
          g.buffer({batch, block.out, block.size / 2, block.size / 2});
      g.op("max_pool2d.fwd", {buf(r)}, {buf(pooled)}, pool);
      current = pooled;
    }
  }
  int64_t gap = g.buffer({batch, kEmbed, 1, 1});
  embed = g.buffer({batch, kEmbed});
  int64_t logits = g.buffer({batch, kStudentClasses});
  g.op("global_avg_pool.fwd", {buf(current)}, {buf(gap)});
  // dropout(p = 0) is the identity and the compiler drops it.
  g.op("reshape.fwd", {buf(gap)}, {buf(embed)});
  g.op("linear.fwd",
       {buf(embed), param(p("linear0.weight")), param(p("linear0.bias"))},
       {buf(logits)});
  return logits;
}

} // namespace

void writeStudentIdx(const std::string &directory, int64_t count) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pixel(0, 255);
  for (auto [stem, n] : {std::pair<std::string, int64_t>{"train", count},
                         {"t10k", count / 2}}) {
    std::vector<uint8_t> images, labels;
    for (int64_t i = 0; i < n; ++i) {
      labels.push_back(uint8_t(i % kStudentClasses));
      for (int64_t k = 0; k < kStudentImageSize * kStudentImageSize; ++k)
        images.push_back(uint8_t(pixel(rng)));
    }
    writeIdx(directory + "/" + stem + "-images-idx3-ubyte",
             {uint32_t(n), uint32_t(kStudentImageSize),
              uint32_t(kStudentImageSize)},
             images);
    writeIdx(directory + "/" + stem + "-labels-idx1-ubyte", {uint32_t(n)},
             labels);
  }
}

plan::Plan makeStudentPlan(const std::string &dataPath, int64_t batch,
                           uint64_t seed) {
  plan::Plan student;
  student.producer = "kdrt tests";
  student.seed = seed;
  plan::DatasetSpec data;
  data.name = "fmnist";
  data.kind = "idx";
  data.path = dataPath;
  data.channels = 1;
  data.height = data.width = kStudentImageSize;
  data.mean = {0.286f};
  data.std = {0.353f};
  data.classes = kStudentClasses;
  for (int64_t k = 0; k < kStudentClasses; ++k)
    data.classNames.push_back("c" + std::to_string(k));
  plan::SplitSpec train;
  train.name = "train";
  train.source = "file";
  train.file = "train";
  plan::SplitSpec test = train;
  test.name = "test";
  test.file = "t10k";
  data.splits = {train, test};
  student.datasets.push_back(data);

  std::mt19937 rng(static_cast<uint32_t>(seed));
  for (const Block &block : kBlocks) {
    plan::ParameterSpec conv = parameterOf(
        p(block.name + ".conv0.weight"), {block.out, block.in, 3, 3},
        "weight");
    conv.init.kind = "kaiming_normal";
    conv.init.gain = std::sqrt(2.0);
    student.parameters.push_back(conv);
    std::string bn0 = p(block.name + ".bn0.");
    student.parameters.push_back(
        drawn(student, rng, bn0 + "weight", block.out, "weight", 0.5f, 1.5f));
    student.parameters.push_back(
        drawn(student, rng, bn0 + "bias", block.out, "bias", -0.2f, 0.2f));
    student.parameters.push_back(drawn(student, rng, bn0 + "running_mean",
                                    block.out, "state", -0.1f, 0.1f));
    student.parameters.push_back(drawn(student, rng, bn0 + "running_var", block.out,
                                    "state", 0.5f, 1.5f));
  }
  plan::ParameterSpec linear =
      parameterOf(p("linear0.weight"), {kStudentClasses, kEmbed}, "weight");
  linear.init.kind = "kaiming_normal";
  linear.init.gain = std::sqrt(2.0);
  student.parameters.push_back(linear);
  student.parameters.push_back(
      parameterOf(p("linear0.bias"), {kStudentClasses}, "bias"));

  // Stage "head": the classifier on frozen features.
  GraphBuilder g;
  int64_t x = g.buffer({batch, 1, kStudentImageSize, kStudentImageSize});
  int64_t label = g.buffer({batch});
  g.graph.inputs = {{x, "image", std::nullopt},
                    {label, "label", std::nullopt}};
  int64_t embed = 0;
  int64_t logits = forward(g, batch, x, embed);
  int64_t loss = g.buffer({}), dlogits = g.buffer({batch, kStudentClasses});
  g.op("cross_entropy_loss", {buf(logits), buf(label)},
       {buf(loss), buf(dlogits)});
  g.op("linear.bwd", {buf(embed), param(p("linear0.weight")), buf(dlogits)},
       {Operand::none(), grad(p("linear0.weight")),
        grad(p("linear0.bias"))});
  plan::StageSpec stage;
  stage.name = "head";
  stage.kind = "train";
  stage.data = {"fmnist", "train"};
  stage.epochs = 1;
  stage.batch = batch;
  stage.trained = {"S"};
  stage.graph = g.graph;
  stage.optimizer.kind = "sgd";
  stage.optimizer.momentum = 0.9;
  stage.optimizer.groups.push_back(
      {0.05, 0.0, {p("linear0.weight"), p("linear0.bias")}});
  stage.lossBuffer = loss;
  student.stages.push_back(stage);

  GraphBuilder e;
  int64_t ex = e.buffer({batch, 1, kStudentImageSize, kStudentImageSize});
  e.graph.inputs = {{ex, "image", std::nullopt}};
  int64_t eembed = 0;
  int64_t elogits = forward(e, batch, ex, eembed);
  plan::EvaluationSpec evaluation;
  evaluation.model = "S";
  evaluation.data = {"fmnist", "test"};
  evaluation.batch = batch;
  evaluation.metrics = {"accuracy"};
  evaluation.graph = e.graph;
  evaluation.outputBuffer = elogits;
  evaluation.afterStage = "head";
  student.evaluations.push_back(evaluation);

  std::vector<std::string> names;
  for (const plan::ParameterSpec &parameter : student.parameters)
    names.push_back(parameter.name);
  student.exports.push_back(
      {"S", "student.safetensors", "safetensors", names, "head"});
  return student;
}

} // namespace kdrt::test

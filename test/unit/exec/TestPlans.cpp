//===- TestPlans.cpp - Small plans and data sets for executor tests -------===//

#include "TestPlans.h"
#include "GraphBuilder.h"
#include "kdrt/plan/PlanIo.h"

#include <fstream>
#include <random>

namespace kdrt::test {

using nlohmann::json;
using plan::Operand;

void writeIdx(const std::string &path, const std::vector<uint32_t> &dims,
              const std::vector<uint8_t> &data) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t dim : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(uint8_t(dim >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()),
             std::streamsize(bytes.size()));
}

namespace {

void writeSplit(const std::string &directory, const std::string &stem,
                int64_t count, std::mt19937 &rng) {
  std::uniform_int_distribution<int> noise(0, 60);
  std::vector<uint8_t> images, labels;
  for (int64_t n = 0; n < count; ++n) {
    uint8_t label = uint8_t(n % 2);
    labels.push_back(label);
    for (int64_t y = 0; y < kImageSize; ++y)
      for (int64_t x = 0; x < kImageSize; ++x) {
        bool bright = (x < kImageSize / 2) == (label == 0);
        images.push_back(uint8_t((bright ? 180 : 20) + noise(rng)));
      }
  }
  writeIdx(directory + "/" + stem + "-images-idx3-ubyte",
           {uint32_t(count), kImageSize, kImageSize}, images);
  writeIdx(directory + "/" + stem + "-labels-idx1-ubyte", {uint32_t(count)},
           labels);
}

plan::Plan basePlan(const PlanSettings &settings) {
  plan::Plan p;
  p.producer = "kdrt tests";
  p.seed = settings.seed;
  plan::DatasetSpec data;
  data.name = "toy";
  data.kind = "idx";
  data.path = settings.dataPath;
  data.channels = 1;
  data.height = data.width = kImageSize;
  data.mean = {0.5f};
  data.std = {0.5f};
  data.classes = 2;
  data.classNames = {"left", "right"};
  plan::SplitSpec train;
  train.name = "train";
  train.source = "file";
  train.file = "train";
  plan::SplitSpec test = train;
  test.name = "test";
  test.file = "t10k";
  data.splits = {train, test};
  p.datasets.push_back(data);
  return p;
}

plan::ParameterSpec parameter(std::string name, std::vector<int64_t> shape,
                              std::string init, std::string role = "weight") {
  plan::ParameterSpec spec;
  spec.name = std::move(name);
  spec.shape = std::move(shape);
  spec.role = std::move(role);
  spec.init.kind = std::move(init);
  return spec;
}

plan::StageSpec stageOf(const PlanSettings &settings, GraphBuilder &builder,
                        int64_t loss, std::vector<std::string> trained) {
  plan::StageSpec stage;
  stage.name = "train";
  stage.kind = "train";
  stage.data = {"toy", "train"};
  stage.epochs = settings.epochs;
  stage.batch = settings.batch;
  stage.trained = {"S"};
  stage.graph = builder.graph;
  stage.optimizer.kind = "sgd";
  stage.optimizer.momentum = 0.9;
  stage.optimizer.groups.push_back({settings.lr, 0.0, std::move(trained)});
  stage.schedule.kind = "cosine";
  stage.lossBuffer = loss;
  return stage;
}

/// Evaluation and export of the linear model "S/fc" on [B, 64] features.
void addLinearOutputs(plan::Plan &p, const PlanSettings &settings,
                      const std::vector<std::string> &params) {
  GraphBuilder eval;
  int64_t B = settings.batch;
  int64_t x = eval.buffer({B, 1, kImageSize, kImageSize});
  int64_t flat = eval.buffer({B, kImageSize * kImageSize});
  int64_t logits = eval.buffer({B, 2});
  eval.graph.inputs = {{x, "image", std::nullopt}};
  eval.op("reshape.fwd", {buf(x)}, {buf(flat)});
  eval.op("linear.fwd", {buf(flat), param("S/fc.weight"), param("S/fc.bias")},
          {buf(logits)});
  plan::EvaluationSpec evaluation;
  evaluation.model = "S";
  evaluation.data = {"toy", "test"};
  evaluation.batch = B;
  evaluation.metrics = {"accuracy", "sensitivity", "specificity",
                        "precision", "f1", "confusion"};
  evaluation.graph = eval.graph;
  evaluation.outputBuffer = logits;
  evaluation.afterStage = "train";
  p.evaluations.push_back(evaluation);
  p.exports.push_back({"S", "student.safetensors", "safetensors", params,
                       "train"});
}

} // namespace

void writeSeparableIdx(const std::string &directory, int64_t count,
                       uint64_t seed) {
  std::mt19937 rng{uint32_t(seed)};
  writeSplit(directory, "train", count, rng);
  writeSplit(directory, "t10k", count / 2, rng);
}

plan::Plan makeLinearPlan(const PlanSettings &settings) {
  plan::Plan p = basePlan(settings);
  p.parameters = {parameter("S/fc.weight", {2, 64}, "kaiming_uniform"),
                  parameter("S/fc.bias", {2}, "zeros", "bias")};
  int64_t B = settings.batch;
  GraphBuilder g;
  int64_t x = g.buffer({B, 1, kImageSize, kImageSize});
  int64_t label = g.buffer({B});
  int64_t flat = g.buffer({B, 64});
  int64_t logits = g.buffer({B, 2});
  int64_t loss = g.buffer({});
  int64_t dlogits = g.buffer({B, 2});
  g.graph.inputs = {{x, "image", std::nullopt}, {label, "label", std::nullopt}};
  g.op("reshape.fwd", {buf(x)}, {buf(flat)});
  g.op("linear.fwd", {buf(flat), param("S/fc.weight"), param("S/fc.bias")},
       {buf(logits)});
  g.op("cross_entropy_loss", {buf(logits), buf(label)},
       {buf(loss), buf(dlogits)});
  g.op("linear.bwd", {buf(flat), param("S/fc.weight"), buf(dlogits)},
       {Operand::none(), grad("S/fc.weight"), grad("S/fc.bias")});
  std::vector<std::string> trained = {"S/fc.weight", "S/fc.bias"};
  p.stages.push_back(stageOf(settings, g, loss, trained));
  addLinearOutputs(p, settings, trained);
  return p;
}

plan::Plan makeConvPlan(const PlanSettings &settings) {
  plan::Plan p = basePlan(settings);
  plan::ParameterSpec convWeight =
      parameter("S/conv.weight", {4, 1, 3, 3}, "kaiming_normal");
  convWeight.init.gain = 1.4142135;
  p.parameters = {convWeight, parameter("S/conv.bias", {4}, "zeros", "bias"),
                  parameter("S/fc.weight", {2, 64}, "xavier_uniform"),
                  parameter("S/fc.bias", {2}, "zeros", "bias")};
  int64_t B = settings.batch;
  json conv = {{"stride", {1, 1}}, {"pad", {1, 1}}, {"dilation", {1, 1}},
               {"groups", 1}};
  json pool = {{"kernel", {2, 2}}, {"stride", {2, 2}}};
  GraphBuilder g;
  int64_t x = g.buffer({B, 1, 8, 8}), label = g.buffer({B});
  int64_t c = g.buffer({B, 4, 8, 8}), r = g.buffer({B, 4, 8, 8});
  int64_t pooled = g.buffer({B, 4, 4, 4}), flat = g.buffer({B, 64});
  int64_t logits = g.buffer({B, 2}), loss = g.buffer({});
  int64_t dlogits = g.buffer({B, 2}), dflat = g.buffer({B, 64});
  int64_t dpooled = g.buffer({B, 4, 4, 4}), dr = g.buffer({B, 4, 8, 8});
  int64_t dc = g.buffer({B, 4, 8, 8});
  g.graph.inputs = {{x, "image", std::nullopt}, {label, "label", std::nullopt}};
  g.op("conv2d.fwd", {buf(x), param("S/conv.weight"), param("S/conv.bias")},
       {buf(c)}, conv);
  g.op("relu.fwd", {buf(c)}, {buf(r)});
  g.op("max_pool2d.fwd", {buf(r)}, {buf(pooled)}, pool);
  g.op("reshape.fwd", {buf(pooled)}, {buf(flat)});
  g.op("linear.fwd", {buf(flat), param("S/fc.weight"), param("S/fc.bias")},
       {buf(logits)});
  g.op("cross_entropy_loss", {buf(logits), buf(label)},
       {buf(loss), buf(dlogits)});
  g.op("linear.bwd", {buf(flat), param("S/fc.weight"), buf(dlogits)},
       {buf(dflat), grad("S/fc.weight"), grad("S/fc.bias")});
  g.op("reshape.bwd", {buf(dflat)}, {buf(dpooled)});
  g.op("max_pool2d.bwd", {buf(r), buf(dpooled)}, {buf(dr)}, pool);
  g.op("relu.bwd", {buf(c), buf(dr)}, {buf(dc)});
  g.op("conv2d.bwd", {buf(x), param("S/conv.weight"), buf(dc)},
       {Operand::none(), grad("S/conv.weight"), grad("S/conv.bias")}, conv);
  std::vector<std::string> trained = {"S/conv.weight", "S/conv.bias",
                                      "S/fc.weight", "S/fc.bias"};
  p.stages.push_back(stageOf(settings, g, loss, trained));

  // Inference: the same forward without the loss.
  GraphBuilder e;
  int64_t ex = e.buffer({B, 1, 8, 8}), ec = e.buffer({B, 4, 8, 8});
  int64_t ep = e.buffer({B, 4, 4, 4}), ef = e.buffer({B, 64});
  int64_t el = e.buffer({B, 2});
  e.graph.inputs = {{ex, "image", std::nullopt}};
  json fused = conv;
  fused["post_ops"] = json::array({{{"kind", "relu"}}});
  e.op("conv2d.fwd", {buf(ex), param("S/conv.weight"), param("S/conv.bias")},
       {buf(ec)}, fused);
  e.op("max_pool2d.fwd", {buf(ec)}, {buf(ep)}, pool);
  e.op("reshape.fwd", {buf(ep)}, {buf(ef)});
  e.op("linear.fwd", {buf(ef), param("S/fc.weight"), param("S/fc.bias")},
       {buf(el)});
  plan::EvaluationSpec evaluation;
  evaluation.model = "S";
  evaluation.data = {"toy", "test"};
  evaluation.batch = B;
  evaluation.metrics = {"accuracy", "f1"};
  evaluation.graph = e.graph;
  evaluation.outputBuffer = el;
  evaluation.afterStage = "train";
  p.evaluations.push_back(evaluation);
  p.exports.push_back(
      {"S", "student.safetensors", "safetensors", trained, "train"});
  return p;
}

plan::Plan makePostOpPlan(const PlanSettings &settings, int64_t channels,
                          bool fused) {
  plan::Plan p = makeLinearPlan(settings);
  int64_t C = channels, B = settings.batch;
  auto normal = [](std::string name, std::vector<int64_t> shape, double std,
                   std::string role) {
    plan::ParameterSpec spec = parameter(std::move(name), std::move(shape),
                                         "normal", std::move(role));
    spec.init.std = std;
    return spec;
  };
  for (auto [name, shape] :
       {std::pair<std::string, std::vector<int64_t>>{"S/a.weight", {C, 1, 3, 3}},
        {"S/b.weight", {C, C, 3, 3}},
        {"S/h.weight", {1, C, 3, 3}}}) {
    p.parameters.push_back(parameter(name, shape, "kaiming_normal"));
    p.parameters.back().init.gain = 1.4142135;
  }
  p.parameters.push_back(normal("S/b.bias", {C}, 0.5, "bias"));
  p.parameters.push_back(normal("S/bn.weight", {C}, 1.5, "weight"));
  p.parameters.push_back(normal("S/bn.bias", {C}, 1.0, "bias"));
  p.parameters.push_back(normal("S/bn.running_mean", {C}, 2.0, "state"));
  plan::ParameterSpec var = parameter("S/bn.running_var", {C}, "constant",
                                      "state");
  var.init.value = 2.5;
  p.parameters.push_back(var);

  json conv = {{"stride", {1, 1}}, {"pad", {1, 1}}, {"dilation", {1, 1}},
               {"groups", 1}};
  GraphBuilder e;
  int64_t x = e.buffer({B, 1, kImageSize, kImageSize});
  int64_t a = e.buffer({B, C, kImageSize, kImageSize});
  int64_t block = e.buffer({B, C, kImageSize, kImageSize});
  int64_t h = e.buffer({B, 1, kImageSize, kImageSize});
  int64_t flat = e.buffer({B, kImageSize * kImageSize});
  int64_t logits = e.buffer({B, 2});
  e.graph.inputs = {{x, "image", std::nullopt}};
  e.op("conv2d.fwd", {buf(x), param("S/a.weight"), Operand::none()}, {buf(a)},
       conv);
  std::vector<Operand> norm = {param("S/bn.weight"), param("S/bn.bias"),
                               param("S/bn.running_mean"),
                               param("S/bn.running_var")};
  if (fused) {
    // The scale and shift do not lead with the batch, even when C == B.
    int64_t scale = e.buffer({C}), shift = e.buffer({C});
    e.graph.buffers[size_t(scale)].batched = false;
    e.graph.buffers[size_t(shift)].batched = false;
    e.op("batch_norm_scale_shift", norm, {buf(scale), buf(shift)},
         {{"eps", 1e-3}});
    json chain = conv;
    chain["post_ops"] = json::array(
        {{{"kind", "scale_shift"}}, {{"kind", "sum"}}, {{"kind", "relu"}}});
    e.op("conv2d.fwd",
         {buf(a), param("S/b.weight"), param("S/b.bias"), buf(scale),
          buf(shift), buf(a)},
         {buf(block)}, chain);
  } else {
    int64_t raw = e.buffer({B, C, kImageSize, kImageSize});
    int64_t normed = e.buffer({B, C, kImageSize, kImageSize});
    int64_t summed = e.buffer({B, C, kImageSize, kImageSize});
    e.op("conv2d.fwd", {buf(a), param("S/b.weight"), param("S/b.bias")},
         {buf(raw)}, conv);
    std::vector<Operand> in = {buf(raw)};
    in.insert(in.end(), norm.begin(), norm.end());
    e.op("batch_norm.fwd", in, {buf(normed)},
         {{"training", false}, {"eps", 1e-3}, {"momentum", 0.1}});
    e.op("add.fwd", {buf(normed), buf(a)}, {buf(summed)});
    e.op("relu.fwd", {buf(summed)}, {buf(block)});
  }
  e.op("conv2d.fwd", {buf(block), param("S/h.weight"), Operand::none()},
       {buf(h)}, conv);
  e.op("reshape.fwd", {buf(h)}, {buf(flat)});
  e.op("linear.fwd", {buf(flat), param("S/fc.weight"), param("S/fc.bias")},
       {buf(logits)});
  plan::EvaluationSpec &evaluation = p.evaluations.front();
  evaluation.graph = e.graph;
  evaluation.outputBuffer = logits;
  return p;
}

plan::Plan makeTwoStagePlan(const PlanSettings &settings) {
  plan::Plan p = makeConvPlan(settings);
  plan::StageSpec &warmup = p.stages.front();
  warmup.name = "warmup";
  plan::StageSpec finetune = warmup;
  finetune.name = "finetune";
  finetune.optimizer.kind = "adam";
  finetune.optimizer.momentum = 0;
  finetune.optimizer.groups.front().lr = 0.01;
  finetune.schedule.kind = "constant";
  p.stages.push_back(finetune);
  // Evaluated after both stages, exported after the last.
  plan::EvaluationSpec early = p.evaluations.front();
  early.afterStage = "warmup";
  p.evaluations.front().afterStage = "finetune";
  p.evaluations.insert(p.evaluations.begin(), early);
  p.exports.front().afterStage = "finetune";
  return p;
}

plan::Plan makeDistillPlan(const PlanSettings &settings, bool cached) {
  plan::Plan p = basePlan(settings);
  // The teacher separates the classes by the mean brightness of each half.
  std::vector<float> teacherWeight(2 * 64);
  for (int64_t k = 0; k < 2; ++k)
    for (int64_t i = 0; i < 64; ++i)
      teacherWeight[size_t(k * 64 + i)] =
          ((i % kImageSize < kImageSize / 2) == (k == 0)) ? 0.2f : -0.2f;
  plan::ParameterSpec tw = parameter("T/fc.weight", {2, 64}, "zeros");
  tw.blob = plan::appendToBlob(p, teacherWeight.data(),
                               teacherWeight.size() * sizeof(float));
  p.parameters = {tw, parameter("T/fc.bias", {2}, "zeros", "bias"),
                  parameter("S/fc.weight", {2, 64}, "kaiming_uniform"),
                  parameter("S/fc.bias", {2}, "zeros", "bias")};

  int64_t B = settings.batch;
  GraphBuilder g;
  int64_t x = g.buffer({B, 1, 8, 8}), label = g.buffer({B});
  int64_t flat = g.buffer({B, 64}), tlogits = g.buffer({B, 2});
  int64_t slogits = g.buffer({B, 2});
  int64_t ce = g.buffer({}), dce = g.buffer({B, 2});
  int64_t kl = g.buffer({}), dkl = g.buffer({B, 2});
  int64_t loss = g.buffer({}), dstudent = g.buffer({B, 2});
  g.graph.inputs = {{x, "image", std::nullopt}, {label, "label", std::nullopt}};
  g.op("reshape.fwd", {buf(x)}, {buf(flat)});
  std::vector<plan::OpSpec> teacher;
  {
    GraphBuilder t;
    t.op("linear.fwd",
         {buf(flat), param("T/fc.weight"), param("T/fc.bias")},
         {buf(tlogits)});
    teacher = t.graph.program;
  }
  if (!cached)
    g.graph.program.insert(g.graph.program.end(), teacher.begin(),
                           teacher.end());
  g.op("linear.fwd", {buf(flat), param("S/fc.weight"), param("S/fc.bias")},
       {buf(slogits)});
  g.op("cross_entropy_loss", {buf(slogits), buf(label)}, {buf(ce), buf(dce)});
  g.op("kl_div_loss", {buf(slogits), buf(tlogits)},
       {buf(kl), buf(dkl), Operand::none()}, {{"temperature", 2.0}});
  g.op("scale_add", {buf(ce), buf(kl)}, {buf(loss)},
       {{"scales", {0.5, 0.5}}});
  g.op("scale_add", {buf(dce), buf(dkl)}, {buf(dstudent)},
       {{"scales", {0.5, 0.5}}});
  g.op("linear.bwd", {buf(flat), param("S/fc.weight"), buf(dstudent)},
       {Operand::none(), grad("S/fc.weight"), grad("S/fc.bias")});
  std::vector<std::string> trained = {"S/fc.weight", "S/fc.bias"};
  plan::StageSpec stage = stageOf(settings, g, loss, trained);
  stage.kind = "distill";
  stage.frozen = {"T"};
  if (cached) {
    stage.teacherCache.mode = "cached";
    stage.teacherCache.model = "T";
    stage.teacherCache.key = "sha256:test-teacher";
    stage.teacherCache.outputs = {{tlogits, "T/logits"}};
    GraphBuilder c;
    c.op("reshape.fwd", {buf(x)}, {buf(flat)});
    c.graph.program.insert(c.graph.program.end(), teacher.begin(),
                           teacher.end());
    stage.teacherCache.program = c.graph.program;
  }
  p.stages.push_back(stage);
  addLinearOutputs(p, settings, trained);
  return p;
}

} // namespace kdrt::test

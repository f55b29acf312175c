//===- PlanWriter.cpp - Serialising a Plan to the .kdx layout -------------===//
//
// The inverse of PlanReader.cpp: every field the reader accepts is written,
// so a written plan reads back equal. Optional values are omitted when they
// hold their default so that compiler output stays small and readable.
//
//===----------------------------------------------------------------------===//

#include "kdrt/plan/PlanIo.h"

#include <cstring>
#include <fstream>

namespace kdrt::plan {

using nlohmann::json;

int64_t ParameterSpec::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

int64_t BufferSpec::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

const BufferSpec *GraphSpec::findBuffer(int64_t id) const {
  for (const BufferSpec &buffer : buffers)
    if (buffer.id == id)
      return &buffer;
  return nullptr;
}

const ParameterSpec *Plan::findParameter(const std::string &name) const {
  for (const ParameterSpec &parameter : parameters)
    if (parameter.name == name)
      return &parameter;
  return nullptr;
}

const DatasetSpec *Plan::findDataset(const std::string &name) const {
  for (const DatasetSpec &dataset : datasets)
    if (dataset.name == name)
      return &dataset;
  return nullptr;
}

namespace {

json augmentToJson(const AugmentSpec &step) {
  json j = {{"op", step.op}};
  if (step.op == "crop") {
    j["size"] = step.size;
    j["pad"] = step.pad;
  } else if (step.op == "hflip" || step.op == "vflip") {
    j["p"] = step.probability;
  } else if (step.op == "jitter") {
    j["brightness"] = step.brightness;
    j["contrast"] = step.contrast;
    j["saturation"] = step.saturation;
  } else if (step.op == "resize") {
    j["h"] = step.height;
    j["w"] = step.width;
  } else if (step.op == "rotate") {
    j["degrees"] = step.degrees;
  }
  return j;
}

json splitToJson(const SplitSpec &split) {
  json j = {{"name", split.name}, {"source", split.source}};
  if (split.source == "file") {
    j["file"] = split.file;
  } else if (split.source == "slice") {
    j["parent"] = split.parent;
    j["lo"] = split.lo;
    j["hi"] = split.hi ? json(*split.hi) : json(nullptr);
  } else if (split.source == "shots") {
    j["parent"] = split.parent;
    j["shots"] = split.shots;
    j["seed"] = split.seed;
  } else if (split.source == "external") {
    j["kind"] = split.externalKind;
    j["path"] = split.externalPath;
  } else if (split.source == "union") {
    j["parts"] = split.parts;
  }
  if (split.unlabeled)
    j["unlabeled"] = true;
  if (!split.augment.empty()) {
    json steps = json::array();
    for (const AugmentSpec &step : split.augment)
      steps.push_back(augmentToJson(step));
    j["augment"] = steps;
  }
  return j;
}

json datasetToJson(const DatasetSpec &dataset) {
  json splits = json::array();
  for (const SplitSpec &split : dataset.splits)
    splits.push_back(splitToJson(split));
  return {{"name", dataset.name},
          {"kind", dataset.kind},
          {"path", dataset.path},
          {"image",
           {{"channels", dataset.channels},
            {"height", dataset.height},
            {"width", dataset.width}}},
          {"mean", dataset.mean},
          {"std", dataset.std},
          {"classes", dataset.classes},
          {"class_names", dataset.classNames},
          {"splits", splits}};
}

json initToJson(const InitSpec &init) {
  json j = {{"kind", init.kind}};
  if (init.kind == "constant")
    j["value"] = init.value;
  else if (init.kind == "normal")
    j["std"] = init.std;
  else if (init.kind == "uniform")
    j["bound"] = init.bound;
  else if (init.kind == "kaiming_normal" || init.kind == "kaiming_uniform") {
    j["fan"] = init.fan;
    j["gain"] = init.gain;
  } else if (init.kind == "xavier_uniform")
    j["gain"] = init.gain;
  return j;
}

json parameterToJson(const ParameterSpec &parameter) {
  json j = {{"name", parameter.name},
            {"shape", parameter.shape},
            {"role", parameter.role}};
  if (parameter.blob)
    j["blob"] = {{"offset", parameter.blob->offset},
                 {"bytes", parameter.blob->bytes}};
  else
    j["init"] = initToJson(parameter.init);
  return j;
}

json operandToJson(const Operand &operand) {
  switch (operand.kind) {
  case Operand::Kind::None:
    return nullptr;
  case Operand::Kind::Buffer:
    return {{"buf", operand.buffer}};
  case Operand::Kind::Param:
    return {{"param", operand.name}};
  case Operand::Kind::Grad:
    return {{"grad", operand.name}};
  }
  return nullptr;
}

json programToJson(const std::vector<OpSpec> &program) {
  json ops = json::array();
  for (const OpSpec &op : program) {
    json in = json::array(), out = json::array();
    for (const Operand &operand : op.in)
      in.push_back(operandToJson(operand));
    for (const Operand &operand : op.out)
      out.push_back(operandToJson(operand));
    json j = {{"op", op.op}, {"attrs", op.attrs}, {"in", in}, {"out", out}};
    if (!op.loc.empty())
      j["loc"] = op.loc;
    ops.push_back(j);
  }
  return ops;
}

json dataToJson(const DataRef &data) {
  return {{"dataset", data.dataset}, {"split", data.split}};
}

/// Writes the shared graph fields into `j`.
void addGraph(json &j, const GraphSpec &graph) {
  json inputs = json::array();
  for (const InputSpec &input : graph.inputs) {
    json in = {{"buffer", input.buffer}, {"role", input.role}};
    if (input.transform) {
      in["transform"] = {{"op", input.transform->op},
                         {"h", input.transform->height},
                         {"w", input.transform->width}};
      if (!input.transform->mode.empty())
        in["transform"]["mode"] = input.transform->mode;
    }
    inputs.push_back(in);
  }
  json buffers = json::array();
  for (const BufferSpec &buffer : graph.buffers) {
    json entry = {{"id", buffer.id},
                  {"shape", buffer.shape},
                  {"offset", buffer.offset}};
    if (!buffer.batched)
      entry["batched"] = false;
    buffers.push_back(entry);
  }
  j["inputs"] = inputs;
  j["arena"] = {{"bytes", graph.arenaBytes},
                {"alignment", graph.arenaAlignment}};
  j["buffers"] = buffers;
  j["program"] = programToJson(graph.program);
}

json stageToJson(const StageSpec &stage) {
  json j = {{"name", stage.name},         {"kind", stage.kind},
            {"data", dataToJson(stage.data)}, {"epochs", stage.epochs},
            {"batch", stage.batch},       {"trained", stage.trained},
            {"frozen", stage.frozen}};
  if (!stage.loc.empty())
    j["loc"] = stage.loc;
  if (!stage.copies.empty()) {
    json copies = json::array();
    for (const auto &[from, to] : stage.copies)
      copies.push_back({{"from", from}, {"to", to}});
    j["copy"] = copies;
  }
  addGraph(j, stage.graph);
  json outputs = json::array();
  for (const CacheOutput &output : stage.teacherCache.outputs)
    outputs.push_back({{"buffer", output.buffer}, {"name", output.name}});
  j["teacher_cache"] = {{"mode", stage.teacherCache.mode}};
  if (stage.teacherCache.mode != "none") {
    j["teacher_cache"]["model"] = stage.teacherCache.model;
    j["teacher_cache"]["key"] = stage.teacherCache.key;
    j["teacher_cache"]["outputs"] = outputs;
    j["teacher_cache"]["program"] = programToJson(stage.teacherCache.program);
  }
  const OptimizerSpec &optimizer = stage.optimizer;
  json groups = json::array();
  for (const OptimizerGroup &group : optimizer.groups) {
    json entry = {{"lr", group.lr},
                  {"weight_decay", group.weightDecay},
                  {"params", group.params}};
    if (group.momentum)
      entry["momentum"] = *group.momentum;
    groups.push_back(std::move(entry));
  }
  j["optimizer"] = {{"kind", optimizer.kind},
                    {"momentum", optimizer.momentum},
                    {"nesterov", optimizer.nesterov},
                    {"weight_decay", optimizer.weightDecay},
                    {"beta1", optimizer.beta1},
                    {"beta2", optimizer.beta2},
                    {"eps", optimizer.eps},
                    {"groups", groups}};
  const ScheduleSpec &schedule = stage.schedule;
  j["schedule"] = {{"kind", schedule.kind},
                   {"min_lr", schedule.minLr},
                   {"every", schedule.every},
                   {"gamma", schedule.gamma},
                   {"warmup_steps", schedule.warmupSteps},
                   {"warmup_epochs", schedule.warmupEpochs},
                   {"pct_start", schedule.pctStart},
                   {"div_factor", schedule.divFactor},
                   {"final_div_factor", schedule.finalDivFactor},
                   {"cycle_momentum", schedule.cycleMomentum},
                   {"base_momentum", schedule.baseMomentum},
                   {"max_momentum", schedule.maxMomentum}};
  j["loss"] = {{"buffer", stage.lossBuffer}};
  return j;
}

json evaluationToJson(const EvaluationSpec &evaluation) {
  json j = {{"model", evaluation.model},
            {"data", dataToJson(evaluation.data)},
            {"batch", evaluation.batch},
            {"metrics", evaluation.metrics},
            {"output", {{"buffer", evaluation.outputBuffer}}},
            {"after_stage", evaluation.afterStage}};
  if (!evaluation.prediction.empty())
    j["using"] = evaluation.prediction;
  if (const auto &weight = evaluation.ensembleWeight)
    j["ensemble_weight"] = {{"ensemble", weight->ensemble},
                            {"parameter", weight->parameter},
                            {"member", weight->member},
                            {"before_stage", weight->beforeStage}};
  if (!evaluation.expression.empty())
    j["expression"] = evaluation.expression;
  addGraph(j, evaluation.graph);
  return j;
}

json inferenceToJson(const InferenceExportSpec &inference) {
  json parameters = json::array();
  for (const ParameterSpec &parameter : inference.parameters)
    parameters.push_back({{"name", parameter.name},
                          {"shape", parameter.shape},
                          {"role", parameter.role}});
  json j = {{"parameters", parameters},
            {"fold", programToJson(inference.fold)},
            {"data", dataToJson(inference.data)},
            {"batch", inference.batch},
            {"metrics", inference.metrics},
            {"output", {{"buffer", inference.outputBuffer}}}};
  addGraph(j, inference.graph);
  return j;
}

json exportToJson(const ExportSpec &exported) {
  json j = {{"model", exported.model},
            {"path", exported.path},
            {"format", exported.format},
            {"params", exported.params},
            {"after_stage", exported.afterStage}};
  if (exported.inference)
    j["inference"] = inferenceToJson(*exported.inference);
  return j;
}

} // namespace

json planToJson(const Plan &plan) {
  json j = {{"kdx_version", plan.kdxVersion},
            {"producer", plan.producer},
            {"target", plan.target},
            {"spec", {{"file", plan.specFile}, {"sha256", plan.specSha256}}},
            {"seed", plan.seed}};
  j["datasets"] = json::array();
  for (const DatasetSpec &dataset : plan.datasets)
    j["datasets"].push_back(datasetToJson(dataset));
  j["parameters"] = json::array();
  for (const ParameterSpec &parameter : plan.parameters)
    j["parameters"].push_back(parameterToJson(parameter));
  j["stages"] = json::array();
  for (const StageSpec &stage : plan.stages)
    j["stages"].push_back(stageToJson(stage));
  j["evaluations"] = json::array();
  for (const EvaluationSpec &evaluation : plan.evaluations)
    j["evaluations"].push_back(evaluationToJson(evaluation));
  j["exports"] = json::array();
  for (const ExportSpec &exported : plan.exports)
    j["exports"].push_back(exportToJson(exported));
  return j;
}

std::vector<uint8_t> serializePlan(const Plan &plan) {
  std::string manifest = planToJson(plan).dump();
  std::vector<uint8_t> bytes(kPlanMagic, kPlanMagic + 8);
  uint64_t length = manifest.size();
  for (int i = 0; i < 8; ++i)
    bytes.push_back(uint8_t(length >> (8 * i)));
  bytes.insert(bytes.end(), manifest.begin(), manifest.end());
  bytes.resize((bytes.size() + kBlobAlignment - 1) / kBlobAlignment *
                   kBlobAlignment,
               0);
  bytes.insert(bytes.end(), plan.blob.begin(), plan.blob.end());
  return bytes;
}

void writePlan(const std::string &path, const Plan &plan) {
  std::vector<uint8_t> bytes = serializePlan(plan);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file)
    throw PlanError(path + ": cannot open for writing");
  file.write(reinterpret_cast<const char *>(bytes.data()),
             std::streamsize(bytes.size()));
  if (!file.flush())
    throw PlanError(path + ": write failed");
}

BlobRef appendToBlob(Plan &plan, const void *bytes, uint64_t size) {
  uint64_t offset = (plan.blob.size() + kBlobAlignment - 1) / kBlobAlignment *
                    kBlobAlignment;
  plan.blob.resize(offset + size, 0);
  if (size)
    std::memcpy(plan.blob.data() + offset, bytes, size);
  return BlobRef{offset, size};
}

} // namespace kdrt::plan

//===- PlanReader.cpp - Parsing and validating .kdx files -----------------===//
//
// Two passes. The first turns JSON into the Plan structs, checking each
// field's presence, type and range; the second checks what ties the parts
// together (names that must exist, buffers inside their arena, blob
// references inside the file). Every error carries the file name and the
// JSON path, so a compiler bug is found from the message alone.
//
//===----------------------------------------------------------------------===//

#include "kdrt/plan/PlanIo.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>

namespace kdrt::plan {

using nlohmann::json;

namespace {

class ManifestParser {
public:
  explicit ManifestParser(std::string source) : source(std::move(source)) {}

  [[noreturn]] void fail(const std::string &path,
                         const std::string &message) const {
    throw PlanError(source + ": " + (path.empty() ? "" : path + ": ") +
                    message);
  }

  static std::string field(const std::string &path, const std::string &key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string index(const std::string &path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

  const json &object(const json &j, const std::string &path) const {
    if (!j.is_object())
      fail(path, "expected an object");
    return j;
  }
  const json &array(const json &j, const std::string &path) const {
    if (!j.is_array())
      fail(path, "expected an array");
    return j;
  }
  const json &require(const json &obj, const std::string &path,
                      const std::string &key) const {
    auto it = obj.find(key);
    if (it == obj.end())
      fail(path, "missing field '" + key + "'");
    return *it;
  }
  const json *optional(const json &obj, const std::string &key) const {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }

  std::string string(const json &j, const std::string &path) const {
    if (!j.is_string())
      fail(path, "expected a string");
    return j.get<std::string>();
  }
  int64_t integer(const json &j, const std::string &path) const {
    if (j.is_number_unsigned()) {
      if (j.get<uint64_t>() >
          uint64_t(std::numeric_limits<int64_t>::max()))
        fail(path, "integer out of range");
      return int64_t(j.get<uint64_t>());
    }
    if (!j.is_number_integer())
      fail(path, "expected an integer");
    return j.get<int64_t>();
  }
  int64_t nonNegative(const json &j, const std::string &path) const {
    int64_t value = integer(j, path);
    if (value < 0)
      fail(path, "must not be negative, got " + std::to_string(value));
    return value;
  }
  int64_t positive(const json &j, const std::string &path) const {
    int64_t value = integer(j, path);
    if (value <= 0)
      fail(path, "must be positive, got " + std::to_string(value));
    return value;
  }
  double number(const json &j, const std::string &path) const {
    if (!j.is_number())
      fail(path, "expected a number");
    return j.get<double>();
  }
  bool boolean(const json &j, const std::string &path) const {
    if (!j.is_boolean())
      fail(path, "expected true or false");
    return j.get<bool>();
  }

  // Field accessors: `obj.key`, required or with a default.
  std::string str(const json &obj, const std::string &path,
                  const std::string &key) const {
    return string(require(obj, path, key), field(path, key));
  }
  std::string str(const json &obj, const std::string &path,
                  const std::string &key, const std::string &fallback) const {
    const json *j = optional(obj, key);
    return j ? string(*j, field(path, key)) : fallback;
  }
  int64_t num(const json &obj, const std::string &path,
              const std::string &key) const {
    return integer(require(obj, path, key), field(path, key));
  }
  int64_t count(const json &obj, const std::string &path,
                const std::string &key, int64_t fallback) const {
    const json *j = optional(obj, key);
    return j ? nonNegative(*j, field(path, key)) : fallback;
  }
  double real(const json &obj, const std::string &path,
              const std::string &key, double fallback) const {
    const json *j = optional(obj, key);
    return j ? number(*j, field(path, key)) : fallback;
  }
  bool flag(const json &obj, const std::string &path, const std::string &key,
            bool fallback) const {
    const json *j = optional(obj, key);
    return j ? boolean(*j, field(path, key)) : fallback;
  }
  std::vector<std::string> strings(const json &obj, const std::string &path,
                                   const std::string &key) const {
    std::vector<std::string> values;
    const json *j = optional(obj, key);
    if (!j)
      return values;
    std::string at = field(path, key);
    array(*j, at);
    for (size_t i = 0; i < j->size(); ++i)
      values.push_back(string((*j)[i], index(at, i)));
    return values;
  }
  std::vector<int64_t> shape(const json &obj, const std::string &path,
                             const std::string &key) const {
    std::string at = field(path, key);
    const json &j = array(require(obj, path, key), at);
    std::vector<int64_t> dims;
    // Bounded so that the element count cannot overflow: 2^40 floats is far
    // beyond any memory the runtime could allocate anyway.
    int64_t elements = 1;
    for (size_t i = 0; i < j.size(); ++i) {
      int64_t dim = nonNegative(j[i], index(at, i));
      if (dim > (int64_t(1) << 40) ||
          (dim > 0 && elements > (int64_t(1) << 40) / dim))
        fail(at, "shape too large");
      elements *= dim;
      dims.push_back(dim);
    }
    return dims;
  }
  std::vector<float> floats(const json &obj, const std::string &path,
                            const std::string &key) const {
    std::vector<float> values;
    const json *j = optional(obj, key);
    if (!j)
      return values;
    std::string at = field(path, key);
    array(*j, at);
    for (size_t i = 0; i < j->size(); ++i)
      values.push_back(float(number((*j)[i], index(at, i))));
    return values;
  }
  /// `value` must be one of `allowed`.
  void oneOf(const std::string &value, const std::string &path,
             std::initializer_list<const char *> allowed) const {
    std::string list;
    for (const char *candidate : allowed) {
      if (value == candidate)
        return;
      list += list.empty() ? "" : ", ";
      list += candidate;
    }
    fail(path, "unknown value '" + value + "' (expected " + list + ")");
  }

  AugmentSpec augment(const json &j, const std::string &path) const {
    object(j, path);
    AugmentSpec step;
    step.op = str(j, path, "op");
    oneOf(step.op, field(path, "op"),
          {"crop", "hflip", "vflip", "jitter", "resize", "rotate"});
    if (step.op == "crop") {
      step.size = positive(require(j, path, "size"), field(path, "size"));
      step.pad = count(j, path, "pad", 0);
    } else if (step.op == "hflip" || step.op == "vflip") {
      step.probability = real(j, path, "p", 0.5);
      if (step.probability < 0 || step.probability > 1)
        fail(field(path, "p"), "must lie in [0, 1]");
    } else if (step.op == "jitter") {
      step.brightness = real(j, path, "brightness", 0);
      step.contrast = real(j, path, "contrast", 0);
      step.saturation = real(j, path, "saturation", 0);
    } else if (step.op == "resize") {
      step.height = positive(require(j, path, "h"), field(path, "h"));
      step.width = positive(require(j, path, "w"), field(path, "w"));
    } else {
      step.degrees = real(j, path, "degrees", 0);
    }
    return step;
  }

  SplitSpec split(const json &j, const std::string &path) const {
    object(j, path);
    SplitSpec split;
    split.name = str(j, path, "name");
    split.source = str(j, path, "source");
    oneOf(split.source, field(path, "source"),
          {"file", "slice", "shots", "external", "union"});
    if (split.source == "file") {
      split.file = str(j, path, "file");
    } else if (split.source == "slice") {
      split.parent = str(j, path, "parent");
      split.lo = count(j, path, "lo", 0);
      if (const json *hi = optional(j, "hi"))
        split.hi = nonNegative(*hi, field(path, "hi"));
    } else if (split.source == "shots") {
      split.parent = str(j, path, "parent");
      split.shots = positive(require(j, path, "shots"), field(path, "shots"));
      split.seed = uint64_t(count(j, path, "seed", 0));
    } else if (split.source == "union") {
      std::string at = field(path, "parts");
      const json &parts = require(j, path, "parts");
      array(parts, at);
      if (parts.empty())
        fail(at, "a union joins at least one split");
      for (size_t i = 0; i < parts.size(); ++i)
        split.parts.push_back(string(parts[i], index(at, i)));
    } else {
      split.externalKind = str(j, path, "kind");
      oneOf(split.externalKind, field(path, "kind"), {"idx", "folder", "npz"});
      split.externalPath = str(j, path, "path");
    }
    split.unlabeled = flag(j, path, "unlabeled", false);
    if (const json *steps = optional(j, "augment")) {
      std::string at = field(path, "augment");
      array(*steps, at);
      for (size_t i = 0; i < steps->size(); ++i)
        split.augment.push_back(augment((*steps)[i], index(at, i)));
    }
    return split;
  }

  DatasetSpec dataset(const json &j, const std::string &path) const {
    object(j, path);
    DatasetSpec dataset;
    dataset.name = str(j, path, "name");
    dataset.kind = str(j, path, "kind");
    oneOf(dataset.kind, field(path, "kind"), {"idx", "folder", "npz"});
    dataset.path = str(j, path, "path");
    std::string imagePath = field(path, "image");
    const json &image = object(require(j, path, "image"), imagePath);
    dataset.channels =
        positive(require(image, imagePath, "channels"),
                 field(imagePath, "channels"));
    if (dataset.channels != 1 && dataset.channels != 3)
      fail(field(imagePath, "channels"), "must be 1 or 3");
    dataset.height = positive(require(image, imagePath, "height"),
                              field(imagePath, "height"));
    dataset.width = positive(require(image, imagePath, "width"),
                             field(imagePath, "width"));
    dataset.mean = floats(j, path, "mean");
    dataset.std = floats(j, path, "std");
    for (size_t i = 0; i < dataset.std.size(); ++i)
      if (!(dataset.std[i] > 0))
        fail(index(field(path, "std"), i), "must be positive");
    dataset.classes = count(j, path, "classes", 0);
    dataset.classNames = strings(j, path, "class_names");
    std::string splitsPath = field(path, "splits");
    const json &splits = array(require(j, path, "splits"), splitsPath);
    for (size_t i = 0; i < splits.size(); ++i)
      dataset.splits.push_back(split(splits[i], index(splitsPath, i)));
    return dataset;
  }

  InitSpec init(const json &j, const std::string &path) const {
    object(j, path);
    InitSpec init;
    init.kind = str(j, path, "kind");
    oneOf(init.kind, field(path, "kind"),
          {"zeros", "ones", "constant", "normal", "uniform", "kaiming_normal",
           "kaiming_uniform", "xavier_uniform"});
    init.value = real(j, path, "value", 0);
    init.std = real(j, path, "std", 0.01);
    init.bound = real(j, path, "bound", 0.01);
    init.fan = str(j, path, "fan", "fan_in");
    oneOf(init.fan, field(path, "fan"), {"fan_in", "fan_out"});
    init.gain = real(j, path, "gain", 1);
    if (init.std < 0 || init.bound < 0)
      fail(path, "std and bound must not be negative");
    return init;
  }

  /// A parameter's name, shape and role.
  ParameterSpec parameterHeader(const json &j, const std::string &path) const {
    object(j, path);
    ParameterSpec parameter;
    parameter.name = str(j, path, "name");
    parameter.shape = shape(j, path, "shape");
    parameter.role = str(j, path, "role", "weight");
    oneOf(parameter.role, field(path, "role"), {"weight", "bias", "state"});
    return parameter;
  }

  ParameterSpec parameter(const json &j, const std::string &path) const {
    ParameterSpec parameter = parameterHeader(j, path);
    if (const json *blob = optional(j, "blob")) {
      std::string at = field(path, "blob");
      object(*blob, at);
      BlobRef ref;
      ref.offset = uint64_t(nonNegative(require(*blob, at, "offset"),
                                        field(at, "offset")));
      ref.bytes = uint64_t(
          nonNegative(require(*blob, at, "bytes"), field(at, "bytes")));
      parameter.blob = ref;
    } else {
      parameter.init = init(require(j, path, "init"), field(path, "init"));
    }
    return parameter;
  }

  Operand operand(const json &j, const std::string &path) const {
    if (j.is_null())
      return Operand::none();
    object(j, path);
    if (j.size() != 1)
      fail(path, "an operand has exactly one of 'buf', 'param', 'grad'");
    if (const json *buffer = optional(j, "buf"))
      return Operand::buf(integer(*buffer, field(path, "buf")));
    if (const json *name = optional(j, "param"))
      return Operand::param(string(*name, field(path, "param")));
    if (const json *name = optional(j, "grad"))
      return Operand::grad(string(*name, field(path, "grad")));
    fail(path, "an operand has exactly one of 'buf', 'param', 'grad'");
  }

  std::vector<OpSpec> program(const json &j, const std::string &path) const {
    array(j, path);
    std::vector<OpSpec> ops;
    for (size_t i = 0; i < j.size(); ++i) {
      std::string at = index(path, i);
      const json &op = object(j[i], at);
      OpSpec spec;
      spec.op = str(op, at, "op");
      spec.loc = str(op, at, "loc", "");
      if (const json *attrs = optional(op, "attrs"))
        spec.attrs = object(*attrs, field(at, "attrs"));
      for (const char *side : {"in", "out"}) {
        std::string sidePath = field(at, side);
        const json &list = array(require(op, at, side), sidePath);
        auto &operands = std::string(side) == "in" ? spec.in : spec.out;
        for (size_t k = 0; k < list.size(); ++k)
          operands.push_back(operand(list[k], index(sidePath, k)));
      }
      ops.push_back(std::move(spec));
    }
    return ops;
  }

  DataRef data(const json &obj, const std::string &path) const {
    std::string at = field(path, "data");
    const json &j = object(require(obj, path, "data"), at);
    return DataRef{str(j, at, "dataset"), str(j, at, "split")};
  }

  void graph(const json &j, const std::string &path, GraphSpec &graph) const {
    std::string inputsPath = field(path, "inputs");
    const json &inputs = array(require(j, path, "inputs"), inputsPath);
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::string at = index(inputsPath, i);
      object(inputs[i], at);
      InputSpec input;
      input.buffer = num(inputs[i], at, "buffer");
      input.role = str(inputs[i], at, "role", "image");
      oneOf(input.role, field(at, "role"), {"image", "label"});
      if (const json *transform = optional(inputs[i], "transform")) {
        std::string tat = field(at, "transform");
        object(*transform, tat);
        TransformSpec spec;
        spec.op = str(*transform, tat, "op");
        oneOf(spec.op, field(tat, "op"), {"resize", "crop"});
        spec.height =
            positive(require(*transform, tat, "h"), field(tat, "h"));
        spec.width = positive(require(*transform, tat, "w"), field(tat, "w"));
        spec.mode = str(*transform, tat, "mode", "");
        if (!spec.mode.empty() && spec.op == "crop")
          fail(field(tat, "mode"), "a crop has no resize mode");
        if (!spec.mode.empty())
          oneOf(spec.mode, field(tat, "mode"), {"bilinear", "nearest", "area"});
        input.transform = spec;
      }
      graph.inputs.push_back(input);
    }
    std::string arenaPath = field(path, "arena");
    const json &arena = object(require(j, path, "arena"), arenaPath);
    graph.arenaBytes = uint64_t(nonNegative(
        require(arena, arenaPath, "bytes"), field(arenaPath, "bytes")));
    graph.arenaAlignment = uint64_t(count(arena, arenaPath, "alignment", 64));
    if (graph.arenaAlignment == 0 ||
        (graph.arenaAlignment & (graph.arenaAlignment - 1)) != 0)
      fail(field(arenaPath, "alignment"), "must be a power of two");
    std::string buffersPath = field(path, "buffers");
    const json &buffers = array(require(j, path, "buffers"), buffersPath);
    for (size_t i = 0; i < buffers.size(); ++i) {
      std::string at = index(buffersPath, i);
      object(buffers[i], at);
      BufferSpec buffer;
      buffer.id = num(buffers[i], at, "id");
      buffer.shape = shape(buffers[i], at, "shape");
      buffer.offset = uint64_t(nonNegative(require(buffers[i], at, "offset"),
                                           field(at, "offset")));
      buffer.batched = flag(buffers[i], at, "batched", true);
      graph.buffers.push_back(buffer);
    }
    graph.program =
        program(require(j, path, "program"), field(path, "program"));
  }

  StageSpec stage(const json &j, const std::string &path) const {
    object(j, path);
    StageSpec stage;
    stage.name = str(j, path, "name");
    stage.kind = str(j, path, "kind", "train");
    stage.loc = str(j, path, "loc", "");
    stage.data = data(j, path);
    stage.epochs = count(j, path, "epochs", 1);
    stage.batch = positive(require(j, path, "batch"), field(path, "batch"));
    stage.trained = strings(j, path, "trained");
    stage.frozen = strings(j, path, "frozen");
    if (const json *copies = optional(j, "copy")) {
      std::string at = field(path, "copy");
      array(*copies, at);
      for (size_t i = 0; i < copies->size(); ++i) {
        std::string cat = index(at, i);
        object((*copies)[i], cat);
        stage.copies.emplace_back(str((*copies)[i], cat, "from"),
                                  str((*copies)[i], cat, "to"));
      }
    }
    graph(j, path, stage.graph);

    if (const json *cache = optional(j, "teacher_cache")) {
      std::string at = field(path, "teacher_cache");
      object(*cache, at);
      TeacherCacheSpec &spec = stage.teacherCache;
      spec.mode = str(*cache, at, "mode", "none");
      oneOf(spec.mode, field(at, "mode"), {"none", "cached"});
      if (spec.mode == "cached") {
        spec.model = str(*cache, at, "model", "");
        spec.key = str(*cache, at, "key");
        std::string outputsPath = field(at, "outputs");
        const json &outputs =
            array(require(*cache, at, "outputs"), outputsPath);
        for (size_t i = 0; i < outputs.size(); ++i) {
          std::string oat = index(outputsPath, i);
          object(outputs[i], oat);
          spec.outputs.push_back(CacheOutput{num(outputs[i], oat, "buffer"),
                                             str(outputs[i], oat, "name")});
        }
        if (spec.outputs.empty())
          fail(outputsPath, "a cached teacher needs at least one output");
        spec.program =
            program(require(*cache, at, "program"), field(at, "program"));
      }
    }

    std::string optPath = field(path, "optimizer");
    const json &optimizer = object(require(j, path, "optimizer"), optPath);
    OptimizerSpec &opt = stage.optimizer;
    opt.kind = str(optimizer, optPath, "kind");
    oneOf(opt.kind, field(optPath, "kind"), {"sgd", "adam", "adamw"});
    opt.momentum = real(optimizer, optPath, "momentum", 0);
    opt.nesterov = flag(optimizer, optPath, "nesterov", false);
    opt.weightDecay = real(optimizer, optPath, "weight_decay", 0);
    opt.beta1 = real(optimizer, optPath, "beta1", 0.9);
    opt.beta2 = real(optimizer, optPath, "beta2", 0.999);
    opt.eps = real(optimizer, optPath, "eps", 1e-8);
    std::string groupsPath = field(optPath, "groups");
    const json &groups = array(require(optimizer, optPath, "groups"),
                               groupsPath);
    for (size_t i = 0; i < groups.size(); ++i) {
      std::string at = index(groupsPath, i);
      object(groups[i], at);
      OptimizerGroup group;
      group.lr = number(require(groups[i], at, "lr"), field(at, "lr"));
      group.weightDecay =
          real(groups[i], at, "weight_decay", opt.weightDecay);
      if (group.lr < 0 || group.weightDecay < 0)
        fail(at, "learning rate and weight decay must not be negative");
      if (optional(groups[i], "momentum")) {
        group.momentum = real(groups[i], at, "momentum", 0);
        if (!(*group.momentum >= 0) || *group.momentum >= 1)
          fail(field(at, "momentum"), "must be in [0, 1)");
      }
      group.params = strings(groups[i], at, "params");
      opt.groups.push_back(std::move(group));
    }

    if (const json *schedule = optional(j, "schedule")) {
      std::string at = field(path, "schedule");
      object(*schedule, at);
      ScheduleSpec &spec = stage.schedule;
      spec.kind = str(*schedule, at, "kind", "constant");
      oneOf(spec.kind, field(at, "kind"),
            {"constant", "step", "cosine", "one_cycle"});
      spec.minLr = real(*schedule, at, "min_lr", 0);
      spec.every = count(*schedule, at, "every", 1);
      if (spec.every == 0)
        fail(field(at, "every"), "must be positive");
      spec.gamma = real(*schedule, at, "gamma", 0.1);
      spec.warmupSteps = count(*schedule, at, "warmup_steps", 0);
      spec.warmupEpochs = count(*schedule, at, "warmup_epochs", 0);
      spec.pctStart = real(*schedule, at, "pct_start", 0.3);
      spec.divFactor = real(*schedule, at, "div_factor", 25);
      spec.finalDivFactor = real(*schedule, at, "final_div_factor", 1e4);
      spec.cycleMomentum = flag(*schedule, at, "cycle_momentum", false);
      spec.baseMomentum = real(*schedule, at, "base_momentum", 0.85);
      spec.maxMomentum = real(*schedule, at, "max_momentum", 0.95);
    }
    std::string lossPath = field(path, "loss");
    stage.lossBuffer =
        num(object(require(j, path, "loss"), lossPath), lossPath, "buffer");
    return stage;
  }

  EvaluationSpec evaluation(const json &j, const std::string &path) const {
    object(j, path);
    EvaluationSpec evaluation;
    evaluation.model = str(j, path, "model");
    evaluation.data = data(j, path);
    evaluation.batch =
        positive(require(j, path, "batch"), field(path, "batch"));
    evaluation.metrics = strings(j, path, "metrics");
    for (size_t i = 0; i < evaluation.metrics.size(); ++i)
      oneOf(evaluation.metrics[i], index(field(path, "metrics"), i),
            {"accuracy", "sensitivity", "specificity", "precision", "f1",
             "confusion", "mean"});
    if (evaluation.metrics.size() > 1 &&
        std::count(evaluation.metrics.begin(), evaluation.metrics.end(),
                   "mean"))
      fail(field(path, "metrics"),
           "\"mean\" (a loss averaged over the split) is the only metric "
           "of its evaluation");
    evaluation.expression = str(j, path, "expression", "");
    graph(j, path, evaluation.graph);
    std::string outputPath = field(path, "output");
    evaluation.outputBuffer = num(
        object(require(j, path, "output"), outputPath), outputPath, "buffer");
    evaluation.afterStage = str(j, path, "after_stage", "");
    evaluation.prediction = str(j, path, "using", "");
    if (const json *weight = optional(j, "ensemble_weight")) {
      std::string at = field(path, "ensemble_weight");
      object(*weight, at);
      EnsembleWeightSpec spec;
      spec.ensemble = str(*weight, at, "ensemble");
      spec.parameter = str(*weight, at, "parameter");
      spec.member = nonNegative(require(*weight, at, "member"),
                                field(at, "member"));
      spec.beforeStage = str(*weight, at, "before_stage");
      evaluation.ensembleWeight = spec;
    }
    return evaluation;
  }

  ExportSpec exported(const json &j, const std::string &path) const {
    object(j, path);
    ExportSpec spec;
    spec.model = str(j, path, "model");
    spec.path = str(j, path, "path");
    spec.format = str(j, path, "format", "safetensors");
    oneOf(spec.format, field(path, "format"), {"safetensors", "kdx"});
    spec.params = strings(j, path, "params");
    spec.afterStage = str(j, path, "after_stage", "");
    const json *inference = optional(j, "inference");
    if (spec.format == "kdx" && !inference)
      fail(field(path, "inference"),
           "an export to .kdx carries the inference program it writes");
    if (spec.format != "kdx" && inference)
      fail(field(path, "inference"),
           "only an export to .kdx carries an inference program");
    if (inference)
      spec.inference = inferenceExport(*inference, field(path, "inference"));
    return spec;
  }

  InferenceExportSpec inferenceExport(const json &j,
                                      const std::string &path) const {
    object(j, path);
    InferenceExportSpec spec;
    std::string parametersPath = field(path, "parameters");
    const json &parameters =
        array(require(j, path, "parameters"), parametersPath);
    for (size_t i = 0; i < parameters.size(); ++i)
      spec.parameters.push_back(
          parameterHeader(parameters[i], index(parametersPath, i)));
    spec.fold = program(require(j, path, "fold"), field(path, "fold"));
    for (size_t i = 0; i < spec.fold.size(); ++i)
      oneOf(spec.fold[i].op, index(field(path, "fold"), i) + ".op",
            {"fold_batch_norm"});
    spec.data = data(j, path);
    spec.batch = positive(require(j, path, "batch"), field(path, "batch"));
    spec.metrics = strings(j, path, "metrics");
    graph(j, path, spec.graph);
    std::string outputPath = field(path, "output");
    spec.outputBuffer = num(object(require(j, path, "output"), outputPath),
                            outputPath, "buffer");
    return spec;
  }

  Plan plan(const json &j) const {
    object(j, "");
    Plan plan;
    const json &version = require(j, "", "kdx_version");
    if (!version.is_number_integer() || version.get<int64_t>() != kPlanVersion)
      fail("kdx_version", "unsupported plan version " + version.dump() +
                              " (this runtime reads version " +
                              std::to_string(kPlanVersion) + ")");
    plan.producer = str(j, "", "producer", "");
    plan.target = str(j, "", "target", "cpu");
    if (const json *spec = optional(j, "spec")) {
      object(*spec, "spec");
      plan.specFile = str(*spec, "spec", "file", "");
      plan.specSha256 = str(*spec, "spec", "sha256", "");
    }
    plan.seed = uint64_t(count(j, "", "seed", 0));
    auto list = [&](const char *key, auto parse, auto &into) {
      const json *items = optional(j, key);
      if (!items)
        return;
      array(*items, key);
      for (size_t i = 0; i < items->size(); ++i)
        into.push_back((this->*parse)((*items)[i], index(key, i)));
    };
    list("datasets", &ManifestParser::dataset, plan.datasets);
    list("parameters", &ManifestParser::parameter, plan.parameters);
    list("stages", &ManifestParser::stage, plan.stages);
    list("evaluations", &ManifestParser::evaluation, plan.evaluations);
    list("exports", &ManifestParser::exported, plan.exports);
    return plan;
  }

private:
  std::string source;
};

//===----------------------------------------------------------------------===//
// Cross-reference checks
//===----------------------------------------------------------------------===//

class PlanChecker {
public:
  PlanChecker(const Plan &plan, const ManifestParser &parser)
      : plan(plan), parser(parser) {}

  void check() {
    checkDatasets();
    checkParameters();
    for (size_t i = 0; i < plan.stages.size(); ++i)
      checkStage(plan.stages[i], "stages[" + std::to_string(i) + "]");
    for (size_t i = 0; i < plan.evaluations.size(); ++i)
      checkEvaluation(plan.evaluations[i],
                      "evaluations[" + std::to_string(i) + "]");
    for (size_t i = 0; i < plan.exports.size(); ++i)
      checkExport(plan.exports[i], "exports[" + std::to_string(i) + "]");
  }

private:
  void checkDatasets() {
    std::set<std::string> names;
    for (size_t d = 0; d < plan.datasets.size(); ++d) {
      const DatasetSpec &dataset = plan.datasets[d];
      std::string path = "datasets[" + std::to_string(d) + "]";
      if (!names.insert(dataset.name).second)
        parser.fail(path + ".name", "duplicate dataset '" + dataset.name + "'");
      auto checkNormalisation = [&](const std::vector<float> &values,
                                    const char *key) {
        if (values.size() > 1 && int64_t(values.size()) != dataset.channels)
          parser.fail(path + "." + key,
                      "needs 1 or " + std::to_string(dataset.channels) +
                          " values");
      };
      checkNormalisation(dataset.mean, "mean");
      checkNormalisation(dataset.std, "std");
      if (!dataset.classNames.empty() &&
          int64_t(dataset.classNames.size()) != dataset.classes)
        parser.fail(path + ".class_names",
                    "has " + std::to_string(dataset.classNames.size()) +
                        " names for " + std::to_string(dataset.classes) +
                        " classes");
      // Parents must be declared earlier, which also rules out cycles.
      std::set<std::string> splitNames;
      for (size_t s = 0; s < dataset.splits.size(); ++s) {
        const SplitSpec &split = dataset.splits[s];
        std::string at = path + ".splits[" + std::to_string(s) + "]";
        if (!split.parent.empty() && !splitNames.count(split.parent))
          parser.fail(at + ".parent", "unknown split '" + split.parent +
                                          "' (a parent is declared first)");
        for (size_t i = 0; i < split.parts.size(); ++i)
          if (!splitNames.count(split.parts[i]))
            parser.fail(at + ".parts[" + std::to_string(i) + "]",
                        "unknown split '" + split.parts[i] +
                            "' (a part is declared first)");
        if (split.hi && *split.hi < split.lo)
          parser.fail(at + ".hi", "is below lo");
        if (!splitNames.insert(split.name).second)
          parser.fail(at + ".name", "duplicate split '" + split.name + "'");
      }
    }
  }

  void checkParameters() {
    for (size_t i = 0; i < plan.parameters.size(); ++i) {
      const ParameterSpec &parameter = plan.parameters[i];
      std::string path = "parameters[" + std::to_string(i) + "]";
      if (!parameterNames.insert(parameter.name).second)
        parser.fail(path + ".name",
                    "duplicate parameter '" + parameter.name + "'");
      if (!parameter.blob)
        continue;
      const BlobRef &blob = *parameter.blob;
      if (blob.offset % kBlobAlignment != 0)
        parser.fail(path + ".blob.offset",
                    "must be a multiple of " + std::to_string(kBlobAlignment));
      if (blob.bytes != uint64_t(parameter.numElements()) * 4)
        parser.fail(path + ".blob.bytes",
                    std::to_string(blob.bytes) + " bytes for a parameter of " +
                        std::to_string(parameter.numElements()) + " floats");
      if (blob.offset > plan.blob.size() ||
          blob.bytes > plan.blob.size() - blob.offset)
        parser.fail(path + ".blob", "blob reference [" +
                                        std::to_string(blob.offset) + ", +" +
                                        std::to_string(blob.bytes) +
                                        ") lies outside the file (blob of " +
                                        std::to_string(plan.blob.size()) +
                                        " bytes)");
    }
  }

  void checkData(const DataRef &data, const std::string &path) {
    const DatasetSpec *dataset = plan.findDataset(data.dataset);
    if (!dataset)
      parser.fail(path + ".data.dataset",
                  "unknown dataset '" + data.dataset + "'");
    for (const SplitSpec &split : dataset->splits)
      if (split.name == data.split)
        return;
    parser.fail(path + ".data.split", "unknown split '" + data.split +
                                          "' of dataset '" + data.dataset +
                                          "'");
  }

  void checkParameterName(const std::string &name, const std::string &path) {
    if (!parameterNames.count(name))
      parser.fail(path, "unknown parameter '" + name + "'");
  }

  void checkGraph(const GraphSpec &graph, const std::string &path) {
    buffers.clear();
    for (size_t i = 0; i < graph.buffers.size(); ++i) {
      const BufferSpec &buffer = graph.buffers[i];
      std::string at = path + ".buffers[" + std::to_string(i) + "]";
      if (!buffers.insert(buffer.id).second)
        parser.fail(at + ".id", "duplicate buffer " + std::to_string(buffer.id));
      if (buffer.offset % graph.arenaAlignment != 0)
        parser.fail(at + ".offset", "is not a multiple of the arena alignment");
      if (buffer.offset > graph.arenaBytes ||
          buffer.sizeInBytes() > graph.arenaBytes - buffer.offset)
        parser.fail(at, "buffer " + std::to_string(buffer.id) + " [" +
                            std::to_string(buffer.offset) + ", +" +
                            std::to_string(buffer.sizeInBytes()) +
                            ") lies outside the arena of " +
                            std::to_string(graph.arenaBytes) + " bytes");
    }
    for (size_t i = 0; i < graph.inputs.size(); ++i)
      checkBuffer(graph.inputs[i].buffer,
                  path + ".inputs[" + std::to_string(i) + "].buffer");
    checkProgram(graph.program, path + ".program");
  }

  /// The arena plan's promise: between a buffer's write and its last read,
  /// no other buffer sharing its bytes is written. A plan that breaks it
  /// computes wrong values silently, differently with each thread count and
  /// timing, so it is refused here. `before` are the buffers the executor
  /// fills ahead of the program (the batch, cached teacher outputs),
  /// `after` those it reads once the program has run (the loss, the
  /// output).
  /// One program of a sequence checkLifetimes walks, and the path of its
  /// ops in error messages ("stages[0].program").
  struct ProgramRun {
    const std::vector<OpSpec> *program;
    std::string path;
  };

  void checkLifetimes(const GraphSpec &graph, const std::string &path,
                      const std::vector<int64_t> &before,
                      const std::vector<int64_t> &after) {
    checkLifetimes(graph, {{&graph.program, path + ".program"}}, path, before,
                   after);
  }

  /// Walks `runs` in order, as the executor runs them on one arena: no op
  /// may read a buffer whose bytes a later write to another buffer took
  /// over, and no op may write over what it reads. `before` are written by
  /// the executor before the first op, `after` read after the last.
  void checkLifetimes(const GraphSpec &graph,
                      const std::vector<ProgramRun> &runs,
                      const std::string &path,
                      const std::vector<int64_t> &before,
                      const std::vector<int64_t> &after) {
    std::map<int64_t, const BufferSpec *> byId;
    for (const BufferSpec &buffer : graph.buffers)
      byId[buffer.id] = &buffer;
    auto shares = [&](int64_t a, int64_t b) {
      const BufferSpec &x = *byId.at(a), &y = *byId.at(b);
      return x.offset < y.offset + y.sizeInBytes() &&
             y.offset < x.offset + x.sizeInBytes();
    };
    auto describe = [&](int64_t id) {
      const BufferSpec &buffer = *byId.at(id);
      return "buffer " + std::to_string(id) + " [" +
             std::to_string(buffer.offset) + ", +" +
             std::to_string(buffer.sizeInBytes()) + ")";
    };
    // The path of every op in the order the runs execute them.
    std::vector<std::string> opPaths;
    for (const ProgramRun &run : runs)
      for (size_t i = 0; i < run.program->size(); ++i)
        opPaths.push_back(run.path + "[" + std::to_string(i) + "]");
    auto writer = [&](int64_t when) {
      return when < 0 ? std::string("the executor") : opPaths[size_t(when)];
    };
    // The last write of each buffer so far: -1 is before the program.
    std::map<int64_t, int64_t> written;
    for (int64_t id : before)
      written[id] = -1;
    const int64_t never = std::numeric_limits<int64_t>::min();
    auto checkRead = [&](int64_t id, const std::string &at) {
      auto own = written.find(id);
      int64_t since = own == written.end() ? never : own->second;
      for (const auto &[other, when] : written)
        if (other != id && when > since && shares(id, other))
          parser.fail(at, "reads " + describe(id) + ", whose bytes " +
                              describe(other) + " took over when " +
                              writer(when) +
                              " wrote it: the plan's memory layout is "
                              "broken (a compiler bug)");
    };
    int64_t step = 0;
    for (const ProgramRun &run : runs)
    for (size_t i = 0; i < run.program->size(); ++i, ++step) {
      const OpSpec &op = (*run.program)[i];
      const std::string &at = opPaths[size_t(step)];
      for (size_t k = 0; k < op.in.size(); ++k) {
        if (op.in[k].kind != Operand::Kind::Buffer)
          continue;
        std::string oat = at + ".in[" + std::to_string(k) + "]";
        checkRead(op.in[k].buffer, oat);
        // An op never writes over what it reads, unless in place.
        for (size_t o = 0; o < op.out.size(); ++o)
          if (op.out[o].kind == Operand::Kind::Buffer &&
              op.out[o].buffer != op.in[k].buffer &&
              shares(op.out[o].buffer, op.in[k].buffer))
            parser.fail(oat, "reads " + describe(op.in[k].buffer) +
                                 " while writing " +
                                 describe(op.out[o].buffer) +
                                 " over its bytes: the plan's memory "
                                 "layout is broken (a compiler bug)");
      }
      for (const Operand &out : op.out)
        if (out.kind == Operand::Kind::Buffer)
          written[out.buffer] = step;
    }
    for (int64_t id : after)
      checkRead(id, path + ".program (read after the last op)");
  }

  static std::vector<int64_t> inputBuffers(const GraphSpec &graph) {
    std::vector<int64_t> ids;
    for (const InputSpec &input : graph.inputs)
      ids.push_back(input.buffer);
    return ids;
  }

  void checkBuffer(int64_t id, const std::string &path) {
    if (!buffers.count(id))
      parser.fail(path, "unknown buffer " + std::to_string(id));
  }

  void checkProgram(const std::vector<OpSpec> &program,
                    const std::string &path) {
    for (size_t i = 0; i < program.size(); ++i) {
      const OpSpec &op = program[i];
      std::string at = path + "[" + std::to_string(i) + "]";
      for (const char *side : {"in", "out"}) {
        const auto &operands = std::string(side) == "in" ? op.in : op.out;
        for (size_t k = 0; k < operands.size(); ++k) {
          std::string oat = at + "." + side + "[" + std::to_string(k) + "]";
          const Operand &operand = operands[k];
          if (operand.kind == Operand::Kind::Buffer)
            checkBuffer(operand.buffer, oat);
          else if (operand.kind != Operand::Kind::None)
            checkParameterName(operand.name, oat);
        }
      }
    }
  }

  void checkStage(const StageSpec &stage, const std::string &path) {
    if (!stageNames.insert(stage.name).second)
      parser.fail(path + ".name", "duplicate stage '" + stage.name + "'");
    checkData(stage.data, path);
    checkGraph(stage.graph, path);
    checkBuffer(stage.lossBuffer, path + ".loss.buffer");
    const TeacherCacheSpec &cache = stage.teacherCache;
    std::vector<int64_t> before = inputBuffers(stage.graph);
    for (size_t i = 0; i < cache.outputs.size(); ++i) {
      checkBuffer(cache.outputs[i].buffer, path + ".teacher_cache.outputs[" +
                                               std::to_string(i) + "].buffer");
      before.push_back(cache.outputs[i].buffer);
    }
    checkProgram(cache.program, path + ".teacher_cache.program");
    // With the cache filled, its outputs are written before the step;
    // without it (over the runtime's memory limit), the cache program runs
    // on the fed batch first. Both orders must keep every read intact.
    checkLifetimes(stage.graph, path, before, {stage.lossBuffer});
    if (!cache.program.empty())
      checkLifetimes(stage.graph,
                     {{&cache.program, path + ".teacher_cache.program"},
                      {&stage.graph.program, path + ".program"}},
                     path, inputBuffers(stage.graph), {stage.lossBuffer});
    for (size_t i = 0; i < stage.copies.size(); ++i) {
      std::string at = path + ".copy[" + std::to_string(i) + "]";
      checkParameterName(stage.copies[i].first, at + ".from");
      checkParameterName(stage.copies[i].second, at + ".to");
      const ParameterSpec *from = plan.findParameter(stage.copies[i].first);
      const ParameterSpec *to = plan.findParameter(stage.copies[i].second);
      if (from->shape != to->shape)
        parser.fail(at, "copies '" + from->name + "' into '" + to->name +
                            "', which has another shape");
    }
    for (size_t g = 0; g < stage.optimizer.groups.size(); ++g) {
      const OptimizerGroup &group = stage.optimizer.groups[g];
      for (size_t p = 0; p < group.params.size(); ++p)
        checkParameterName(group.params[p],
                           path + ".optimizer.groups[" + std::to_string(g) +
                               "].params[" + std::to_string(p) + "]");
    }
  }

  void checkAfterStage(const std::string &stage, const std::string &path) {
    if (!stage.empty() && !stageNames.count(stage))
      parser.fail(path, "unknown stage '" + stage + "'");
  }

  void checkEvaluation(const EvaluationSpec &evaluation,
                       const std::string &path) {
    checkData(evaluation.data, path);
    checkGraph(evaluation.graph, path);
    checkBuffer(evaluation.outputBuffer, path + ".output.buffer");
    checkLifetimes(evaluation.graph, path, inputBuffers(evaluation.graph),
                   {evaluation.outputBuffer});
    checkAfterStage(evaluation.afterStage, path + ".after_stage");
    if (const auto &weight = evaluation.ensembleWeight) {
      checkParameterName(weight->parameter,
                         path + ".ensemble_weight.parameter");
      if (!stageNames.count(weight->beforeStage))
        parser.fail(path + ".ensemble_weight.before_stage",
                    "unknown stage '" + weight->beforeStage + "'");
      const ParameterSpec *weights = nullptr;
      for (const ParameterSpec &parameter : plan.parameters)
        if (parameter.name == weight->parameter)
          weights = &parameter;
      if (weights && weight->member >= weights->numElements())
        parser.fail(path + ".ensemble_weight.member",
                    "member " + std::to_string(weight->member) +
                        " is past the " +
                        std::to_string(weights->numElements()) +
                        " weights of '" + weight->parameter + "'");
    }
  }

  void checkExport(const ExportSpec &exported, const std::string &path) {
    for (size_t i = 0; i < exported.params.size(); ++i)
      checkParameterName(exported.params[i],
                         path + ".params[" + std::to_string(i) + "]");
    checkAfterStage(exported.afterStage, path + ".after_stage");
    if (exported.inference)
      checkInferenceExport(*exported.inference, path + ".inference");
  }

  /// The two namespaces of InferenceExportSpec: fold inputs are this
  /// plan's parameters, everything else the exported plan's; every
  /// exported parameter is written by exactly one fold or copied from a
  /// parameter of this plan with its shape.
  void checkInferenceExport(const InferenceExportSpec &inference,
                            const std::string &path) {
    checkData(inference.data, path);
    std::map<std::string, const ParameterSpec *> exported;
    for (size_t i = 0; i < inference.parameters.size(); ++i) {
      const ParameterSpec &parameter = inference.parameters[i];
      if (!exported.emplace(parameter.name, &parameter).second)
        parser.fail(path + ".parameters[" + std::to_string(i) + "].name",
                    "duplicate parameter '" + parameter.name + "'");
    }
    std::set<std::string> folded;
    for (size_t i = 0; i < inference.fold.size(); ++i) {
      const OpSpec &op = inference.fold[i];
      std::string at = path + ".fold[" + std::to_string(i) + "]";
      for (size_t k = 0; k < op.in.size(); ++k) {
        std::string oat = at + ".in[" + std::to_string(k) + "]";
        if (op.in[k].kind == Operand::Kind::Param)
          checkParameterName(op.in[k].name, oat);
        else if (op.in[k].kind != Operand::Kind::None)
          parser.fail(oat, "a fold reads parameters of the plan");
      }
      for (size_t k = 0; k < op.out.size(); ++k) {
        std::string oat = at + ".out[" + std::to_string(k) + "]";
        if (op.out[k].kind != Operand::Kind::Param)
          parser.fail(oat, "a fold writes parameters of the exported plan");
        if (!exported.count(op.out[k].name))
          parser.fail(oat, "unknown exported parameter '" + op.out[k].name +
                               "'");
        if (!folded.insert(op.out[k].name).second)
          parser.fail(oat, "exported parameter '" + op.out[k].name +
                               "' is written by two folds");
      }
    }
    for (size_t i = 0; i < inference.parameters.size(); ++i) {
      const ParameterSpec &parameter = inference.parameters[i];
      if (folded.count(parameter.name))
        continue;
      const ParameterSpec *source = plan.findParameter(parameter.name);
      std::string at = path + ".parameters[" + std::to_string(i) + "]";
      if (!source)
        parser.fail(at, "exported parameter '" + parameter.name +
                            "' is neither folded nor a parameter of the plan");
      if (source->shape != parameter.shape)
        parser.fail(at + ".shape", "differs from the shape of the plan's "
                                   "parameter '" + parameter.name + "'");
    }
    std::set<std::string> saved;
    saved.swap(parameterNames);
    for (const auto &entry : exported)
      parameterNames.insert(entry.first);
    checkGraph(inference.graph, path);
    checkBuffer(inference.outputBuffer, path + ".output.buffer");
    checkLifetimes(inference.graph, path, inputBuffers(inference.graph),
                   {inference.outputBuffer});
    for (size_t i = 0; i < inference.graph.program.size(); ++i)
      for (const auto *operands :
           {&inference.graph.program[i].in, &inference.graph.program[i].out})
        for (const Operand &operand : *operands)
          if (operand.kind == Operand::Kind::Grad)
            parser.fail(path + ".program[" + std::to_string(i) + "]",
                        "an inference program has no gradients");
    parameterNames.swap(saved);
  }

  const Plan &plan;
  const ManifestParser &parser;
  std::set<std::string> parameterNames;
  std::set<std::string> stageNames;
  std::set<int64_t> buffers;
};

} // namespace

Plan parsePlan(const std::vector<uint8_t> &bytes, const std::string &source) {
  if (bytes.size() < 16)
    throw PlanError(source + ": not a kdx plan (file of " +
                    std::to_string(bytes.size()) +
                    " bytes is shorter than the 16-byte header)");
  if (!std::equal(kPlanMagic, kPlanMagic + 8, bytes.begin()))
    throw PlanError(source + ": not a kdx plan (bad magic)");
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i)
    length |= uint64_t(bytes[8 + i]) << (8 * i);
  if (length > bytes.size() - 16)
    throw PlanError(source + ": truncated manifest (" + std::to_string(length) +
                    " bytes declared, " + std::to_string(bytes.size() - 16) +
                    " present)");
  auto begin = bytes.begin() + 16;
  json manifest = json::parse(begin, begin + int64_t(length), nullptr,
                              /*allow_exceptions=*/false);
  if (manifest.is_discarded())
    throw PlanError(source + ": the manifest is not valid JSON");
  if (!manifest.is_object())
    throw PlanError(source + ": the manifest is not one JSON object");

  ManifestParser parser(source);
  Plan plan = parser.plan(manifest);
  uint64_t blobStart =
      (16 + length + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment;
  if (blobStart < bytes.size())
    plan.blob.assign(bytes.begin() + int64_t(blobStart), bytes.end());
  PlanChecker(plan, parser).check();
  return plan;
}

Plan readPlan(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file)
    throw PlanError(path + ": cannot open plan");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  if (file.bad())
    throw PlanError(path + ": read failed");
  return parsePlan(bytes, path);
}

} // namespace kdrt::plan

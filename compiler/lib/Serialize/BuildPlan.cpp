//===- BuildPlan.cpp - Walks a kdrt module into the plan structs ----------===//
//
// One function per plan entry. Kernel ops are serialised generically: the
// op name without the `kdrt.` prefix is the plan's op name, the operand
// segments are `in` and `out`, and every attribute but the segment sizes is
// an op attribute (typed in the kdrt dialect, plain JSON in the plan).
//
//===----------------------------------------------------------------------===//
#include "kd/Serialize/PlanSerializer.h"

#include "kd/Dialect/KDRT/KDRTOps.h"
#include "kdrt/plan/PlanIo.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

using namespace mlir;
namespace rt = kd::rt;
namespace plan = kdrt::plan;
using nlohmann::json;

namespace {

/// "file:line:col" of the first file location inside `loc`; empty if none.
std::string locationText(Location loc) {
  std::string text;
  loc->walk([&](Location inner) {
    if (auto file = dyn_cast<FileLineColLoc>(inner)) {
      text = llvm::sys::path::filename(file.getFilename().getValue()).str() + ":" +
             std::to_string(file.getLine()) + ":" + std::to_string(file.getColumn());
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return text;
}

std::optional<double> numberOf(Attribute attr) {
  if (auto f = dyn_cast_or_null<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto i = dyn_cast_or_null<IntegerAttr>(attr))
    return double(i.getInt());
  return std::nullopt;
}

double numberOr(DictionaryAttr dict, StringRef key, double fallback) {
  if (!dict)
    return fallback;
  return numberOf(dict.get(key)).value_or(fallback);
}

std::string textOr(DictionaryAttr dict, StringRef key, StringRef fallback) {
  if (auto s = dict ? dict.getAs<StringAttr>(key) : StringAttr())
    return s.getValue().str();
  return fallback.str();
}

std::vector<std::string> strings(ArrayAttr array) {
  std::vector<std::string> result;
  for (Attribute a : array)
    if (auto s = dyn_cast<StringAttr>(a))
      result.push_back(s.getValue().str());
  return result;
}

/// An attribute as JSON, or failure for a kind the plan cannot hold.
FailureOr<json> toJson(Attribute attr) {
  if (auto b = dyn_cast<BoolAttr>(attr))
    return json(b.getValue());
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return json(i.getInt());
  if (auto f = dyn_cast<FloatAttr>(attr))
    return json(f.getValueAsDouble());
  if (auto s = dyn_cast<StringAttr>(attr))
    return json(s.getValue().str());
  if (auto a = dyn_cast<DenseI64ArrayAttr>(attr))
    return json(std::vector<int64_t>(a.asArrayRef().begin(), a.asArrayRef().end()));
  if (auto a = dyn_cast<DenseF64ArrayAttr>(attr))
    return json(std::vector<double>(a.asArrayRef().begin(), a.asArrayRef().end()));
  if (auto a = dyn_cast<DenseBoolArrayAttr>(attr))
    return json(std::vector<bool>(a.asArrayRef().begin(), a.asArrayRef().end()));
  if (isa<UnitAttr>(attr))
    return json(true);
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    json result = json::array();
    for (Attribute element : array) {
      FailureOr<json> value = toJson(element);
      if (failed(value))
        return failure();
      result.push_back(*value);
    }
    return result;
  }
  if (auto dict = dyn_cast<DictionaryAttr>(attr)) {
    json result = json::object();
    for (NamedAttribute entry : dict) {
      FailureOr<json> value = toJson(entry.getValue());
      if (failed(value))
        return failure();
      result[entry.getName().str()] = *value;
    }
    return result;
  }
  return failure();
}

/// The plan operand a kernel operand stands for.
FailureOr<plan::Operand> operandOf(Operation *user, Value value) {
  Operation *def = value.getDefiningOp();
  if (auto buffer = dyn_cast_or_null<rt::BufferOp>(def))
    return plan::Operand::buf(buffer.getId());
  if (auto param = dyn_cast_or_null<rt::ParamOp>(def))
    return plan::Operand::param(param.getName().str());
  if (auto grad = dyn_cast_or_null<rt::GradOp>(def))
    return plan::Operand::grad(grad.getName().str());
  if (isa_and_nonnull<rt::NullOp>(def))
    return plan::Operand::none();
  return user->emitError("an operand that is not a buffer, parameter, gradient or null has no place in the plan");
}

bool isKernel(Operation *op) { return op->hasAttr("operandSegmentSizes") && isa<rt::KDRTDialect>(op->getDialect()); }

FailureOr<plan::OpSpec> kernelSpec(Operation *op) {
  plan::OpSpec spec;
  spec.op = op->getName().getStringRef().drop_front(rt::KDRTDialect::getDialectNamespace().size() + 1).str();
  spec.loc = locationText(op->getLoc());
  auto segments = op->getAttrOfType<DenseI32ArrayAttr>("operandSegmentSizes");
  unsigned numIns = unsigned(segments[0]);
  for (auto [index, value] : llvm::enumerate(op->getOperands())) {
    FailureOr<plan::Operand> operand = operandOf(op, value);
    if (failed(operand))
      return failure();
    (index < numIns ? spec.in : spec.out).push_back(*operand);
  }
  for (NamedAttribute attr : op->getAttrs()) {
    if (attr.getName() == "operandSegmentSizes")
      continue;
    FailureOr<json> value = toJson(attr.getValue());
    if (failed(value))
      return op->emitError() << "attribute '" << attr.getName().getValue() << "' has no JSON form in the plan";
    spec.attrs[attr.getName().str()] = *value;
  }
  return spec;
}

plan::AugmentSpec augmentSpec(DictionaryAttr call) {
  plan::AugmentSpec spec;
  spec.op = textOr(call, "kind", "");
  spec.size = int64_t(numberOr(call, "size", 0));
  spec.pad = int64_t(numberOr(call, "pad", 0));
  spec.probability = numberOr(call, "p", 0.5);
  spec.brightness = numberOr(call, "brightness", 0);
  spec.contrast = numberOr(call, "contrast", 0);
  spec.saturation = numberOr(call, "saturation", 0);
  spec.height = int64_t(numberOr(call, "h", 0));
  spec.width = int64_t(numberOr(call, "w", 0));
  spec.degrees = numberOr(call, "degrees", 0);
  return spec;
}

plan::SplitSpec splitSpec(DictionaryAttr split) {
  plan::SplitSpec spec;
  spec.name = textOr(split, "name", "");
  spec.source = textOr(split, "source", "file");
  if (spec.source == "file")
    spec.file = textOr(split, "file", "");
  spec.parent = textOr(split, "parent", "");
  spec.lo = int64_t(numberOr(split, "lo", 0));
  if (std::optional<double> hi = numberOf(split.get("hi")))
    spec.hi = int64_t(*hi);
  spec.shots = int64_t(numberOr(split, "shots", 0));
  spec.seed = uint64_t(numberOr(split, "seed", 0));
  if (spec.source == "external") {
    spec.externalKind = textOr(split, "kind", "");
    spec.externalPath = textOr(split, "path", "");
  }
  if (auto parts = split.getAs<ArrayAttr>("parts"))
    for (Attribute part : parts)
      spec.parts.push_back(cast<StringAttr>(part).getValue().str());
  spec.unlabeled = bool(split.get("unlabeled"));
  if (auto augment = split.getAs<ArrayAttr>("augment"))
    for (Attribute call : augment)
      spec.augment.push_back(augmentSpec(cast<DictionaryAttr>(call)));
  return spec;
}

plan::DatasetSpec datasetSpec(rt::DatasetOp op) {
  plan::DatasetSpec spec;
  spec.name = op.getSymName().str();
  spec.kind = op.getKind().str();
  spec.path = op.getPath().str();
  ArrayRef<int64_t> image = op.getImageShape();
  if (image.size() == 3) {
    spec.channels = image[0];
    spec.height = image[1];
    spec.width = image[2];
  }
  for (double m : op.getMean())
    spec.mean.push_back(float(m));
  for (double s : op.getStd())
    spec.std.push_back(float(s));
  spec.classes = op.getClasses();
  spec.classNames = strings(op.getClassNames());
  for (Attribute split : op.getSplits())
    spec.splits.push_back(splitSpec(cast<DictionaryAttr>(split)));
  return spec;
}

LogicalResult parameterSpec(rt::ParameterOp op, plan::Plan &result) {
  plan::ParameterSpec spec;
  spec.name = op.getName().str();
  spec.shape.assign(op.getShape().begin(), op.getShape().end());
  spec.role = op.getRole().str();
  spec.init.kind = op.getInit().str();
  if (auto fan = op.getFanAttr())
    spec.init.fan = fan.getValue().str();
  if (auto gain = op.getGainAttr())
    spec.init.gain = gain.getValueAsDouble();
  if (auto value = op.getConstantAttr())
    spec.init.value = value.getValueAsDouble();
  if (auto std = op.getStdAttr())
    spec.init.std = std.getValueAsDouble();
  if (auto bound = op.getBoundAttr())
    spec.init.bound = bound.getValueAsDouble();
  if (ElementsAttr loaded = op.getValueAttr()) {
    auto dense = dyn_cast<DenseFPElementsAttr>(loaded);
    if (!dense || !dense.getElementType().isF32())
      return op.emitError("loaded values of '") << spec.name << "' are not dense f32 elements";
    std::vector<float> values;
    values.reserve(size_t(dense.getNumElements()));
    for (float v : dense.getValues<float>())
      values.push_back(v);
    spec.blob = kdrt::plan::appendToBlob(result, values.data(), values.size() * sizeof(float));
  }
  result.parameters.push_back(std::move(spec));
  return success();
}

/// The buffers, inputs and kernels of a stage or evaluation body (a
/// teacher cache's kernels go to `cache` when given).
LogicalResult graphSpec(Block &body, plan::GraphSpec &graph, int64_t arenaBytes, plan::TeacherCacheSpec *cache) {
  graph.arenaBytes = uint64_t(arenaBytes);
  for (Operation &op : body) {
    if (auto buffer = dyn_cast<rt::BufferOp>(op)) {
      plan::BufferSpec spec;
      spec.id = buffer.getId();
      auto type = cast<MemRefType>(buffer.getType());
      spec.shape.assign(type.getShape().begin(), type.getShape().end());
      spec.offset = uint64_t(buffer.getOffset());
      spec.batched = !buffer.getUnbatched();
      graph.arenaBytes = std::max(graph.arenaBytes, spec.offset + spec.sizeInBytes());
      graph.buffers.push_back(std::move(spec));
    } else if (auto load = dyn_cast<rt::LoadBatchOp>(op)) {
      plan::InputSpec input;
      auto buffer = load.getBuffer().getDefiningOp<rt::BufferOp>();
      if (!buffer)
        return load.emitError("a batch goes into an arena buffer");
      input.buffer = buffer.getId();
      input.role = load.getRole().str();
      if (DictionaryAttr transform = load.getTransformAttr()) {
        plan::TransformSpec spec;
        spec.op = textOr(transform, "op", "resize");
        spec.height = int64_t(numberOr(transform, "h", 0));
        spec.width = int64_t(numberOr(transform, "w", 0));
        spec.mode = textOr(transform, "mode", "");
        input.transform = spec;
      }
      graph.inputs.push_back(std::move(input));
    } else if (auto teacher = dyn_cast<rt::TeacherCacheOp>(op)) {
      if (!cache)
        return teacher.emitError("a teacher cache belongs to a training stage");
      cache->mode = "cached";
      cache->model = teacher.getModel().str();
      cache->key = teacher.getKey().str();
      for (auto [value, name] : llvm::zip(teacher.getOutputs(), teacher.getNames())) {
        auto buffer = value.getDefiningOp<rt::BufferOp>();
        if (!buffer)
          return teacher.emitError("a cached output is an arena buffer");
        cache->outputs.push_back({buffer.getId(), cast<StringAttr>(name).getValue().str()});
      }
      plan::GraphSpec inner;
      if (failed(graphSpec(teacher.getBody().front(), inner, arenaBytes, nullptr)))
        return failure();
      cache->program = std::move(inner.program);
      for (plan::BufferSpec &buffer : inner.buffers)
        graph.buffers.push_back(std::move(buffer));
      graph.arenaBytes = std::max(graph.arenaBytes, inner.arenaBytes);
    } else if (isKernel(&op)) {
      FailureOr<plan::OpSpec> spec = kernelSpec(&op);
      if (failed(spec))
        return failure();
      graph.program.push_back(std::move(*spec));
    } else if (!isa<rt::ParamOp, rt::GradOp, rt::NullOp, rt::UpdateOp, rt::OutputOp>(op)) {
      return op.emitError("'") << op.getName() << "' has no place in a plan's program";
    }
  }
  return success();
}

void optimizerSpec(rt::UpdateOp update, plan::OptimizerSpec &spec, plan::ScheduleSpec &schedule) {
  DictionaryAttr opt = update.getOptimizer();
  spec.kind = textOr(opt, "kind", "sgd");
  spec.momentum = numberOr(opt, "momentum", 0);
  if (auto nesterov = opt.getAs<BoolAttr>("nesterov"))
    spec.nesterov = nesterov.getValue();
  spec.weightDecay = numberOr(opt, "weight_decay", 0);
  spec.beta1 = numberOr(opt, "beta1", 0.9);
  spec.beta2 = numberOr(opt, "beta2", 0.999);
  spec.eps = numberOr(opt, "eps", 1e-8);
  for (Attribute entry : update.getGroups()) {
    auto group = cast<DictionaryAttr>(entry);
    plan::OptimizerGroup g;
    g.lr = numberOr(group, "lr", 0.01);
    g.weightDecay = numberOr(group, "weight_decay", spec.weightDecay);
    if (group.get("momentum"))
      g.momentum = numberOr(group, "momentum", 0);
    if (auto params = group.getAs<ArrayAttr>("params"))
      g.params = strings(params);
    spec.groups.push_back(std::move(g));
  }
  DictionaryAttr sched = update.getSchedule();
  schedule.kind = textOr(sched, "kind", "constant");
  schedule.minLr = numberOr(sched, "min_lr", 0);
  schedule.every = int64_t(numberOr(sched, "every", 1));
  schedule.gamma = numberOr(sched, "gamma", 0.1);
  schedule.warmupSteps = int64_t(numberOr(sched, "warmup_steps", 0));
  schedule.warmupEpochs = int64_t(numberOr(sched, "warmup_epochs", 0));
  schedule.pctStart = numberOr(sched, "pct_start", 0.3);
  schedule.divFactor = numberOr(sched, "div_factor", 25);
  schedule.finalDivFactor = numberOr(sched, "final_div_factor", 1e4);
  if (auto cycle = sched.getAs<BoolAttr>("cycle_momentum"))
    schedule.cycleMomentum = cycle.getValue();
  schedule.baseMomentum = numberOr(sched, "base_momentum", 0.85);
  schedule.maxMomentum = numberOr(sched, "max_momentum", 0.95);
}

LogicalResult stageSpec(rt::StageOp op, plan::Plan &result) {
  plan::StageSpec spec;
  spec.name = op.getSymName().str();
  spec.kind = op.getKind().str();
  spec.loc = locationText(op.getLoc());
  spec.data = {op.getData().str(), op.getSplit().str()};
  spec.epochs = op.getEpochs();
  spec.batch = op.getBatch();
  spec.trained = strings(op.getTrained());
  spec.frozen = strings(op.getFrozen());
  if (auto copies = op->getAttrOfType<ArrayAttr>("copy_params"))
    for (auto copy : copies.getAsRange<DictionaryAttr>())
      spec.copies.emplace_back(copy.getAs<StringAttr>("from").str(), copy.getAs<StringAttr>("to").str());
  if (failed(graphSpec(op.getBodyBlock(), spec.graph, op.getArenaBytes(), &spec.teacherCache)))
    return failure();
  auto updates = op.getBodyBlock().getOps<rt::UpdateOp>();
  if (updates.empty())
    return op.emitError("a stage ends in kdrt.update");
  rt::UpdateOp update = *updates.begin();
  auto loss = update.getLoss().getDefiningOp<rt::BufferOp>();
  if (!loss)
    return update.emitError("the loss is an arena buffer");
  spec.lossBuffer = loss.getId();
  optimizerSpec(update, spec.optimizer, spec.schedule);
  result.stages.push_back(std::move(spec));
  return success();
}

LogicalResult evaluationSpec(rt::EvaluateOp op, plan::Plan &result) {
  plan::EvaluationSpec spec;
  spec.model = op.getModel().str();
  spec.data = {op.getData().str(), op.getSplit().str()};
  spec.batch = op.getBatch();
  // `per_class` asks for each metric per class, which the runtime always
  // reports next to the macro average; it is not a metric of its own there.
  for (const std::string &metric : strings(op.getMetrics()))
    if (metric != "per_class")
      spec.metrics.push_back(metric);
  spec.afterStage = op.getAfterStage().str();
  if (std::optional<StringRef> prediction = op.getPrediction())
    spec.prediction = prediction->str();
  if (DictionaryAttr weight = op.getEnsembleWeightAttr())
    spec.ensembleWeight = plan::EnsembleWeightSpec{textOr(weight, "ensemble", ""), textOr(weight, "parameter", ""),
                                                   int64_t(numberOr(weight, "member", 0)),
                                                   textOr(weight, "before_stage", "")};
  if (auto expression = op->getAttrOfType<StringAttr>("expression"))
    spec.expression = expression.getValue().str();
  Block &body = op.getBody().front();
  if (failed(graphSpec(body, spec.graph, op.getArenaBytes(), nullptr)))
    return failure();
  auto output = dyn_cast<rt::OutputOp>(body.getTerminator());
  auto buffer = output ? output.getValue().getDefiningOp<rt::BufferOp>() : rt::BufferOp();
  if (!buffer)
    return op.emitError("an evaluation's output is an arena buffer");
  spec.outputBuffer = buffer.getId();
  result.evaluations.push_back(std::move(spec));
  return success();
}

/// An export; a kdx export's body becomes its inference program, the
/// folds split from the program (docs/kdx.md, "Inference exports").
LogicalResult exportSpec(rt::ExportOp op, plan::Plan &result) {
  plan::ExportSpec spec{op.getModel().str(), op.getPath().str(), op.getFormat().str(), strings(op.getParams()),
                        op.getAfterStage().str(), std::nullopt};
  if (op.getBody().empty()) {
    result.exports.push_back(std::move(spec));
    return success();
  }
  plan::InferenceExportSpec inference;
  inference.data = {op.getData()->str(), op.getSplit()->str()};
  inference.batch = *op.getBatch();
  inference.metrics = strings(*op.getMetrics());
  Block &body = op.getBody().front();
  if (failed(graphSpec(body, inference.graph, *op.getArenaBytes(), nullptr)))
    return failure();
  std::vector<plan::OpSpec> program;
  for (plan::OpSpec &kernel : inference.graph.program)
    (kernel.op == rt::FoldBatchNormOp::getPlanName() ? inference.fold : program).push_back(std::move(kernel));
  inference.graph.program = std::move(program);

  // The exported plan's parameters: what the folds write, then what the
  // program reads, in order of first appearance.
  llvm::StringMap<std::string> roles;
  std::vector<std::string> order;
  auto note = [&](const plan::Operand &operand, StringRef role) {
    if (operand.kind == plan::Operand::Kind::Param && roles.try_emplace(operand.name, role.str()).second)
      order.push_back(operand.name);
  };
  for (const plan::OpSpec &fold : inference.fold)
    for (auto [index, operand] : llvm::enumerate(fold.out))
      note(operand, index == 0 ? "weight" : "bias");
  llvm::StringSet<> folded;
  for (const std::string &name : order)
    folded.insert(name);
  for (const plan::OpSpec &kernel : inference.graph.program)
    for (const auto *operands : {&kernel.in, &kernel.out})
      for (const plan::Operand &operand : *operands) {
        if (operand.kind != plan::Operand::Kind::Param || folded.contains(operand.name))
          continue;
        const plan::ParameterSpec *trained = result.findParameter(operand.name);
        if (!trained)
          return op.emitError() << "the inference program reads '" << operand.name
                                << "', which is no parameter of the plan";
        note(operand, trained->role);
      }
  llvm::StringMap<std::vector<int64_t>> shapes;
  body.walk([&](rt::ParamOp param) {
    auto type = cast<MemRefType>(param.getType());
    // A fold's inputs carry the trained names; a folded output of the same
    // name has the same shape, so either one gives it.
    shapes[param.getName()] = std::vector<int64_t>(type.getShape().begin(), type.getShape().end());
  });
  for (const std::string &name : order) {
    plan::ParameterSpec parameter;
    parameter.name = name;
    parameter.shape = shapes.lookup(name);
    parameter.role = roles.lookup(name);
    inference.parameters.push_back(std::move(parameter));
  }
  auto output = dyn_cast<rt::OutputOp>(body.getTerminator());
  auto buffer = output ? output.getValue().getDefiningOp<rt::BufferOp>() : rt::BufferOp();
  if (!buffer)
    return op.emitError("an inference export's output is an arena buffer");
  inference.outputBuffer = buffer.getId();
  spec.inference = std::move(inference);
  result.exports.push_back(std::move(spec));
  return success();
}

} // namespace

LogicalResult kd::buildPlan(ModuleOp module, const PlanProvenance &provenance, plan::Plan &result) {
  result = plan::Plan();
  result.producer = provenance.producer;
  result.target = provenance.target;
  result.specFile = provenance.specFile;
  result.specSha256 = provenance.specSha256;
  result.seed = provenance.seed;
  for (Operation &op : module.getBody()->getOperations()) {
    LogicalResult status = success();
    if (auto dataset = dyn_cast<rt::DatasetOp>(op))
      result.datasets.push_back(datasetSpec(dataset));
    else if (auto parameter = dyn_cast<rt::ParameterOp>(op))
      status = parameterSpec(parameter, result);
    else if (auto stage = dyn_cast<rt::StageOp>(op))
      status = stageSpec(stage, result);
    else if (auto evaluation = dyn_cast<rt::EvaluateOp>(op))
      status = evaluationSpec(evaluation, result);
    else if (auto exportOp = dyn_cast<rt::ExportOp>(op))
      status = exportSpec(exportOp, result);
    else
      status = op.emitError("'") << op.getName() << "' is not a plan entry (was the module lowered to kdrt?)";
    if (failed(status))
      return failure();
  }
  return success();
}

//===- Session.cpp - Creating a session and running its stages ------------===//

#include "kdrt/exec/Session.h"
#include "SessionSupport.h"
#include "kdrt/data/BatchLoader.h"
#include "kdrt/data/DataError.h"
#include "kdrt/exec/BackendFactory.h"
#include "kdrt/exec/ProgressPrinter.h"
#include "kdrt/io/AtomicFile.h"
#include "kdrt/io/IoError.h"
#include "kdrt/io/RunDirectory.h"
#include "kdrt/plan/PlanIo.h"
#include "kdrt/train/Adam.h"
#include "kdrt/train/LearningRateSchedule.h"
#include "kdrt/train/Sgd.h"
#include "kdrt/train/TrainError.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>

namespace kdrt::exec {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t peakResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoll(line.substr(6)) * 1024; // reported in kB
  return 0;
}

namespace {

std::string planDirectory(const std::string &planPath) {
  fs::path parent = fs::path(planPath).parent_path();
  return parent.empty() ? "." : parent.string();
}

} // namespace

Session::~Session() {
  // Graphs hold arena memory of the backend; free them before it goes.
  stageGraphs.clear();
  evaluationGraphs.clear();
  store.reset();
}

Status Session::create(std::shared_ptr<const plan::Plan> plan,
                       const std::string &planPath, RunOptions options,
                       std::unique_ptr<Session> &session) {
  std::unique_ptr<Session> created(new Session());
  created->planSpec = std::move(plan);
  created->planPath = planPath;
  created->options = std::move(options);
  created->seedValue = created->options.seed.value_or(created->planSpec->seed);
  KDRT_RETURN_IF_ERROR(createBackend(created->options.backend,
                                     created->options.threads,
                                     created->device));
  created->store = std::make_unique<ParameterStore>(*created->device);
  KDRT_RETURN_IF_ERROR(
      created->store->initialize(*created->planSpec, created->seedValue));
  created->catalog = std::make_unique<DataCatalog>(*created->planSpec,
                                                   planDirectory(planPath));
  KDRT_RETURN_IF_ERROR(guarded([&] { return created->bind(); }));
  session = std::move(created);
  return Status::success();
}

Status Session::bind() {
  const plan::Plan &p = *planSpec;
  auto checkInputs = [&](const plan::GraphSpec &graph, int64_t batch,
                         const plan::DataRef &data, const std::string &path) {
    const plan::DatasetSpec &dataset = catalog->dataset(data.dataset);
    for (size_t i = 0; i < graph.inputs.size(); ++i) {
      const plan::InputSpec &input = graph.inputs[i];
      const plan::BufferSpec &buffer = *graph.findBuffer(input.buffer);
      std::vector<int64_t> expected = {batch};
      if (input.role == "image") {
        int64_t h = input.transform ? input.transform->height : dataset.height;
        int64_t w = input.transform ? input.transform->width : dataset.width;
        expected.insert(expected.end(), {dataset.channels, h, w});
      }
      if (buffer.shape != expected)
        throw plan::PlanError(
            planPath + ": " + path + ".inputs[" + std::to_string(i) +
            "]: buffer " + std::to_string(input.buffer) + " has shape " +
            Shape(buffer.shape).toString() + ", the " + input.role +
            " input needs " + Shape(expected).toString());
    }
  };
  auto checkBatchBuffer = [&](const plan::GraphSpec &graph, int64_t id,
                              int64_t batch, const std::string &path) {
    const plan::BufferSpec &buffer = *graph.findBuffer(id);
    if (buffer.shape.empty() || buffer.shape[0] != batch)
      throw plan::PlanError(planPath + ": " + path + ": buffer " +
                            std::to_string(id) +
                            " must lead with the batch size " +
                            std::to_string(batch));
  };

  for (size_t s = 0; s < p.stages.size(); ++s) {
    const plan::StageSpec &stage = p.stages[s];
    std::string path = "stages[" + std::to_string(s) + "]";
    checkInputs(stage.graph, stage.batch, stage.data, path);
    const plan::BufferSpec &loss = *stage.graph.findBuffer(stage.lossBuffer);
    if (loss.numElements() != 1)
      throw plan::PlanError(planPath + ": " + path +
                            ".loss.buffer: the loss buffer must hold one "
                            "value, it has shape " +
                            Shape(loss.shape).toString());
    std::vector<std::pair<std::string, const std::vector<plan::OpSpec> *>>
        extra;
    if (stage.teacherCache.mode == "cached") {
      extra.emplace_back(path + ".teacher_cache.program",
                         &stage.teacherCache.program);
      for (size_t i = 0; i < stage.teacherCache.outputs.size(); ++i)
        checkBatchBuffer(stage.graph, stage.teacherCache.outputs[i].buffer,
                         stage.batch,
                         path + ".teacher_cache.outputs[" + std::to_string(i) +
                             "]");
    }
    stageGraphs.push_back(std::make_unique<BoundGraph>(
        stage.graph, stage.batch, *store, planPath, path, extra));
    stageGraphs.back()->keepRowMajor(stage.lossBuffer);
    for (const plan::CacheOutput &output : stage.teacherCache.outputs)
      stageGraphs.back()->keepRowMajor(output.buffer);
  }
  for (size_t e = 0; e < p.evaluations.size(); ++e) {
    const plan::EvaluationSpec &evaluation = p.evaluations[e];
    std::string path = "evaluations[" + std::to_string(e) + "]";
    checkInputs(evaluation.graph, evaluation.batch, evaluation.data, path);
    if (!plan::isLossEvaluation(evaluation)) // a loss is one value
      checkBatchBuffer(evaluation.graph, evaluation.outputBuffer,
                       evaluation.batch, path + ".output.buffer");
    evaluationGraphs.push_back(std::make_unique<BoundGraph>(
        evaluation.graph, evaluation.batch, *store, planPath, path));
    evaluationGraphs.back()->keepRowMajor(evaluation.outputBuffer);
  }
  teacherCache.resize(p.stages.size());
  return bindInferenceExports();
}

std::string Session::resolveInRun(const std::string &path) const {
  if (!path.empty() && path[0] == '/')
    return path;
  return (fs::path(options.runDirectory) / path).string();
}

void Session::progress(const ProgressEvent &event) {
  if (printer)
    printer->report(event);
  if (options.onProgress)
    options.onProgress(event);
}

Status Session::feed(BoundGraph &graph, const data::Batch &batch) {
  size_t view = 0;
  const plan::GraphSpec &spec = graph.spec();
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    const plan::InputSpec &input = spec.inputs[i];
    Tensor &target = graph.buffer(input.buffer);
    if (input.role == "label") {
      std::vector<float> labels(size_t(target.numElements()), 0.0f);
      for (size_t k = 0; k < batch.labels.size() && k < labels.size(); ++k)
        labels[k] = float(batch.labels[k]);
      KDRT_RETURN_IF_ERROR(device->copyIn(target.data(), labels.data(),
                                          labels.size() * sizeof(float)));
      continue;
    }
    const data::BatchView &values = batch.views.at(view++);
    if (int64_t(values.values.size()) != target.numElements())
      return Status::invalidArgument(
          "input " + std::to_string(i) + ": the batch holds " +
          std::to_string(values.values.size()) + " floats, buffer " +
          std::to_string(input.buffer) + " of shape " +
          target.shape().toString() + " " +
          std::to_string(target.numElements()));
    KDRT_RETURN_IF_ERROR(device->copyIn(target.data(), values.values.data(),
                                        values.values.size() * sizeof(float)));
  }
  return Status::success();
}

Status Session::run() {
  return guarded([&]() -> Status {
    const auto &stages = planSpec->stages;
    if (!options.stopAfterStage.empty() &&
        std::none_of(stages.begin(), stages.end(), [&](const auto &stage) {
          return stage.name == options.stopAfterStage;
        }))
      return Status::invalidArgument("the plan has no stage named '" +
                                     options.stopAfterStage +
                                     "' to stop after");
    runDir = std::make_unique<io::RunDirectory>(options.runDirectory);
    if (options.printProgress)
      printer = std::make_unique<ProgressPrinter>(stderr);
    finalReport = {{"plan", planPath},
                   {"producer", planSpec->producer},
                   {"spec", {{"file", planSpec->specFile},
                             {"sha256", planSpec->specSha256}}},
                   {"seed", seedValue},
                   {"backend", device->name()},
                   {"stages", json::array()},
                   {"evaluations", json::array()}};
    size_t first = 0;
    if (options.resume)
      KDRT_RETURN_IF_ERROR(resumeFromCheckpoint(first));
    for (size_t s = first; s < stages.size(); ++s) {
      StageOutcome outcome;
      outcome.stage = stages[s].name;
      outcome.stageIndex = int64_t(s);
      outcome.seed = seedValue;
      outcome.report = {{"name", stages[s].name}};
      KDRT_RETURN_IF_ERROR(runStage(s, outcome));
      KDRT_RETURN_IF_ERROR(
          afterStage(stages[s].name, s + 1 == stages.size(), outcome.report));
      // Last: the checkpoint's presence means the stage completed.
      KDRT_RETURN_IF_ERROR(writeCheckpoint(outcome));
      finalReport["stages"].push_back(outcome.report);
      if (stages[s].name == options.stopAfterStage &&
          s + 1 < stages.size()) {
        finalReport["stopped_after"] = stages[s].name;
        break;
      }
    }
    if (stages.empty()) {
      json none = json::object();
      KDRT_RETURN_IF_ERROR(afterStage("", true, none));
    }
    io::writeFileAtomically(runDir->pathOf("final.json"),
                            finalReport.dump(2) + "\n");
    return Status::success();
  });
}

Status Session::writeCheckpoint(const StageOutcome &outcome) {
  io::SafetensorsFile checkpoint;
  KDRT_RETURN_IF_ERROR(makeCheckpoint(*store, outcome, checkpoint));
  fs::create_directories(runDir->pathOf("checkpoints"));
  io::writeSafetensors(runDir->pathOf(checkpointPath(outcome.stage)),
                       checkpoint);
  return Status::success();
}

Status Session::resumeFromCheckpoint(size_t &next) {
  const auto &stages = planSpec->stages;
  next = 0;
  std::optional<LoadedCheckpoint> last;
  for (size_t s = 0; s < stages.size(); ++s) {
    std::string path = runDir->pathOf(checkpointPath(stages[s].name));
    if (!fs::exists(path))
      continue;
    LoadedCheckpoint checkpoint;
    KDRT_RETURN_IF_ERROR(readCheckpoint(io::readSafetensors(path), path,
                                        *store, checkpoint));
    const StageOutcome &outcome = checkpoint.outcome;
    if (outcome.stage != stages[s].name ||
        outcome.stageIndex != int64_t(s))
      return Status::invalidArgument(
          path + ": written for stage '" + outcome.stage + "' at index " +
          std::to_string(outcome.stageIndex) + ", the plan has '" +
          stages[s].name + "' at index " + std::to_string(s));
    if (outcome.seed != seedValue)
      return Status::invalidArgument(
          path + ": written by a run with seed " +
          std::to_string(outcome.seed) + ", this run has seed " +
          std::to_string(seedValue) + " (pass --seed " +
          std::to_string(outcome.seed) + " to continue it)");
    // The earlier stages' reports, so final.json covers the whole run.
    finalReport["stages"].push_back(outcome.report);
    for (const json &evaluation :
         outcome.report.value("evaluations", json::array()))
      finalReport["evaluations"].push_back(evaluation);
    next = s + 1;
    last = std::move(checkpoint);
  }
  if (!last) {
    runDir->appendMetrics({{"event", "resume"}, {"from_stage", nullptr}});
    return Status::success();
  }
  KDRT_RETURN_IF_ERROR(withContext(store->load(last->parameters, ""),
                                   checkpointPath(last->outcome.stage)));
  runDir->appendMetrics(
      {{"event", "resume"}, {"from_stage", last->outcome.stage}});
  finalReport["resumed_after"] = last->outcome.stage;
  return Status::success();
}

Status Session::runStage(size_t index, StageOutcome &outcome) {
  json &stageReport = outcome.report;
  const plan::StageSpec &stage = planSpec->stages[index];
  BoundGraph &graph = *stageGraphs[index];
  std::string where = "stage '" + stage.name + "'";
  std::shared_ptr<const data::ImageDataset> images =
      catalog->load(stage.data);
  bool needsLabels = false;
  for (const plan::InputSpec &input : stage.graph.inputs)
    needsLabels |= input.role == "label";
  if (needsLabels && !images->isLabeled())
    return Status::invalidArgument(where + ": split '" + stage.data.split +
                                   "' has no labels");

  const plan::DatasetSpec &dataset = catalog->dataset(stage.data.dataset);
  auto pipeline = std::make_shared<data::BatchPipeline>(
      images, pipelineOptions(dataset, catalog->split(stage.data), stage.graph,
                              stage.batch, mixSeed(seedValue, index),
                              /*shuffle=*/true, /*augment=*/true));
  int64_t perEpoch = pipeline->batchesPerEpoch();
  int64_t total = stage.epochs * perEpoch;
  if (options.maxSteps)
    total = std::min(total, std::max<int64_t>(*options.maxSteps, 0));

  // Values the stage starts from (a grafted student's teacher blocks).
  for (const auto &[from, to] : stage.copies)
    KDRT_RETURN_IF_ERROR(withContext(store->copyValue(from, to), where));

  KDRT_RETURN_IF_ERROR(measureEnsembleWeights(index, stageReport));
  KDRT_RETURN_IF_ERROR(graph.allocate(*device));
  bool recomputeTeacher = false;
  if (stage.teacherCache.mode == "cached")
    KDRT_RETURN_IF_ERROR(withContext(
        prepareTeacherCache(index, *images, stageReport, recomputeTeacher),
        where));

  // Optimizer groups over the trained parameters.
  std::vector<train::ParameterGroup> groups;
  for (const plan::OptimizerGroup &spec : stage.optimizer.groups) {
    train::ParameterGroup group;
    group.baseLearningRate = group.learningRate = spec.lr;
    group.weightDecay = spec.weightDecay;
    group.momentum = group.ownMomentum = spec.momentum;
    for (const std::string &name : spec.params) {
      Tensor &value = store->value(name);
      group.parameters.push_back(train::Parameter{
          name, value.data(), store->gradient(name).data(),
          size_t(value.numElements())});
    }
    if (!group.parameters.empty())
      groups.push_back(std::move(group));
  }
  std::unique_ptr<train::Optimizer> optimizer;
  const plan::OptimizerSpec &opt = stage.optimizer;
  if (!groups.empty()) {
    if (opt.kind == "sgd")
      optimizer = std::make_unique<train::Sgd>(
          std::move(groups), train::SgdOptions{opt.momentum, 0, opt.nesterov});
    else if (opt.kind == "adam")
      optimizer = std::make_unique<train::Adam>(
          std::move(groups), train::AdamOptions{opt.beta1, opt.beta2, opt.eps});
    else
      optimizer = std::make_unique<train::AdamW>(
          std::move(groups), train::AdamOptions{opt.beta1, opt.beta2, opt.eps});
  }
  const plan::ScheduleSpec &sched = stage.schedule;
  train::LearningRateSchedule schedule =
      sched.kind == "step"     ? train::LearningRateSchedule::stepDecay(
                                     sched.every, sched.gamma)
      : sched.kind == "cosine" ? train::LearningRateSchedule::cosine(sched.minLr)
      : sched.kind == "one_cycle"
          ? train::LearningRateSchedule::oneCycle(
                {sched.pctStart, sched.divFactor, sched.finalDivFactor,
                 sched.cycleMomentum, sched.baseMomentum, sched.maxMomentum})
          : train::LearningRateSchedule::constant();
  int64_t warmup = sched.warmupSteps;
  if (sched.warmupEpochs > 0 && stage.epochs > 0) {
    // Epochs of the uncapped schedule; a step cap shortens the schedule,
    // so the warm-up keeps its share of it, and at least one step is left
    // to the schedule after it.
    warmup += total < stage.epochs * perEpoch
                  ? std::max<int64_t>(sched.warmupEpochs * total / stage.epochs, 1)
                  : sched.warmupEpochs * perEpoch;
    warmup = std::min(warmup, total - 1);
  }
  if (warmup > 0)
    schedule = schedule.withWarmup(warmup);

  using Clock = std::chrono::steady_clock;
  auto start = Clock::now(), epochStart = start;
  int64_t step = 0, images_seen = 0, epochImages = 0, epochSteps = 0;
  double epochLoss = 0, lastLoss = 0, learningRate = 0;
  // Set when the schedule cycles the momentum (SGD) or beta1 (Adam).
  std::optional<double> momentum;
  OpContext context{device.get(), 0};
  if (total > 0) {
    data::BatchLoaderOptions loaderOptions;
    loaderOptions.epochs = stage.epochs;
    loaderOptions.workers = std::max(1, options.loaderWorkers);
    data::BatchLoader loader(pipeline, loaderOptions);
    while (step < total) {
      std::optional<data::Batch> batch = loader.next();
      if (!batch)
        break;
      int64_t count = int64_t(batch->sampleIndices.size());
      graph.setBatch(count);
      KDRT_RETURN_IF_ERROR(withContext(feed(graph, *batch), where));
      if (stage.teacherCache.mode == "cached")
        KDRT_RETURN_IF_ERROR(withContext(
            teacherOutputs(index, *batch, recomputeTeacher, context), where));
      KDRT_RETURN_IF_ERROR(store->zeroGradients());
      context.stepSeed = mixSeed(mixSeed(seedValue, index), uint64_t(step));
      KDRT_RETURN_IF_ERROR(graph.run(context));
      float loss = 0;
      KDRT_RETURN_IF_ERROR(device->copyOut(
          &loss, graph.buffer(stage.lossBuffer).data(), sizeof(float)));
      if (!std::isfinite(loss))
        return Status::invalidArgument(where + ": the loss is " +
                                       std::to_string(loss) + " at step " +
                                       std::to_string(step));
      if (optimizer) {
        optimizer->applySchedule(schedule, step, total);
        learningRate = optimizer->groups().front().learningRate;
        momentum = optimizer->groups().front().momentum;
        optimizer->step();
        for (const train::ParameterGroup &group : optimizer->groups())
          for (const train::Parameter &parameter : group.parameters)
            store->touch(parameter.name);
      }
      ++step;
      images_seen += count;
      epochImages += count;
      ++epochSteps;
      epochLoss += loss;
      lastLoss = loss;

      double elapsed =
          std::chrono::duration<double>(Clock::now() - epochStart).count();
      ProgressEvent event{stage.name, batch->epoch, stage.epochs, step, total,
                          loss, learningRate,
                          elapsed > 0 ? double(epochImages) / elapsed : 0,
                          false};
      bool epochEnd = step % perEpoch == 0 || step == total;
      auto logEvent = [&](const char *kind, double eventLoss) {
        json line = {{"event", kind},
                     {"stage", stage.name},
                     {"epoch", batch->epoch},
                     {"step", step},
                     {"loss", eventLoss},
                     {"lr", learningRate},
                     {"images_per_s", event.imagesPerSecond}};
        if (momentum)
          line["momentum"] = *momentum;
        runDir->appendMetrics(line);
      };
      if (step % std::max<int64_t>(options.logEvery, 1) == 0 || step == 1) {
        logEvent("step", loss);
        if (!epochEnd)
          progress(event);
      }
      if (epochEnd) {
        event.loss = epochLoss / double(epochSteps);
        event.epochEnd = true;
        logEvent("epoch", event.loss);
        progress(event);
        epochStart = Clock::now();
        epochImages = epochSteps = 0;
        epochLoss = 0;
      }
    }
  }
  if (printer)
    printer->finish();
  graph.release();
  if (optimizer) {
    outcome.optimizerKind = opt.kind;
    outcome.optimizerState = optimizer->exportState();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stageReport["steps"] = step;
  stageReport["images"] = images_seen;
  stageReport["seconds"] = seconds;
  stageReport["images_per_s"] = seconds > 0 ? double(images_seen) / seconds : 0;
  stageReport["final_loss"] = lastLoss;
  stageReport["peak_rss_bytes"] = peakResidentBytes();
  return Status::success();
}

Status Session::afterStage(const std::string &stageName, bool last,
                           json &stageReport) {
  auto due = [&](const std::string &afterStage) {
    return afterStage == stageName || (afterStage.empty() && last);
  };
  json evaluations = json::array();
  for (size_t e = 0; e < planSpec->evaluations.size(); ++e) {
    if (planSpec->evaluations[e].ensembleWeight ||
        !due(planSpec->evaluations[e].afterStage))
      continue;
    json result;
    KDRT_RETURN_IF_ERROR(runEvaluation(e, result));
    result["after_stage"] = stageName;
    evaluations.push_back(result);
    finalReport["evaluations"].push_back(result);
  }
  stageReport["evaluations"] = evaluations;
  for (size_t e = 0; e < planSpec->exports.size(); ++e) {
    const plan::ExportSpec &spec = planSpec->exports[e];
    if (!due(spec.afterStage))
      continue;
    KDRT_RETURN_IF_ERROR(spec.inference ? exportInferencePlan(e)
                                        : exportWeights(spec));
  }
  return Status::success();
}

Status Session::exportWeights(const plan::ExportSpec &spec) {
  io::SafetensorsFile file;
  KDRT_RETURN_IF_ERROR(store->snapshot(spec.params, true, file));
  file.metadata["model"] = spec.model;
  file.metadata["seed"] = std::to_string(seedValue);
  std::string path = resolveInRun(spec.path);
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty())
    fs::create_directories(parent);
  io::writeSafetensors(path, file);
  return Status::success();
}

Status Session::loadWeights(const std::string &path,
                            const std::string &prefix) {
  return guarded([&]() -> Status {
    io::SafetensorsFile file = io::readSafetensors(path);
    return withContext(store->load(file, prefix), path);
  });
}

} // namespace kdrt::exec

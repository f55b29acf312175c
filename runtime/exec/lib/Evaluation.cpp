//===- Evaluation.cpp - Evaluations and single-image inference ------------===//

#include "SessionSupport.h"
#include "kdrt/data/BatchLoader.h"
#include "kdrt/data/Splits.h"
#include "kdrt/exec/ClassificationMetrics.h"
#include "kdrt/exec/ProgressPrinter.h"
#include "kdrt/exec/Session.h"
#include "kdrt/io/RunDirectory.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace kdrt::exec {

using nlohmann::json;

Status Session::runEvaluation(size_t index, json &result) {
  const plan::EvaluationSpec &spec = planSpec->evaluations[index];
  std::string where = "evaluations[" + std::to_string(index) + "]";
  if (plan::isLossEvaluation(spec))
    return runLossEvaluation(index, result);
  BoundGraph &graph = *evaluationGraphs[index];
  std::shared_ptr<const data::ImageDataset> images = catalog->load(spec.data);
  if (!images->isLabeled())
    return Status::invalidArgument(where + ": split '" + spec.data.split +
                                   "' has no labels to evaluate against");
  const plan::DatasetSpec &dataset = catalog->dataset(spec.data.dataset);
  auto pipeline = std::make_shared<data::BatchPipeline>(
      images, pipelineOptions(dataset, catalog->split(spec.data), spec.graph,
                              spec.batch, seedValue, /*shuffle=*/false,
                              /*augment=*/false));
  const plan::BufferSpec &output = *spec.graph.findBuffer(spec.outputBuffer);
  int64_t classes = output.numElements() / spec.batch;
  ConfusionMatrix confusion(classes);
  KDRT_RETURN_IF_ERROR(graph.allocate(*device));
  OpContext context{device.get(), mixSeed(seedValue, 0xE7A1 + index)};
  data::BatchLoader loader(pipeline, data::BatchLoaderOptions{});
  std::vector<float> logits;
  while (std::optional<data::Batch> batch = loader.next()) {
    int64_t count = int64_t(batch->sampleIndices.size());
    graph.setBatch(count);
    KDRT_RETURN_IF_ERROR(withContext(feed(graph, *batch), where));
    KDRT_RETURN_IF_ERROR(graph.run(context));
    logits.resize(size_t(count * classes));
    KDRT_RETURN_IF_ERROR(device->copyOut(logits.data(),
                                         graph.buffer(spec.outputBuffer).data(),
                                         logits.size() * sizeof(float)));
    for (int64_t n = 0; n < count; ++n) {
      const float *row = logits.data() + n * classes;
      int64_t best = 0;
      for (int64_t k = 1; k < classes; ++k)
        if (row[k] > row[best])
          best = k;
      confusion.add(batch->labels[size_t(n)], best);
    }
  }
  graph.release();
  result = confusion.report(spec.metrics);
  result["model"] = spec.model;
  result["dataset"] = spec.data.dataset;
  result["split"] = spec.data.split;
  if (!spec.prediction.empty())
    result["using"] = spec.prediction;
  return Status::success();
}

Status Session::measureEnsembleWeights(size_t index, json &stageReport) {
  const std::string &stage = planSpec->stages[index].name;
  // parameter -> (ensemble, per member: model and accuracy).
  std::map<std::string, std::pair<std::string, std::vector<json>>> ensembles;
  for (size_t e = 0; e < planSpec->evaluations.size(); ++e) {
    const plan::EvaluationSpec &spec = planSpec->evaluations[e];
    if (!spec.ensembleWeight || spec.ensembleWeight->beforeStage != stage)
      continue;
    json result;
    KDRT_RETURN_IF_ERROR(runEvaluation(e, result));
    auto &[ensemble, members] = ensembles[spec.ensembleWeight->parameter];
    ensemble = spec.ensembleWeight->ensemble;
    size_t member = size_t(spec.ensembleWeight->member);
    if (members.size() <= member)
      members.resize(member + 1);
    members[member] = {{"model", spec.model},
                       {"dataset", spec.data.dataset},
                       {"split", spec.data.split},
                       {"accuracy", result.value("accuracy", 0.0)}};
  }
  for (auto &[parameter, entry] : ensembles) {
    auto &[ensemble, members] = entry;
    Tensor &weights = store->value(parameter);
    if (size_t(weights.numElements()) != members.size())
      return Status::invalidArgument(
          "ensemble '" + ensemble + "': " + std::to_string(members.size()) +
          " members measured for the " +
          std::to_string(weights.numElements()) + " weights of '" +
          parameter + "'");
    double total = 0;
    for (const json &m : members) {
      if (m.is_null())
        return Status::invalidArgument("ensemble '" + ensemble +
                                       "': a member has no evaluation");
      total += m["accuracy"].get<double>();
    }
    // No member right on a single image: none is preferred.
    std::vector<float> values;
    std::string text = "ensemble " + ensemble + " weights by accuracy on " +
                       members.front()["dataset"].get<std::string>() + "." +
                       members.front()["split"].get<std::string>() + ":";
    for (json &m : members) {
      double weight = total > 0 ? m["accuracy"].get<double>() / total
                                : 1.0 / double(members.size());
      m["weight"] = weight;
      values.push_back(float(weight));
      char part[160];
      std::snprintf(part, sizeof part, " %s %.4f (accuracy %.4f)",
                    m["model"].get<std::string>().c_str(), weight,
                    m["accuracy"].get<double>());
      text += part;
    }
    KDRT_RETURN_IF_ERROR(device->copyIn(weights.data(), values.data(),
                                        values.size() * sizeof(float)));
    json record = {{"ensemble", ensemble}, {"members", members}};
    runDir->appendMetrics({{"event", "ensemble_weights"},
                           {"stage", stage},
                           {"ensemble", ensemble},
                           {"members", members}});
    stageReport["ensemble_weights"].push_back(record);
    if (printer)
      printer->line(text);
  }
  return Status::success();
}

// A loss over the split: the program yields the batch's (batch-averaged)
// value, so the split's mean weighs each batch by its size.
Status Session::runLossEvaluation(size_t index, json &result) {
  const plan::EvaluationSpec &spec = planSpec->evaluations[index];
  BoundGraph &graph = *evaluationGraphs[index];
  std::string where = "evaluations[" + std::to_string(index) + "]";
  std::shared_ptr<const data::ImageDataset> images = catalog->load(spec.data);
  const plan::DatasetSpec &dataset = catalog->dataset(spec.data.dataset);
  auto pipeline = std::make_shared<data::BatchPipeline>(
      images, pipelineOptions(dataset, catalog->split(spec.data), spec.graph,
                              spec.batch, seedValue, /*shuffle=*/false,
                              /*augment=*/false));
  if (spec.graph.findBuffer(spec.outputBuffer)->numElements() != 1)
    return Status::invalidArgument(where + ": a \"mean\" evaluation's "
                                   "output must be one value");
  KDRT_RETURN_IF_ERROR(graph.allocate(*device));
  OpContext context{device.get(), mixSeed(seedValue, 0xE7A1 + index)};
  data::BatchLoader loader(pipeline, data::BatchLoaderOptions{});
  double sum = 0;
  int64_t imagesSeen = 0;
  while (std::optional<data::Batch> batch = loader.next()) {
    int64_t count = int64_t(batch->sampleIndices.size());
    graph.setBatch(count);
    KDRT_RETURN_IF_ERROR(withContext(feed(graph, *batch), where));
    KDRT_RETURN_IF_ERROR(graph.run(context));
    float value = 0;
    KDRT_RETURN_IF_ERROR(device->copyOut(
        &value, graph.buffer(spec.outputBuffer).data(), sizeof(float)));
    sum += double(value) * double(count);
    imagesSeen += count;
  }
  graph.release();
  result = {{"loss", spec.expression},
            {"value", imagesSeen ? sum / double(imagesSeen) : 0.0},
            {"images", imagesSeen},
            {"dataset", spec.data.dataset},
            {"split", spec.data.split}};
  return Status::success();
}

Status Session::evaluate(json &results) {
  return guarded([&]() -> Status {
    results = json::array();
    for (size_t e = 0; e < planSpec->evaluations.size(); ++e) {
      if (planSpec->evaluations[e].ensembleWeight)
        continue; // measures an ensemble member, not a result
      json result;
      KDRT_RETURN_IF_ERROR(runEvaluation(e, result));
      results.push_back(result);
    }
    return Status::success();
  });
}

Status Session::inferenceProgram(const std::string &model,
                                 size_t &index) const {
  // The model's own output first; an evaluation `using` another prediction
  // (an exit, a mean of exits) only when the plan has no other. Never a loss
  // evaluation (`evaluate LOSS on SPLIT`) nor an ensemble member's weight.
  for (bool ownOutput : {true, false})
    for (size_t e = 0; e < planSpec->evaluations.size(); ++e)
      if (!plan::isLossEvaluation(planSpec->evaluations[e]) && !planSpec->evaluations[e].ensembleWeight &&
          (model.empty() || planSpec->evaluations[e].model == model) &&
          (!ownOutput || planSpec->evaluations[e].prediction.empty())) {
        index = e;
        return Status::success();
      }
  return Status::invalidArgument(
      "infer: the plan has no inference program" +
      (model.empty() ? std::string() : " for model '" + model + "'") +
      " (an evaluation of the model provides it)");
}

Status Session::infer(const std::string &model, const uint8_t *pixels,
                      int64_t channels, int64_t height, int64_t width,
                      std::vector<float> &probabilities,
                      std::vector<float> *logitsOut) {
  return guarded([&]() -> Status {
    if (!pixels || (channels != 1 && channels != 3) || height <= 0 ||
        width <= 0)
      return Status::invalidArgument(
          "infer: expected 1 or 3 channels and a positive size");
    size_t index = 0;
    KDRT_RETURN_IF_ERROR(inferenceProgram(model, index));
    const plan::EvaluationSpec &spec = planSpec->evaluations[index];
    const plan::DatasetSpec &dataset = catalog->dataset(spec.data.dataset);

    // Interleaved pixels -> one planar image conformed to the dataset.
    data::ImageDataset image;
    image.count = 1;
    image.channels = channels;
    image.height = height;
    image.width = width;
    image.pixels.resize(size_t(channels * height * width));
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < height * width; ++i)
        image.pixels[size_t(c * height * width + i)] =
            pixels[size_t(i * channels + c)];
    image = data::conformImages(image, dataset.channels, dataset.height,
                                dataset.width);
    data::BatchPipeline pipeline(
        std::make_shared<const data::ImageDataset>(std::move(image)),
        pipelineOptions(dataset, catalog->split(spec.data), spec.graph, 1,
                        seedValue, /*shuffle=*/false, /*augment=*/false));
    data::Batch batch = pipeline.makeBatch(0, 0);

    BoundGraph &graph = *evaluationGraphs[index];
    KDRT_RETURN_IF_ERROR(graph.allocate(*device));
    graph.setBatch(1);
    KDRT_RETURN_IF_ERROR(withContext(feed(graph, batch), "infer"));
    OpContext context{device.get(), 0};
    KDRT_RETURN_IF_ERROR(graph.run(context));
    Tensor &output = graph.buffer(spec.outputBuffer);
    std::vector<float> logits(size_t(output.numElements()));
    KDRT_RETURN_IF_ERROR(device->copyOut(logits.data(), output.data(),
                                         logits.size() * sizeof(float)));
    graph.release();
    if (logitsOut)
      *logitsOut = logits;
    // Softmax with the maximum subtracted, so large logits stay finite.
    float largest = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    probabilities.resize(logits.size());
    for (size_t k = 0; k < logits.size(); ++k)
      sum += probabilities[k] = std::exp(logits[k] - largest);
    for (float &p : probabilities)
      p = float(p / sum);
    return Status::success();
  });
}

} // namespace kdrt::exec

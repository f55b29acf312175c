//===- InferenceBenchmark.cpp - Timing a model's inference ----------------===//

#include "kdrt/exec/InferenceBenchmark.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace kdrt::exec {

namespace {

using Clock = std::chrono::steady_clock;

/// Wall times in milliseconds of `runs` calls, after `warmup` untimed ones.
template <typename Call>
Status timeCalls(int64_t runs, int64_t warmup, std::vector<double> &times,
                 Call &&call) {
  for (int64_t i = 0; i < warmup; ++i)
    KDRT_RETURN_IF_ERROR(call());
  times.clear();
  for (int64_t i = 0; i < runs; ++i) {
    auto start = Clock::now();
    KDRT_RETURN_IF_ERROR(call());
    times.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  return Status::success();
}

double median(const std::vector<double> &sorted) {
  size_t n = sorted.size();
  return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

} // namespace

Status benchmarkInference(Session &session,
                          const InferenceBenchmarkOptions &options,
                          InferenceBenchmarkResult &result) {
  if (options.runs < 1 || options.batches < 1 || options.largeBatch < 1 ||
      options.warmup < 0)
    return Status::invalidArgument("benchmark: runs, batches and the large "
                                   "batch must be positive, warm-up not "
                                   "negative");
  KDRT_RETURN_IF_ERROR(session.inferenceShape(options.model, result.shape));
  const Session::InferenceShape &shape = result.shape;
  const int64_t perImage = shape.channels * shape.height * shape.width;

  std::mt19937_64 rng(options.inputSeed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> many(size_t(options.largeBatch * perImage));
  for (float &value : many)
    value = normal(rng);

  // Consistency: the first and the last image alone against the batch.
  std::vector<float> batchLogits, oneLogits;
  KDRT_RETURN_IF_ERROR(session.inferBatch(options.model, many.data(),
                                          options.largeBatch, batchLogits));
  double worst = 0;
  for (int64_t image : {int64_t(0), options.largeBatch - 1}) {
    KDRT_RETURN_IF_ERROR(session.inferBatch(
        options.model, many.data() + image * perImage, 1, oneLogits));
    for (int64_t k = 0; k < shape.classes; ++k) {
      double inBatch = batchLogits[size_t(image * shape.classes + k)];
      double alone = oneLogits[size_t(k)];
      double difference =
          std::fabs(alone - inBatch) / std::max(1.0, std::fabs(inBatch));
      if (!(difference <= worst)) // also catches NaN
        worst = std::isnan(difference) ? INFINITY : difference;
    }
  }
  result.batchConsistencyDifference = worst;
  if (!(worst <= options.tolerance))
    return Status::internal(
        "benchmark: an image's logits at batch 1 differ from its logits at "
        "batch " + std::to_string(options.largeBatch) + " by " +
        std::to_string(worst) + " (relative), more than the tolerance " +
        std::to_string(options.tolerance));

  std::vector<double> times;
  KDRT_RETURN_IF_ERROR(timeCalls(options.runs, options.warmup, times, [&] {
    return session.inferBatch(options.model, many.data(), 1, oneLogits);
  }));
  result.latencyMedianMs = median(times);
  result.latencyP90Ms = times[size_t(0.9 * double(times.size() - 1))];
  KDRT_RETURN_IF_ERROR(timeCalls(
      options.batches, std::max<int64_t>(1, options.warmup / 10), times, [&] {
        return session.inferBatch(options.model, many.data(),
                                  options.largeBatch, batchLogits);
      }));
  result.largeBatchMedianMs = median(times);
  result.throughputImagesPerSecond =
      result.largeBatchMedianMs > 0
          ? double(options.largeBatch) / (result.largeBatchMedianMs / 1e3)
          : 0;
  return Status::success();
}

} // namespace kdrt::exec

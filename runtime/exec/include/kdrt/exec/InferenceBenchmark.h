//===- InferenceBenchmark.h - Timing a model's inference --------*- C++ -*-===//
//
// Measures what the benchmark (docs/bench.md) compares with PyTorch: the
// median latency of one batch-1 forward after warm-up and the throughput of
// batch-256 forwards, on synthetic standard-normal inputs of the inference
// program's input shape (the same kind of input bench/pytorch/infer.py
// times). Before timing, it checks that the two batch sizes compute the
// same function: an image's logits at batch 1 must equal its logits inside
// the large batch, or the figures would time something else.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_INFERENCEBENCHMARK_H
#define KDRT_EXEC_INFERENCEBENCHMARK_H

#include "kdrt/exec/Session.h"

namespace kdrt::exec {

struct InferenceBenchmarkOptions {
  /// Empty: the first evaluated model.
  std::string model;
  /// Timed batch-1 forwards, after `warmup` untimed ones.
  int64_t runs = 200;
  int64_t warmup = 20;
  /// Timed large-batch forwards, after max(1, warmup / 10) untimed ones.
  int64_t batches = 10;
  int64_t largeBatch = 256;
  /// The largest accepted |batch-1 logit - large-batch logit|, relative to
  /// max(1, |logit|).
  double tolerance = 1e-4;
  uint64_t inputSeed = 0;
};

struct InferenceBenchmarkResult {
  Session::InferenceShape shape;
  double latencyMedianMs = 0;
  double latencyP90Ms = 0;
  double largeBatchMedianMs = 0;
  double throughputImagesPerSecond = 0;
  /// The largest relative difference seen by the consistency check.
  double batchConsistencyDifference = 0;
};

/// Checks and times `session`'s inference; an inconsistency between the
/// batch sizes is an error (StatusCode::Internal) naming the difference.
Status benchmarkInference(Session &session,
                          const InferenceBenchmarkOptions &options,
                          InferenceBenchmarkResult &result);

} // namespace kdrt::exec

#endif // KDRT_EXEC_INFERENCEBENCHMARK_H

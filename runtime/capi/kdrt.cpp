//===- kdrt.cpp - The C API over the C++ session ---------------------------===//
//
// Each entry translates handles and options, calls the C++ runtime, and
// turns any Status or stray exception into a status code plus a per-thread
// error message. Nothing is validated twice: the C++ side checks, this
// side only translates.
//
//===----------------------------------------------------------------------===//

#include "kdrt/kdrt.h"
#include "kdrt/exec/InferenceBenchmark.h"
#include "kdrt/exec/Session.h"
#include "kdrt/plan/PlanIo.h"

#include <cstring>
#include <memory>
#include <string>

struct kdrt_plan {
  std::shared_ptr<const kdrt::plan::Plan> plan;
  std::string path;
};

struct kdrt_session {
  std::unique_ptr<kdrt::exec::Session> session;
  std::string evaluationReport;
};

namespace {

thread_local std::string lastError;

kdrt_status fail(kdrt_status status, const std::string &message) {
  lastError = message;
  return status;
}

kdrt_status translate(const kdrt::Status &status) {
  if (status.ok())
    return KDRT_OK;
  return fail(static_cast<kdrt_status>(status.code()), status.message());
}

/// Runs `body`; an exception that reaches here is a bug, still reported.
template <typename Body> kdrt_status guarded(Body &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail(KDRT_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception &error) {
    return fail(KDRT_INTERNAL, error.what());
  } catch (...) {
    return fail(KDRT_INTERNAL, "unknown error");
  }
}

} // namespace

extern "C" {

const char *kdrt_status_message(kdrt_status status) {
  switch (status) {
  case KDRT_OK:
    return "ok";
  case KDRT_INVALID_ARGUMENT:
    return "invalid argument";
  case KDRT_OUT_OF_MEMORY:
    return "out of memory";
  case KDRT_UNIMPLEMENTED:
    return "unimplemented";
  case KDRT_INTERNAL:
    return "internal error";
  }
  return "unknown status";
}

const char *kdrt_last_error(void) { return lastError.c_str(); }

const char *kdrt_version(void) { return KDRT_VERSION; }

kdrt_status kdrt_plan_load(const char *path, kdrt_plan **plan) {
  if (!path || !plan)
    return fail(KDRT_INVALID_ARGUMENT, "kdrt_plan_load: null argument");
  *plan = nullptr;
  return guarded([&] {
    try {
      auto loaded = std::make_unique<kdrt_plan>();
      loaded->plan = std::make_shared<const kdrt::plan::Plan>(
          kdrt::plan::readPlan(path));
      loaded->path = path;
      *plan = loaded.release();
      return KDRT_OK;
    } catch (const kdrt::plan::PlanError &error) {
      return fail(KDRT_INVALID_ARGUMENT, error.what());
    }
  });
}

void kdrt_plan_release(kdrt_plan *plan) { delete plan; }

void kdrt_session_options_init(kdrt_session_options *options) {
  if (!options)
    return;
  std::memset(options, 0, sizeof *options);
  options->print_progress = 1;
}

kdrt_status kdrt_session_create(const kdrt_plan *plan,
                                const kdrt_session_options *options,
                                kdrt_session **session) {
  if (!plan || !session)
    return fail(KDRT_INVALID_ARGUMENT, "kdrt_session_create: null argument");
  *session = nullptr;
  return guarded([&] {
    kdrt_session_options defaults;
    kdrt_session_options_init(&defaults);
    const kdrt_session_options &in = options ? *options : defaults;
    kdrt::exec::RunOptions run;
    run.backend = in.backend ? in.backend : "";
    run.threads = in.threads;
    if (in.override_seed)
      run.seed = in.seed;
    if (in.max_steps > 0)
      run.maxSteps = in.max_steps;
    if (in.run_directory)
      run.runDirectory = in.run_directory;
    run.printProgress = in.print_progress != 0;
    run.resume = in.resume != 0;
    if (in.stop_after_stage)
      run.stopAfterStage = in.stop_after_stage;
    if (in.progress) {
      kdrt_progress_callback callback = in.progress;
      void *user = in.progress_user_data;
      run.onProgress = [callback, user](const kdrt::exec::ProgressEvent &e) {
        kdrt_progress report{e.stage.c_str(), e.epoch,        e.epochs,
                             e.step,          e.totalSteps,   e.loss,
                             e.learningRate,  e.imagesPerSecond,
                             e.epochEnd ? 1 : 0};
        callback(&report, user);
      };
    }
    auto created = std::make_unique<kdrt_session>();
    kdrt_status status = translate(kdrt::exec::Session::create(
        plan->plan, plan->path, std::move(run), created->session));
    if (status == KDRT_OK)
      *session = created.release();
    return status;
  });
}

void kdrt_session_release(kdrt_session *session) { delete session; }

kdrt_status kdrt_session_run(kdrt_session *session) {
  if (!session)
    return fail(KDRT_INVALID_ARGUMENT, "kdrt_session_run: null session");
  return guarded([&] { return translate(session->session->run()); });
}

kdrt_status kdrt_session_evaluate(kdrt_session *session,
                                  const char **json_report) {
  if (!session || !json_report)
    return fail(KDRT_INVALID_ARGUMENT, "kdrt_session_evaluate: null argument");
  return guarded([&] {
    nlohmann::json results;
    kdrt_status status = translate(session->session->evaluate(results));
    if (status == KDRT_OK) {
      session->evaluationReport = results.dump();
      *json_report = session->evaluationReport.c_str();
    }
    return status;
  });
}

kdrt_status kdrt_session_load_weights(kdrt_session *session, const char *path,
                                      const char *prefix) {
  if (!session || !path)
    return fail(KDRT_INVALID_ARGUMENT,
                "kdrt_session_load_weights: null argument");
  return guarded([&] {
    return translate(
        session->session->loadWeights(path, prefix ? prefix : ""));
  });
}

namespace {

kdrt_status inferOne(kdrt_session *session, const char *model,
                     const uint8_t *pixels, int64_t channels, int64_t height,
                     int64_t width, float *values, size_t capacity,
                     size_t *num_classes, bool logits) {
  if (!session || !pixels || !num_classes)
    return fail(KDRT_INVALID_ARGUMENT, "kdrt_infer: null argument");
  return guarded([&] {
    std::vector<float> probabilities, rawLogits;
    kdrt_status status = translate(session->session->infer(
        model ? model : "", pixels, channels, height, width, probabilities,
        &rawLogits));
    if (status != KDRT_OK)
      return status;
    const std::vector<float> &result = logits ? rawLogits : probabilities;
    *num_classes = result.size();
    if (values)
      std::memcpy(values, result.data(),
                  std::min(capacity, result.size()) * sizeof(float));
    return KDRT_OK;
  });
}

} // namespace

kdrt_status kdrt_infer(kdrt_session *session, const char *model,
                       const uint8_t *pixels, int64_t channels,
                       int64_t height, int64_t width, float *probabilities,
                       size_t capacity, size_t *num_classes) {
  return inferOne(session, model, pixels, channels, height, width,
                  probabilities, capacity, num_classes, false);
}

kdrt_status kdrt_infer_logits(kdrt_session *session, const char *model,
                              const uint8_t *pixels, int64_t channels,
                              int64_t height, int64_t width, float *logits,
                              size_t capacity, size_t *num_classes) {
  return inferOne(session, model, pixels, channels, height, width, logits,
                  capacity, num_classes, true);
}

kdrt_status kdrt_inference_shape(kdrt_session *session, const char *model,
                                 int64_t *channels, int64_t *height,
                                 int64_t *width, int64_t *num_classes,
                                 int64_t *program_batch) {
  if (!session)
    return fail(KDRT_INVALID_ARGUMENT, "kdrt_inference_shape: null session");
  return guarded([&] {
    kdrt::exec::Session::InferenceShape shape;
    kdrt_status status = translate(
        session->session->inferenceShape(model ? model : "", shape));
    if (status != KDRT_OK)
      return status;
    for (auto [to, from] : {std::pair{channels, shape.channels},
                            {height, shape.height},
                            {width, shape.width},
                            {num_classes, shape.classes},
                            {program_batch, shape.programBatch}})
      if (to)
        *to = from;
    return KDRT_OK;
  });
}

kdrt_status kdrt_infer_batch(kdrt_session *session, const char *model,
                             const float *images, int64_t count,
                             float *logits, size_t capacity) {
  if (!session || !images || !logits)
    return fail(KDRT_INVALID_ARGUMENT, "kdrt_infer_batch: null argument");
  return guarded([&] {
    std::vector<float> result;
    kdrt_status status = translate(session->session->inferBatch(
        model ? model : "", images, count, result));
    if (status != KDRT_OK)
      return status;
    if (capacity < result.size())
      return fail(KDRT_INVALID_ARGUMENT,
                  "kdrt_infer_batch: the logits need " +
                      std::to_string(result.size()) + " floats, capacity " +
                      std::to_string(capacity));
    std::memcpy(logits, result.data(), result.size() * sizeof(float));
    return KDRT_OK;
  });
}

void kdrt_benchmark_options_init(kdrt_benchmark_options *options) {
  if (!options)
    return;
  kdrt::exec::InferenceBenchmarkOptions defaults;
  options->runs = defaults.runs;
  options->warmup = defaults.warmup;
  options->batches = defaults.batches;
  options->large_batch = defaults.largeBatch;
}

kdrt_status kdrt_benchmark_inference(kdrt_session *session, const char *model,
                                     const kdrt_benchmark_options *options,
                                     kdrt_benchmark_result *result) {
  if (!session || !result)
    return fail(KDRT_INVALID_ARGUMENT,
                "kdrt_benchmark_inference: null argument");
  return guarded([&] {
    kdrt::exec::InferenceBenchmarkOptions settings;
    settings.model = model ? model : "";
    if (options) {
      settings.runs = options->runs;
      settings.warmup = options->warmup;
      settings.batches = options->batches;
      settings.largeBatch = options->large_batch;
    }
    kdrt::exec::InferenceBenchmarkResult measured;
    kdrt_status status = translate(kdrt::exec::benchmarkInference(
        *session->session, settings, measured));
    // The consistency figure is reported even when the check failed.
    result->batch_difference = measured.batchConsistencyDifference;
    if (status != KDRT_OK)
      return status;
    result->latency_b1_ms = measured.latencyMedianMs;
    result->latency_b1_p90_ms = measured.latencyP90Ms;
    result->large_batch_ms = measured.largeBatchMedianMs;
    result->throughput_images_per_s = measured.throughputImagesPerSecond;
    result->program_batch = measured.shape.programBatch;
    return KDRT_OK;
  });
}

} // extern "C"

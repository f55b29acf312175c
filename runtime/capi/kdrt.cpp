//===- kdrt.cpp - The C API over the C++ session ---------------------------===//
//
// Each entry translates handles and options, calls the C++ runtime, and
// turns any Status or stray exception into a status code plus a per-thread
// error message. Nothing is validated twice: the C++ side checks, this
// side only translates.
//
//===----------------------------------------------------------------------===//

#include "kdrt/kdrt.h"
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

kdrt_status kdrt_infer(kdrt_session *session, const char *model,
                       const uint8_t *pixels, int64_t channels,
                       int64_t height, int64_t width, float *probabilities,
                       size_t capacity, size_t *num_classes) {
  if (!session || !pixels || !num_classes)
    return fail(KDRT_INVALID_ARGUMENT, "kdrt_infer: null argument");
  return guarded([&] {
    std::vector<float> result;
    kdrt_status status = translate(session->session->infer(
        model ? model : "", pixels, channels, height, width, result));
    if (status != KDRT_OK)
      return status;
    *num_classes = result.size();
    if (probabilities)
      std::memcpy(probabilities, result.data(),
                  std::min(capacity, result.size()) * sizeof(float));
    return KDRT_OK;
  });
}

} // extern "C"

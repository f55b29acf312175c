/*===- kdrt.h - The public C API of the kdc runtime -----------------------===*
 *
 * Loads a compiled .kdx plan and runs it. Plain C: opaque handles, a status
 * code on every call, explicit ownership (every object created by a
 * *_load / *_create call is freed by its *_release). No exception or other
 * C++ construct crosses this boundary.
 *
 * Errors: a call that fails returns a non-zero kdrt_status; the message of
 * the last failure on the calling thread is kdrt_last_error(). Status codes
 * match kdrt::StatusCode one to one.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KDRT_KDRT_H
#define KDRT_KDRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kdrt_status {
  KDRT_OK = 0,
  KDRT_INVALID_ARGUMENT = 1,
  KDRT_OUT_OF_MEMORY = 2,
  KDRT_UNIMPLEMENTED = 3,
  KDRT_INTERNAL = 4
} kdrt_status;

/* A short English name of a status code ("invalid argument"). */
const char *kdrt_status_message(kdrt_status status);
/* The message of the last failed call on this thread ("" if none). Valid
 * until the next kdrt call on the same thread. */
const char *kdrt_last_error(void);
/* The runtime's version, "major.minor.patch". */
const char *kdrt_version(void);

typedef struct kdrt_plan kdrt_plan;
typedef struct kdrt_session kdrt_session;

/* Reads and validates a plan file. On success *plan owns it. */
kdrt_status kdrt_plan_load(const char *path, kdrt_plan **plan);
/* Frees a plan; NULL is a no-op. A session keeps its own reference, so a
 * plan may be released while sessions created from it live on. */
void kdrt_plan_release(kdrt_plan *plan);

/* One progress report: per logged step and per epoch end. */
typedef struct kdrt_progress {
  const char *stage;
  int64_t epoch;
  int64_t epochs;
  int64_t step;
  int64_t total_steps;
  double loss;
  double learning_rate;
  double images_per_second;
  int epoch_end;
} kdrt_progress;

typedef void (*kdrt_progress_callback)(const kdrt_progress *progress,
                                       void *user_data);

typedef struct kdrt_session_options {
  /* "reference" or "onednn"; NULL picks the default (oneDNN when built). */
  const char *backend;
  /* Backend threads; 0 = one per core. */
  int threads;
  /* Non-zero: use `seed` instead of the plan's seed. */
  int override_seed;
  uint64_t seed;
  /* > 0: at most this many optimizer steps per stage. */
  int64_t max_steps;
  /* Run directory (metrics, checkpoints, exports); NULL = "run". */
  const char *run_directory;
  /* Non-zero: print progress on stderr (a bar on a terminal). */
  int print_progress;
  /* Optional; called on the thread running kdrt_session_run. */
  kdrt_progress_callback progress;
  void *progress_user_data;
  /* Non-zero: kdrt_session_run continues the run in run_directory from the
   * checkpoint of its last completed stage (from the start if none). */
  int resume;
  /* Non-NULL: kdrt_session_run stops once this stage has completed. */
  const char *stop_after_stage;
} kdrt_session_options;

/* Fills `options` with the defaults. */
void kdrt_session_options_init(kdrt_session_options *options);

/* Creates a session: backend, parameters initialised, every op bound. */
kdrt_status kdrt_session_create(const kdrt_plan *plan,
                                const kdrt_session_options *options,
                                kdrt_session **session);
void kdrt_session_release(kdrt_session *session);

/* Runs every stage, evaluation and export; writes final.json. */
kdrt_status kdrt_session_run(kdrt_session *session);

/* Runs every evaluation on the current weights. On success *json_report is
 * a JSON array (one object per evaluation) owned by the session, valid
 * until the next call on it. */
kdrt_status kdrt_session_evaluate(kdrt_session *session,
                                  const char **json_report);

/* Loads safetensors weights; each tensor goes to parameter
 * `prefix + name` (prefix "S/" for an export of model S; NULL = ""). */
kdrt_status kdrt_session_load_weights(kdrt_session *session,
                                      const char *path, const char *prefix);

/* Class probabilities of one image: `pixels` are height x width x channels
 * interleaved 8-bit values (channels 1 or 3), resized and normalised as the
 * plan's dataset declares. `model` names the model (NULL: the first
 * evaluated one). Writes up to `capacity` probabilities and the number of
 * classes to *num_classes. */
kdrt_status kdrt_infer(kdrt_session *session, const char *model,
                       const uint8_t *pixels, int64_t channels,
                       int64_t height, int64_t width, float *probabilities,
                       size_t capacity, size_t *num_classes);

/* As kdrt_infer, but writes the logits the probabilities come from. */
kdrt_status kdrt_infer_logits(kdrt_session *session, const char *model,
                              const uint8_t *pixels, int64_t channels,
                              int64_t height, int64_t width, float *logits,
                              size_t capacity, size_t *num_classes);

/* The input and output of a model's inference program (model NULL: the
 * first evaluated one): images are channels x height x width floats,
 * normalised as the program expects; it was compiled for batch
 * *program_batch. Any pointer may be NULL. */
kdrt_status kdrt_inference_shape(kdrt_session *session, const char *model,
                                 int64_t *channels, int64_t *height,
                                 int64_t *width, int64_t *num_classes,
                                 int64_t *program_batch);

/* Logits of `count` prepared images (count x C x H x W floats as
 * kdrt_inference_shape gives them), any count: the program runs in slices
 * of its batch. Writes up to `capacity` floats (count x classes). */
kdrt_status kdrt_infer_batch(kdrt_session *session, const char *model,
                             const float *images, int64_t count,
                             float *logits, size_t capacity);

typedef struct kdrt_benchmark_options {
  int64_t runs;        /* timed batch-1 forwards (default 200) */
  int64_t warmup;      /* untimed forwards first (default 20) */
  int64_t batches;     /* timed large-batch forwards (default 10) */
  int64_t large_batch; /* default 256 */
} kdrt_benchmark_options;

void kdrt_benchmark_options_init(kdrt_benchmark_options *options);

typedef struct kdrt_benchmark_result {
  double latency_b1_ms;     /* median of the batch-1 forwards */
  double latency_b1_p90_ms;
  double large_batch_ms;    /* median of the large-batch forwards */
  double throughput_images_per_s;
  /* The largest relative difference between an image's logits at batch 1
   * and inside the large batch (checked before timing). */
  double batch_difference;
  int64_t program_batch;
} kdrt_benchmark_result;

/* Times a model's inference on synthetic inputs (docs/bench.md). Fails if
 * batch 1 and the large batch disagree. */
kdrt_status kdrt_benchmark_inference(kdrt_session *session, const char *model,
                                     const kdrt_benchmark_options *options,
                                     kdrt_benchmark_result *result);

#ifdef __cplusplus
}
#endif

#endif /* KDRT_KDRT_H */

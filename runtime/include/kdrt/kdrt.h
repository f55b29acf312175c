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

#ifdef __cplusplus
}
#endif

#endif /* KDRT_KDRT_H */

/*===- CapiTest.c - The C API used from C ---------------------------------===*
 *
 * Compiled as C: if kdrt.h used any C++ construct, this would not build.
 * Returns 0 on success or the number of the failed check.
 *
 *===----------------------------------------------------------------------===*/

#include "kdrt/kdrt.h"

#include <math.h>
#include <string.h>

static int progressCalls;

static void countProgress(const kdrt_progress *progress, void *user) {
  (void)progress;
  *(int *)user += 1;
}

int kdrtCapiTrainAndInfer(const char *planPath, const char *runDirectory) {
  kdrt_plan *plan = NULL;
  kdrt_session *session = NULL;
  kdrt_session_options options;
  const char *report = NULL;
  unsigned char pixels[8 * 8];
  float probabilities[4];
  size_t classes = 0;
  int x, y, result = 0;

  if (kdrt_plan_load(planPath, &plan) != KDRT_OK)
    return 1;
  kdrt_session_options_init(&options);
  options.backend = "reference";
  options.run_directory = runDirectory;
  options.print_progress = 0;
  options.progress = countProgress;
  options.progress_user_data = &progressCalls;
  if (kdrt_session_create(plan, &options, &session) != KDRT_OK) {
    kdrt_plan_release(plan);
    return 2;
  }
  /* The session keeps its own reference to the plan. */
  kdrt_plan_release(plan);
  if (kdrt_session_run(session) != KDRT_OK)
    result = 3;
  else if (progressCalls == 0)
    result = 4;
  else if (kdrt_session_evaluate(session, &report) != KDRT_OK ||
           strstr(report, "\"accuracy\"") == NULL)
    result = 5;
  if (result == 0) {
    /* A "left" image: bright left half. */
    for (y = 0; y < 8; ++y)
      for (x = 0; x < 8; ++x)
        pixels[y * 8 + x] = x < 4 ? 220 : 10;
    if (kdrt_infer(session, "S", pixels, 1, 8, 8, probabilities, 4,
                   &classes) != KDRT_OK || classes != 2)
      result = 6;
    else if (fabsf(probabilities[0] + probabilities[1] - 1.0f) > 1e-4f ||
             probabilities[0] <= 0.5f)
      result = 7;
  }
  kdrt_session_release(session);
  return result;
}

int kdrtCapiRejectsBadInput(const char *missingPath) {
  kdrt_plan *plan = NULL;
  kdrt_status status = kdrt_plan_load(missingPath, &plan);
  if (status != KDRT_INVALID_ARGUMENT || plan != NULL)
    return 1;
  if (strstr(kdrt_last_error(), missingPath) == NULL)
    return 2;
  if (kdrt_plan_load(NULL, &plan) != KDRT_INVALID_ARGUMENT)
    return 3;
  if (kdrt_session_run(NULL) != KDRT_INVALID_ARGUMENT)
    return 4;
  if (strcmp(kdrt_status_message(KDRT_OUT_OF_MEMORY), "out of memory") != 0)
    return 5;
  kdrt_plan_release(NULL);
  kdrt_session_release(NULL);
  return 0;
}

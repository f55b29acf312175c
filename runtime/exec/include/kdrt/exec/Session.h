//===- Session.h - Running a plan -------------------------------*- C++ -*-===//
//
// A session owns a backend, the parameter store and the bound graphs of one
// plan. run() executes the stages in order: per stage, a background batch
// loader feeds the inputs, the teacher cache (if any) is filled or read,
// every step zeroes the gradients, runs the program, and applies the
// optimizer with the scheduled learning rate; after the stage, its
// checkpoint, evaluations and exports are written. Everything is reported
// in the run directory (metrics.jsonl, final.json).
//
// Nothing throws out of a session: errors of the data, io and train
// libraries come back as a Status.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_SESSION_H
#define KDRT_EXEC_SESSION_H

#include "kdrt/exec/BoundGraph.h"
#include "kdrt/exec/Checkpoint.h"
#include "kdrt/exec/DataCatalog.h"
#include "kdrt/exec/ParameterStore.h"
#include "kdrt/exec/RunOptions.h"
#include "kdrt/plan/PlanFormat.h"

#include <nlohmann/json.hpp>

#include <memory>

namespace kdrt::io {
class RunDirectory;
}

namespace kdrt::exec {

class ProgressPrinter;

class Session {
public:
  /// Creates the backend, initialises the parameters and binds every op of
  /// the plan. `planPath` names the plan in errors and anchors relative
  /// dataset paths.
  static Status create(std::shared_ptr<const plan::Plan> plan,
                       const std::string &planPath, RunOptions options,
                       std::unique_ptr<Session> &session);
  ~Session();

  /// Runs every stage with its evaluations and exports; writes final.json.
  /// With options.resume, first loads the checkpoint of the last completed
  /// stage in the run directory and runs only the stages after it.
  Status run();
  /// Runs every evaluation now (on the current parameters) into `results`,
  /// an array with one object per evaluation.
  Status evaluate(nlohmann::json &results);
  /// Loads weights; names are `prefix + tensor name` (e.g. prefix "S/" for
  /// an export of model S).
  Status loadWeights(const std::string &path, const std::string &prefix);
  /// Class probabilities of one image (interleaved 8-bit pixels, 1 or 3
  /// channels, any size) through the inference program of `model`'s first
  /// evaluation (empty model: the first evaluation).
  /// `logits`, when given, receives the logits the probabilities come from.
  Status infer(const std::string &model, const uint8_t *pixels,
               int64_t channels, int64_t height, int64_t width,
               std::vector<float> &probabilities,
               std::vector<float> *logits = nullptr);

  /// The input and output of `model`'s inference program.
  struct InferenceShape {
    int64_t channels = 0, height = 0, width = 0;
    int64_t classes = 0;
    /// The batch B the program was compiled for.
    int64_t programBatch = 0;
  };
  Status inferenceShape(const std::string &model, InferenceShape &shape);
  /// Logits (count x classes) of `count` images given as normalised NCHW
  /// floats of the program's input shape. The program runs in slices of
  /// its batch B, the last one shorter (batch buffers lead with n < B), so
  /// any count works on a program compiled for a fixed batch. The program's
  /// arena stays allocated between calls, as an inference server keeps it.
  Status inferBatch(const std::string &model, const float *images,
                    int64_t count, std::vector<float> &logits);

  /// What run() reported (also written to final.json).
  const nlohmann::json &report() const { return finalReport; }
  const plan::Plan &plan() const { return *planSpec; }
  const std::string &runDirectory() const { return options.runDirectory; }
  Backend &backend() { return *device; }
  ParameterStore &parameters() { return *store; }
  uint64_t seed() const { return seedValue; }

private:
  Session() = default;
  Status bind();
  Status runStage(size_t index, StageOutcome &outcome);
  /// Loads the last completed stage's checkpoint; `next` is the index of
  /// the first stage still to run.
  Status resumeFromCheckpoint(size_t &next);
  Status inferenceProgram(const std::string &model, size_t &index) const;
  /// Before stage `index`'s first step: fills its soft-target cache, or,
  /// when the cache would hold more than the limit (RunOptions::
  /// teacherCacheLimit), leaves it empty and sets `recompute`; reports the
  /// decision in `stageReport` ("teacher_cache").
  Status prepareTeacherCache(size_t index, const data::ImageDataset &images,
                             nlohmann::json &stageReport, bool &recompute);
  Status fillTeacherCache(size_t index, const data::ImageDataset &images);
  /// The plan's cache key of stage `index` joined with a hash of the
  /// current values of the teacher's parameters and of `images`.
  Status teacherCacheKey(size_t index, const data::ImageDataset &images,
                         std::string &key);
  Status feed(BoundGraph &graph, const data::Batch &batch);
  Status gatherCached(size_t index, const data::Batch &batch);
  /// The cached teacher outputs of the fed batch: gathered from the cache,
  /// or computed by the cache program when the cache was not filled.
  Status teacherOutputs(size_t index, const data::Batch &batch,
                        bool recompute, OpContext &context);
  Status runEvaluation(size_t index, nlohmann::json &result);
  /// Before stage `index`: the weights of its accuracy-weighted ensembles,
  /// from their members' accuracies (evaluations with an ensemble_weight),
  /// written into their state tensors and reported in `stageReport`.
  Status measureEnsembleWeights(size_t index, nlohmann::json &stageReport);
  Status runLossEvaluation(size_t index, nlohmann::json &result);
  Status afterStage(const std::string &stage, bool last,
                    nlohmann::json &stageReport);
  Status writeCheckpoint(const StageOutcome &outcome);
  Status exportWeights(const plan::ExportSpec &spec);
  /// Binds the fold ops of every export to .kdx (InferenceExport.cpp).
  Status bindInferenceExports();
  /// Writes export `index` (format kdx) as a self-contained inference plan.
  Status exportInferencePlan(size_t index);
  std::string resolveInRun(const std::string &path) const;
  void progress(const ProgressEvent &event);

  std::shared_ptr<const plan::Plan> planSpec;
  std::string planPath;
  RunOptions options;
  uint64_t seedValue = 0;
  std::unique_ptr<Backend> device;
  std::unique_ptr<ParameterStore> store;
  std::unique_ptr<DataCatalog> catalog;
  std::vector<std::unique_ptr<BoundGraph>> stageGraphs;
  std::vector<std::unique_ptr<BoundGraph>> evaluationGraphs;
  /// Per export, its bound fold ops (empty unless it is a .kdx export).
  std::vector<std::vector<BoundOpFn>> exportFolds;
  /// Per stage, per cached output: count x row floats.
  std::vector<std::vector<std::vector<float>>> teacherCache;
  std::unique_ptr<io::RunDirectory> runDir;
  std::unique_ptr<ProgressPrinter> printer;
  nlohmann::json finalReport;
};

/// The peak resident set of this process (VmHWM), in bytes; 0 if unknown.
int64_t peakResidentBytes();

} // namespace kdrt::exec

#endif // KDRT_EXEC_SESSION_H

//===- PlanFormat.h - The .kdx executable plan in memory --------*- C++ -*-===//
//
// Plain structs mirroring the manifest of docs/kdx.md, one per JSON object.
// The compiler fills them and serialises them with writePlan(); the runtime
// reads them back with readPlan(). Op attributes stay JSON: their meaning
// belongs to the op (the runtime maps them onto its OpDesc structs), and
// keeping them untyped here lets this header depend on nothing but
// nlohmann_json.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_PLAN_PLANFORMAT_H
#define KDRT_PLAN_PLANFORMAT_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kdrt::plan {

/// The file magic, including its terminating zero byte.
inline constexpr char kPlanMagic[8] = {'K', 'D', 'X', 'P', 'L', 'A', 'N', '\0'};
inline constexpr int kPlanVersion = 1;
/// Alignment of the blob start and of every blob offset.
inline constexpr uint64_t kBlobAlignment = 64;

/// Bytes of the tensor blob, relative to the blob start.
struct BlobRef {
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

struct AugmentSpec {
  /// crop, hflip, vflip, jitter, resize, rotate.
  std::string op;
  int64_t size = 0, pad = 0;  // crop
  double probability = 0.5;   // hflip, vflip ("p")
  double brightness = 0, contrast = 0, saturation = 0; // jitter
  int64_t height = 0, width = 0; // resize ("h", "w")
  double degrees = 0;            // rotate
};

struct SplitSpec {
  std::string name;
  /// file, slice, shots, external or union.
  std::string source;
  std::string file;   // file
  std::string parent; // slice, shots
  std::vector<std::string> parts; // union: earlier splits, joined in order
  int64_t lo = 0;     // slice
  std::optional<int64_t> hi;
  int64_t shots = 0; // shots
  uint64_t seed = 0;
  std::string externalKind; // external: idx, folder or npz
  std::string externalPath;
  bool unlabeled = false;
  std::vector<AugmentSpec> augment;
};

struct DatasetSpec {
  std::string name;
  /// idx, folder or npz.
  std::string kind;
  std::string path;
  int64_t channels = 1, height = 0, width = 0;
  std::vector<float> mean, std;
  int64_t classes = 0;
  std::vector<std::string> classNames;
  std::vector<SplitSpec> splits;
};

struct InitSpec {
  /// zeros, ones, constant, normal, uniform, kaiming_normal,
  /// kaiming_uniform, xavier_uniform.
  std::string kind = "zeros";
  double value = 0; // constant
  double std = 0;   // normal
  double bound = 0; // uniform
  std::string fan = "fan_in";
  double gain = 1;
};

struct ParameterSpec {
  std::string name;
  std::vector<int64_t> shape;
  /// weight, bias or state.
  std::string role = "weight";
  InitSpec init;
  /// Values fixed at compile time; overrides init.
  std::optional<BlobRef> blob;

  int64_t numElements() const;
};

struct DataRef {
  std::string dataset;
  std::string split;
};

struct TransformSpec {
  /// "resize" (to height x width) or "crop" (the centre height x width).
  std::string op;
  int64_t height = 0, width = 0;
  /// bilinear, nearest or area, as the resize layer; empty in plans written
  /// before the mode was recorded, which resized bilinearly where an axis
  /// grows and by area where it shrinks.
  std::string mode;
};

struct InputSpec {
  int64_t buffer = 0;
  /// image or label.
  std::string role = "image";
  std::optional<TransformSpec> transform;
};

struct BufferSpec {
  int64_t id = 0;
  std::vector<int64_t> shape;
  uint64_t offset = 0;
  /// False for a buffer that does not lead with the batch (a batch norm's
  /// per-channel scale), whose shape a short last batch leaves alone even
  /// when its first dimension equals the batch.
  bool batched = true;

  int64_t numElements() const;
  uint64_t sizeInBytes() const { return uint64_t(numElements()) * 4; }
};

struct Operand {
  enum class Kind { None, Buffer, Param, Grad };
  Kind kind = Kind::None;
  int64_t buffer = 0;
  std::string name;

  static Operand none() { return Operand(); }
  static Operand buf(int64_t id) { return Operand{Kind::Buffer, id, {}}; }
  static Operand param(std::string n) {
    return Operand{Kind::Param, 0, std::move(n)};
  }
  static Operand grad(std::string n) {
    return Operand{Kind::Grad, 0, std::move(n)};
  }
};

struct OpSpec {
  /// "conv2d.fwd", "cross_entropy_loss", "scale_add", ...
  std::string op;
  std::string loc;
  nlohmann::json attrs = nlohmann::json::object();
  std::vector<Operand> in;
  std::vector<Operand> out;
};

/// What stages and evaluations share: where each batch goes, the arena and
/// its buffers, and the ops.
struct GraphSpec {
  std::vector<InputSpec> inputs;
  uint64_t arenaBytes = 0;
  uint64_t arenaAlignment = 64;
  std::vector<BufferSpec> buffers;
  std::vector<OpSpec> program;

  const BufferSpec *findBuffer(int64_t id) const;
};

struct CacheOutput {
  int64_t buffer = 0;
  std::string name;
};

struct TeacherCacheSpec {
  /// none or cached.
  std::string mode = "none";
  std::string model;
  std::string key;
  std::vector<CacheOutput> outputs;
  std::vector<OpSpec> program;
};

struct OptimizerGroup {
  double lr = 0.01;
  double weightDecay = 0;
  std::vector<std::string> params;
  /// The group's own SGD momentum (Adam: beta1); the optimizer's if unset.
  std::optional<double> momentum;
};

struct OptimizerSpec {
  /// sgd, adam or adamw.
  std::string kind = "sgd";
  double momentum = 0;
  bool nesterov = false;
  double weightDecay = 0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  std::vector<OptimizerGroup> groups;
};

struct ScheduleSpec {
  /// constant, step, cosine or one_cycle.
  std::string kind = "constant";
  double minLr = 0;
  int64_t every = 1;
  double gamma = 0.1;
  int64_t warmupSteps = 0;
  /// A warm-up given in epochs (the language's `warmup(n, then: ...)`):
  /// the compiler does not know a split's size, so the session turns it
  /// into steps; it adds to warmupSteps.
  int64_t warmupEpochs = 0;
  double pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4;
  /// one_cycle: the momentum (SGD) or beta1 (Adam) cycles inversely to the
  /// rate, from maxMomentum down to baseMomentum and back.
  bool cycleMomentum = false;
  double baseMomentum = 0.85, maxMomentum = 0.95;
};

struct StageSpec {
  std::string name;
  std::string kind;
  std::string loc;
  DataRef data;
  int64_t epochs = 1;
  int64_t batch = 1;
  std::vector<std::string> trained, frozen;
  /// Parameter values copied before the stage's first step, `from` into
  /// `to` (same shape): a grafted student takes the teacher blocks it keeps.
  std::vector<std::pair<std::string, std::string>> copies;
  GraphSpec graph;
  TeacherCacheSpec teacherCache;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  int64_t lossBuffer = 0;
};

/// An evaluation that measures one member of an ensemble weighted by
/// accuracy: it runs before `beforeStage`, and the members' accuracies,
/// normalised to sum 1, become the state tensor `parameter` (one value per
/// member, `member` this one's index) that the stage's ensemble_combine
/// reads. Such an evaluation is not one of the run's reported results.
struct EnsembleWeightSpec {
  std::string ensemble;
  std::string parameter;
  int64_t member = 0;
  std::string beforeStage;
};

struct EvaluationSpec {
  std::string model;
  DataRef data;
  int64_t batch = 1;
  /// Classification metrics of the output logits, or ["mean"]: the output
  /// is a scalar per batch (a loss), averaged over the split by batch size.
  std::vector<std::string> metrics;
  /// What `evaluate ... using` reads instead of the model's output
  /// (`mean(e1,e2,e3,logits)`); empty for the output.
  std::string prediction;
  /// "mean": the loss as written in the source, the name it is reported by.
  std::string expression;
  GraphSpec graph;
  int64_t outputBuffer = 0;
  /// Empty: after the last stage before the declaration (the compiler
  /// always fills it in).
  std::string afterStage;
  std::optional<EnsembleWeightSpec> ensembleWeight;
};

/// An evaluation that averages a loss instead of scoring predictions.
inline bool isLossEvaluation(const EvaluationSpec &spec) {
  return spec.metrics.size() == 1 && spec.metrics.front() == "mean";
}

/// What an export to .kdx carries (docs/kdx.md, "Inference exports"): the
/// model's inference program, compiled with its batch norms folded, and
/// how the exported plan's parameters come from the trained ones. Two
/// namespaces meet here: the `in` operands of `fold` name parameters of
/// this plan, everything else (`parameters`, the `out` of `fold`, the
/// graph's operands) names parameters of the exported plan.
struct InferenceExportSpec {
  /// The exported plan's parameters (no init, no blob: the runtime fills
  /// them when it writes the export). One that no fold writes is copied
  /// from this plan's parameter of the same name and shape.
  std::vector<ParameterSpec> parameters;
  /// fold_batch_norm ops, run once when the export is written.
  std::vector<OpSpec> fold;
  /// The exported plan's one evaluation.
  DataRef data;
  int64_t batch = 1;
  std::vector<std::string> metrics;
  GraphSpec graph;
  int64_t outputBuffer = 0;
};

struct ExportSpec {
  std::string model;
  std::string path;
  /// safetensors or kdx.
  std::string format = "safetensors";
  std::vector<std::string> params;
  std::string afterStage;
  /// Present exactly when format is kdx.
  std::optional<InferenceExportSpec> inference;
};

struct Plan {
  int kdxVersion = kPlanVersion;
  std::string producer;
  std::string target = "cpu";
  std::string specFile, specSha256;
  uint64_t seed = 0;
  std::vector<DatasetSpec> datasets;
  std::vector<ParameterSpec> parameters;
  std::vector<StageSpec> stages;
  std::vector<EvaluationSpec> evaluations;
  std::vector<ExportSpec> exports;
  /// The raw tensor blob (the bytes after the aligned manifest).
  std::vector<uint8_t> blob;

  const ParameterSpec *findParameter(const std::string &name) const;
  const DatasetSpec *findDataset(const std::string &name) const;
};

} // namespace kdrt::plan

#endif // KDRT_PLAN_PLANFORMAT_H

//===- Checked.h - The fully resolved, shape-checked program ----*- C++ -*-===//
//
// What Sema hands to later phases (the MLIR importer, --emit=checked): every
// name resolved, every parameter evaluated, every model instantiated into a
// graph of layer nodes with known shapes, losses as trees over taps. Nothing
// here points into the AST except through source ranges, so the AST may be
// dropped once checking is done.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_CHECKED_H
#define KD_DSL_CHECKED_H

#include "kd/dsl/ConstValue.h"
#include "kd/dsl/Shape.h"
#include "kd/dsl/SourceLocation.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kd {

using Attributes = std::vector<std::pair<std::string, ConstValue>>;

// A built-in applied with its evaluated arguments: an augmentation, an
// optimizer, a schedule, a transform, a metric.
struct CheckedCall {
  std::string name;
  Attributes attrs;
  SourceRange range;
  std::vector<CheckedCall> nested; // warmup(then: ...)
};

//===----------------------------------------------------------------------===//
// Data
//===----------------------------------------------------------------------===//

struct CheckedSplit {
  enum class Source { File, Slice, Shots, External, Union };
  std::string name;
  SourceRange range;
  Source source = Source::File;
  std::string file;                   // File: the stem ("train"); External: the path
  std::string externalKind;           // External: idx / folder / npz
  std::string parent;                 // Slice / Shots: the split taken from
  std::optional<int64_t> lo, hi;      // Slice bounds as written
  int64_t shots = 0, seed = 0;        // Shots
  std::vector<std::string> parts;     // Union: the splits joined, in order
  std::vector<CheckedCall> augment;
  bool unlabeled = false; // declared so, or taken from (part of) what it is made of
};

struct CheckedData {
  std::string name;
  SourceRange range;
  std::string sourceKind; // idx / folder / npz
  std::string path;
  std::string imageKind;  // gray / rgb
  Shape imageShape;       // [C, H, W]
  std::vector<double> mean, std;
  int64_t numClasses = 0;
  SourceRange labelsRange; // the `labels N` statement, for notes
  std::vector<std::string> classNames;
  std::vector<CheckedSplit> splits;
  const CheckedSplit *findSplit(const std::string &name) const;
};

// `fmnist.train`: a data set index and one of its splits.
struct SplitRef {
  int data = -1;
  std::string split;
  bool valid() const { return data >= 0; }
};

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

struct LayerNode {
  int id = 0;
  std::string op;       // a layer or value function of the table, or "input"
  Attributes attrs;     // evaluated arguments, parameter order
  std::vector<int> inputs;
  Shape shape;
  std::vector<std::pair<std::string, Shape>> learnable;
  SourceRange range;
  std::string tapName;  // the named value it defines, when named ("" otherwise)
  std::string scope;    // the composed model instance it belongs to ("" = top)
  std::string block;    // the block it belongs to ("" = none)
  std::string item;     // the top-level named value whose definition created it ("" = none)
  bool isExit = false;
};

struct NamedValue {
  enum class Kind { Input, Value, Block, Exit, Output };
  Kind kind = Kind::Value;
  std::string name;
  int node = -1;
  SourceRange range;
};

struct ModelInstance {
  std::string name;       // the teacher / student (or model, when standalone)
  std::string modelName;  // the model declaration instantiated
  SourceRange range;      // the use site
  SourceRange modelRange; // the model declaration
  Attributes params;      // evaluated parameters
  Shape inputShape;
  std::vector<LayerNode> nodes;
  std::vector<NamedValue> values; // declaration order, top level only
  int output = -1;

  const NamedValue *findValue(const std::string &name) const;
  std::vector<const NamedValue *> exits() const;
  std::vector<const NamedValue *> blocks() const;
  int64_t parameterCount() const;
  // Multiply-adds of one forward pass on one sample, from the inferred
  // shapes: convolutions, linear layers, attention and matmul (norms,
  // activations and pooling are not counted, as in the usual FLOP counters).
  int64_t multiplyAdds() const;
};

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

// A feature a loss reads: a tap of a model instance, the labels, or a
// trainable helper module applied to other features.
struct FeatureNode {
  enum class Kind { Tap, Label, Helper, Value };
  Kind kind = Kind::Tap;
  int instance = -1;   // Tap: the model instance
  int node = -1;       // Tap: the node in that instance
  std::string tap;     // Tap: the member written (`logits`)
  // Tap: read from a graft's hybrid (`graft S into T as H`: the teacher with
  // student blocks grafted in), which shares the teacher's taps; `instance`
  // is that teacher, so only this flag tells `H.logits` from `T.logits`.
  bool hybrid = false;
  std::string op;      // Helper: normalize / adapt / attention_fuse; Value: add, mean, ...
  Attributes attrs;    // adapt: the inferred `kind` is recorded here
  std::vector<int> inputs;  // feature node ids
  Shape shape;
  std::vector<std::pair<std::string, Shape>> learnable;
  SourceRange range;
};

struct LossNode {
  enum class Kind { Call, Add, Sub, Scale, Div, Constant };
  Kind kind = Kind::Call;
  std::string op;           // Call: ce, kl, ...
  Attributes attrs;
  std::vector<int> features; // Call: feature node ids (tensor arguments, in order)
  std::vector<int> operands; // Add / Sub / Div: two loss nodes; Scale: one loss node
  double constant = 0;       // Scale: the factor; Div: the divisor; Constant
  SourceRange range;
};

struct CheckedLoss {
  std::vector<FeatureNode> features;
  std::vector<LossNode> nodes;
  int root = -1;     // the loss node of the whole expression
  int feature = -1;  // instead of root: a feature expression (`evaluate ... using`)
  bool usesLabel = false;
};

//===----------------------------------------------------------------------===//
// Training: stages and teacher/student bodies
//===----------------------------------------------------------------------===//

struct ParamGroup {
  std::string target; // "S", "S.blocks", "adapters", "S.l2"
  Attributes settings;
  SourceRange range;
};

struct GraftSpec {
  int student = -1, teacher = -1; // model instances
  std::string hybridName;
  std::string mode;               // blocks | progressive
  std::vector<int64_t> epochs;    // per block (mode blocks) or one
  // Blocks in order, with the adapters inferred where widths differ.
  struct Block {
    std::string name;
    Shape teacherIn, teacherOut, studentIn, studentOut;
    bool adapterBefore = false, adapterAfter = false;
  };
  std::vector<Block> blocks;
};

struct TrainSpec {
  std::string name; // stage name, or the teacher/student it belongs to
  std::string kind; // train / distill / self_distill / graft
  SourceRange range;
  std::vector<int> trained;  // model instances whose parameters train
  std::vector<int> frozen;   // model instances read but kept fixed
  std::vector<std::string> frozenParts; // `freeze S.l1`
  SplitRef split;
  int64_t epochs = 0, batch = 0, steps = 0;
  std::optional<CheckedCall> optimizer;
  std::optional<CheckedCall> schedule;
  std::vector<ParamGroup> groups;
  CheckedLoss loss;
  std::optional<GraftSpec> graft;
};

struct CheckedModelUse {
  enum class Source { Trained, Loaded, Ensemble, Untrained };
  std::string name;
  bool isTeacher = false;
  SourceRange range;
  Source source = Source::Untrained;
  int instance = -1;          // not for ensembles
  std::optional<CheckedCall> transform;
  std::string loadPath;
  std::optional<TrainSpec> train;
  std::vector<std::string> members; // Ensemble: teacher names
  std::string weighting;            // Ensemble: equal / fixed / accuracy / entropy / ca_mkd
  std::vector<double> weights;      // fixed weights
  SplitRef weightSplit;             // accuracy(split)
};

/// The evaluation batch of a model no stage trains (a loaded model).
constexpr int64_t kDefaultEvaluationBatch = 256;

struct CheckedEvaluate {
  std::string model;                 // empty for a loss evaluation
  SplitRef split;
  std::vector<std::string> metrics;
  std::optional<CheckedLoss> using_;
  // Images per evaluation batch: the `batch N` clause, else the batch of the
  // last stage (or teacher body) before the evaluation that trained the
  // model, else kDefaultEvaluationBatch.
  int64_t batch = 0;
  // `evaluate kl(V.logits, C.logits) on d.test`: the loss averaged over the
  // split, and its source text (the name it is reported under).
  std::optional<CheckedLoss> loss;
  std::string expression;
  SourceRange range;
};

struct CheckedExport {
  std::string model;
  std::string path;
  std::string format; // safetensors / kdx / onnx
  SourceRange range;
};

struct CheckedProgram {
  std::vector<CheckedData> data;
  std::vector<ModelInstance> instances;
  std::vector<CheckedModelUse> uses; // teachers and students, in source order
  std::vector<TrainSpec> stages;     // in order
  std::vector<CheckedEvaluate> evaluations;
  std::vector<CheckedExport> exports;
  std::vector<std::pair<std::string, ConstValue>> constants; // top-level lets

  int findData(const std::string &name) const;
  int findInstance(const std::string &name) const;
  const CheckedModelUse *findUse(const std::string &name) const;
};

} // namespace kd

#endif // KD_DSL_CHECKED_H

//===- Builtins.cpp - The table of built-ins --------------------------------===//
//
// The single source of truth for built-in names, parameters, defaults,
// allowed values and shape rules (the agreed catalogue). Sema looks rows up
// by kind and name; no other file lists built-in arguments.
//
//===----------------------------------------------------------------------===//
#include "kd/dsl/Builtins.h"

#include "ShapeFunctions.h"

namespace kd {

namespace {
using P = ParamSpec;

P required(std::string name, ParamType type) {
  P p;
  p.name = std::move(name);
  p.type = type;
  return p;
}
P optional(std::string name, ParamType type, ConstValue value) {
  P p = required(std::move(name), type);
  p.presence = P::Presence::Default;
  p.defaultValue = std::move(value);
  return p;
}
P derived(std::string name, ParamType type, std::string from = "") {
  P p = required(std::move(name), type);
  p.presence = P::Presence::Derived;
  p.derivedFrom = std::move(from);
  return p;
}
P atLeast(P p, double minimum, bool exclusive = false) {
  p.minimum = minimum;
  p.minimumExclusive = exclusive;
  return p;
}
P atMost(P p, double maximum, bool exclusive = false) {
  p.maximum = maximum;
  p.maximumExclusive = exclusive;
  return p;
}
P oneOf(P p, std::vector<std::string> allowed) {
  p.allowed = std::move(allowed);
  return p;
}
ConstValue I(int64_t v) { return ConstValue::ofInt(v); }
ConstValue F(double v) { return ConstValue::ofFloat(v); }
ConstValue B(bool v) { return ConstValue::ofBool(v); }
ConstValue S(std::string v) { return ConstValue::ofString(std::move(v)); }
ConstValue L(std::vector<double> v) {
  std::vector<ConstValue> out;
  for (double d : v)
    out.push_back(F(d));
  return ConstValue::ofList(std::move(out));
}

using T = ParamType;
using K = BuiltinKind;

// Common parameter shapes.
P positiveInt(std::string name) { return atLeast(required(std::move(name), T::Int), 1); }
P optPositiveInt(std::string name, int64_t v) { return atLeast(optional(std::move(name), T::Int, I(v)), 1); }
P optNonNegInt(std::string name, int64_t v) { return atLeast(optional(std::move(name), T::Int, I(v)), 0); }
P optNonNeg(std::string name, double v) { return atLeast(optional(std::move(name), T::Number, F(v)), 0); }
P optPositive(std::string name, double v) { return atLeast(optional(std::move(name), T::Number, F(v)), 0, true); }
P probability(std::string name, double v) {
  return atMost(atLeast(optional(std::move(name), T::Number, F(v)), 0), 1, true);
}
P tensor(std::string name) { return required(std::move(name), T::Tensor); }
P reduction(std::vector<std::string> allowed) {
  std::string first = allowed.front();
  return oneOf(optional("reduction", T::String, S(first)), std::move(allowed));
}

std::vector<Builtin> buildTable() {
  std::vector<Builtin> t;
  auto add = [&](std::string name, K kind, std::vector<P> params, ShapeFn fn = nullptr) {
    t.push_back(Builtin{std::move(name), kind, std::move(params), fn});
  };

  //===--- Layers ---------------------------------------------------------===//
  std::vector<std::string> inits = {"kaiming", "kaiming_fan_out", "zeros", "xavier"};
  add("conv", K::Layer,
      {positiveInt("out"), optPositiveInt("k", 3), optPositiveInt("stride", 1), optNonNegInt("pad", 0),
       optPositiveInt("groups", 1), optPositiveInt("dilation", 1), optional("bias", T::Bool, B(true)),
       oneOf(optional("init", T::String, S("kaiming")), inits)},
      shapes::conv);
  add("linear", K::Layer,
      {positiveInt("out"), optional("bias", T::Bool, B(true)),
       oneOf(optional("init", T::String, S("kaiming")), inits)},
      shapes::linear);
  add("bn", K::Layer, {probability("momentum", 0.1), optPositive("eps", 1e-5)}, shapes::batchNorm);
  add("layernorm", K::Layer, {optPositive("eps", 1e-5)}, shapes::layerNorm);
  add("groupnorm", K::Layer, {optPositiveInt("groups", 32), optPositive("eps", 1e-5)}, shapes::groupNorm);
  for (const char *act : {"relu", "gelu", "sigmoid", "tanh", "identity"})
    add(act, K::Layer, {}, shapes::elementwise);
  add("softmax", K::Layer, {optPositive("temperature", 1)}, shapes::lastDim);
  add("log_softmax", K::Layer, {optPositive("temperature", 1)}, shapes::lastDim);
  for (const char *poolName : {"maxpool", "avgpool"})
    add(poolName, K::Layer, {positiveInt("k"), atLeast(derived("stride", T::Int, "k"), 1), optNonNegInt("pad", 0)},
        shapes::pool);
  add("gap", K::Layer, {}, shapes::globalPool);
  add("adaptive_avgpool", K::Layer, {positiveInt("h"), positiveInt("w")}, shapes::adaptivePool);
  add("adaptive_maxpool", K::Layer, {positiveInt("h"), positiveInt("w")}, shapes::adaptivePool);
  add("dropout", K::Layer, {probability("p", 0.5)}, shapes::elementwise);
  add("flatten", K::Layer, {}, shapes::flatten);
  add("reshape", K::Layer, {required("shape", T::IntList)}, shapes::reshape);
  add("tokens", K::Layer, {}, shapes::tokens);
  add("cls_token", K::Layer, {}, shapes::clsToken);
  add("pos_embed", K::Layer, {}, shapes::posEmbed);
  add("select", K::Layer, {atLeast(required("index", T::Int), 0)}, shapes::select);
  add("mha", K::Layer, {positiveInt("heads"), probability("dropout", 0)}, shapes::attention);
  add("attention_pool", K::Layer, {}, shapes::attentionPool);
  std::vector<std::string> resizeModes = {"bilinear", "area", "nearest"};
  add("resize", K::Layer,
      {positiveInt("h"), positiveInt("w"), oneOf(optional("mode", T::String, S("bilinear")), resizeModes)},
      shapes::resize);

  //===--- Value functions ------------------------------------------------===//
  add("add", K::ValueFunction, {tensor("a"), tensor("b")}, shapes::broadcastBinary);
  add("mul", K::ValueFunction, {tensor("a"), tensor("b")}, shapes::broadcastBinary);
  add("concat", K::ValueFunction, {required("values", T::TensorList)}, shapes::concat);
  add("matmul", K::ValueFunction, {tensor("a"), tensor("b")}, shapes::matmul);
  add("mean", K::ValueFunction, {required("values", T::TensorList)}, shapes::meanOf);

  //===--- Losses ---------------------------------------------------------===//
  add("ce", K::Loss, {tensor("logits"), tensor("target"), probability("smoothing", 0)}, shapes::crossEntropy);
  add("kl", K::Loss,
      {tensor("input"), tensor("target"), optPositive("temperature", 1), optional("t2", T::Bool, B(true)),
       reduction({"batchmean", "sum", "mean"}),
       oneOf(optional("direction", T::String, S("forward")), {"forward", "reverse"})},
      shapes::logitPairLoss);
  add("mse", K::Loss, {tensor("a"), tensor("b"), reduction({"mean", "sum", "batchmean"})}, shapes::sameShapeLoss);
  add("l1", K::Loss, {tensor("a"), tensor("b"), reduction({"mean", "sum", "batchmean"})}, shapes::sameShapeLoss);
  add("smooth_l1", K::Loss, {tensor("a"), tensor("b"), optPositive("beta", 1)}, shapes::sameShapeLoss);
  add("cosine", K::Loss, {tensor("a"), tensor("b")}, shapes::sameShapeLoss);
  add("at", K::Loss, {tensor("s"), tensor("t"), optPositive("p", 2)}, shapes::attentionTransfer);
  add("rkd_distance", K::Loss, {tensor("s"), tensor("t")}, shapes::anyShapeLoss);
  add("rkd_angle", K::Loss, {tensor("s"), tensor("t")}, shapes::anyShapeLoss);
  add("dkd", K::Loss,
      {tensor("s"), tensor("t"), tensor("target"), optNonNeg("alpha", 1), optNonNeg("beta", 8),
       optPositive("temperature", 4)},
      shapes::decoupledKd);
  // sum(e in C: expr) / mean(e in C: expr) are comprehensions, handled by the
  // loss checker; their single argument is not a parameter list.

  //===--- Feature helpers ------------------------------------------------===//
  add("normalize", K::Helper, {tensor("x")}, shapes::normalize);
  add("adapt", K::Helper,
      {tensor("x"), tensor("like"),
       oneOf(optional("kind", T::String, S("auto")), {"auto", "conv1x1", "conv3x3", "linear", "pool"})},
      shapes::adapt);
  add("attention_fuse", K::Helper,
      {required("features", T::TensorList), optPositiveInt("heads", 4), optPositiveInt("dim", 64)},
      shapes::attentionFuse);
  add("detach", K::Helper, {tensor("x")}, shapes::detach);

  //===--- Data -----------------------------------------------------------===//
  for (const char *source : {"idx", "folder", "npz"})
    add(source, K::DataSource, {required("path", T::String)});
  add("crop", K::Augmentation, {positiveInt("size"), optNonNegInt("pad", 0)});
  add("hflip", K::Augmentation, {});
  add("vflip", K::Augmentation, {});
  add("jitter", K::Augmentation,
      {optNonNeg("brightness", 0), optNonNeg("contrast", 0), optNonNeg("saturation", 0)});
  add("resize", K::Augmentation, {positiveInt("h"), positiveInt("w")});
  add("rotate", K::Augmentation, {atLeast(required("degrees", T::Number), 0)});
  add("shots", K::SplitMethod, {positiveInt("n"), optNonNegInt("seed", 0)});

  //===--- Per-model input transforms -------------------------------------===//
  add("resize", K::Transform,
      {positiveInt("h"), positiveInt("w"), oneOf(optional("mode", T::String, S("bilinear")), resizeModes)});
  add("crop", K::Transform, {positiveInt("size")});

  //===--- Optimizers -----------------------------------------------------===//
  add("sgd", K::Optimizer,
      {atLeast(required("lr", T::Number), 0, true), optNonNeg("momentum", 0),
       optional("nesterov", T::Bool, B(false)), optNonNeg("weight_decay", 0)});
  add("adam", K::Optimizer,
      {optPositive("lr", 0.001), optional("betas", T::NumberList, L({0.9, 0.999})), optPositive("eps", 1e-8),
       optNonNeg("weight_decay", 0)});
  add("adamw", K::Optimizer,
      {optPositive("lr", 0.001), optional("betas", T::NumberList, L({0.9, 0.999})), optPositive("eps", 1e-8),
       optNonNeg("weight_decay", 0.01)});

  //===--- Schedules ------------------------------------------------------===//
  add("constant", K::Schedule, {});
  add("step", K::Schedule, {positiveInt("every"), optPositive("gamma", 0.1)});
  add("cosine", K::Schedule, {optNonNeg("min_lr", 0)});
  // cycle_momentum: the optimizer's momentum (SGD) or beta1 (Adam, AdamW)
  // falls from max_momentum to base_momentum while the rate rises, then
  // rises back, as in PyTorch's OneCycleLR (off by default here).
  add("onecycle", K::Schedule,
      {atLeast(derived("max_lr", T::Number), 0, true), probability("pct", 0.3),
       optional("cycle_momentum", T::Bool, B(false)), probability("base_momentum", 0.85),
       probability("max_momentum", 0.95)});
  add("warmup", K::Schedule, {positiveInt("epochs"), derived("then", T::Schedule)});

  //===--- Metrics --------------------------------------------------------===//
  for (const char *metric : {"accuracy", "sensitivity", "specificity", "precision", "f1", "confusion", "per_class"})
    add(metric, K::Metric, {});

  //===--- Ensembles ------------------------------------------------------===//
  add("ensemble", K::Ensemble, {required("members", T::ModelList), optional("weights", T::Weights, S("equal"))});
  add("accuracy", K::EnsembleWeighting, {required("split", T::Split)});

  //===--- Shape queries --------------------------------------------------===//
  // Compile-time constants read from a tensor's inferred per-sample shape,
  // so that a block adapts to its input instead of being told its width.
  add("channels", K::ShapeQuery, {tensor("x")});
  add("shape", K::ShapeQuery, {tensor("x")});
  // The `labels N` of a data set, so that a recipe's classifiers follow the
  // data it is pointed at (`Student(classes: classes(fmnist))`, `kdc --data`).
  add("classes", K::ShapeQuery, {tensor("data")});

  //===--- Statement arguments --------------------------------------------===//
  // `group TARGET lr: x, weight_decay: y, momentum: z`: what is not given
  // comes from the stage's optimizer.
  add("group", K::Statement,
      {atLeast(derived("lr", T::Number), 0, true), atLeast(derived("weight_decay", T::Number), 0),
       atLeast(derived("momentum", T::Number), 0)});
  return t;
}
} // namespace

const std::vector<Builtin> &allBuiltins() {
  static const std::vector<Builtin> table = buildTable();
  return table;
}

const Builtin *findBuiltin(BuiltinKind kind, std::string_view name) {
  for (const Builtin &b : allBuiltins())
    if (b.kind == kind && b.name == name)
      return &b;
  return nullptr;
}

std::vector<std::string> builtinNames(BuiltinKind kind) {
  std::vector<std::string> names;
  for (const Builtin &b : allBuiltins())
    if (b.kind == kind)
      names.push_back(b.name);
  return names;
}

const char *kindName(BuiltinKind kind) {
  switch (kind) {
  case BuiltinKind::Layer: return "layer";
  case BuiltinKind::ValueFunction: return "function";
  case BuiltinKind::Loss: return "loss";
  case BuiltinKind::Helper: return "feature helper";
  case BuiltinKind::DataSource: return "data source";
  case BuiltinKind::Augmentation: return "augmentation";
  case BuiltinKind::Transform: return "transform";
  case BuiltinKind::Optimizer: return "optimizer";
  case BuiltinKind::Schedule: return "schedule";
  case BuiltinKind::Metric: return "metric";
  case BuiltinKind::SplitMethod: return "split method";
  case BuiltinKind::EnsembleWeighting: return "ensemble weighting";
  case BuiltinKind::Ensemble: return "ensemble";
  case BuiltinKind::Statement: return "statement";
  case BuiltinKind::ShapeQuery: return "shape query";
  }
  return "built-in";
}

bool isConstantType(ParamType type) {
  switch (type) {
  case ParamType::Int:
  case ParamType::Number:
  case ParamType::Bool:
  case ParamType::String:
  case ParamType::IntList:
  case ParamType::NumberList:
  case ParamType::Any:
    return true;
  default:
    return false;
  }
}

} // namespace kd

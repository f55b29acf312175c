//===- Builtins.h - The one table of built-ins of the .kd language -*- C++ -*-===//
//
// Every built-in name of the language (layers, value functions, losses,
// feature helpers, data sources, augmentations, transforms, optimizers,
// schedules, metrics, split methods, ensemble weightings) is one row of one
// table (Builtins.cpp): its parameters with types, defaults and allowed
// values, and for the tensor-valued kinds a shape function. Argument checking
// is one generic routine, bindArguments(), driven by those rows; user models
// used as layers go through the same routine with their own parameters.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_BUILTINS_H
#define KD_DSL_BUILTINS_H

#include "kd/dsl/AST.h"
#include "kd/dsl/ConstValue.h"
#include "kd/dsl/Diagnostics.h"
#include "kd/dsl/Shape.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kd {

enum class BuiltinKind {
  Layer,             // chained: x -> conv(16)
  ValueFunction,     // add(a, b), concat([a, b])
  Loss,              // ce, kl, ... (scalar)
  Helper,            // normalize, adapt, attention_fuse (inside losses)
  DataSource,        // idx, folder, npz
  Augmentation,      // crop, hflip, ... (split `augment [...]`)
  Transform,         // per-model input transform
  Optimizer,         // sgd, adam, adamw
  Schedule,          // constant, step, cosine, onecycle, warmup
  Metric,            // accuracy, f1, ...
  SplitMethod,       // other.shots(n, seed: 0)
  EnsembleWeighting, // accuracy(split) inside ensemble(weights: ...)
  Ensemble,          // ensemble([T1, T2], weights: ...)
  Statement,         // the named arguments of a statement (`group S lr: 0.1`)
  ShapeQuery,        // channels(x), shape(x): compile-time facts of a tensor
};

// "layer", "loss", "optimizer", ...: how diagnostics name a kind.
const char *kindName(BuiltinKind kind);

enum class ParamType {
  Int, Number, Bool, String, IntList, NumberList,
  Any,        // a constant of any type (user model parameters)
  Tensor,     // a feature value, evaluated by the caller
  TensorList, // a list of feature values
  Split,      // a data split reference
  ModelList,  // a list of teacher names
  Schedule,   // a nested schedule
  Weights,    // "equal" | [numbers] | accuracy(split) | "entropy" | "ca_mkd"
};

// True for the types bindArguments evaluates at compile time itself.
bool isConstantType(ParamType type);

struct ParamSpec {
  enum class Presence {
    Required, // no default
    Default,  // `defaultValue` when absent
    Derived,  // computed from other arguments when absent (maxpool stride = k)
  };
  std::string name;
  ParamType type = ParamType::Int;
  Presence presence = Presence::Required;
  ConstValue defaultValue;
  std::vector<std::string> allowed; // String: the allowed values
  std::optional<double> minimum;    // numbers: the smallest allowed value
  bool minimumExclusive = false;    // `> minimum` rather than `>=`
  std::optional<double> maximum;    // numbers: the largest allowed value
  bool maximumExclusive = false;
  std::string derivedFrom; // Derived: the parameter whose value it takes when absent
};

// One parameter after binding: given at the call, defaulted, or absent
// (a Derived parameter not given).
struct BoundArg {
  const ParamSpec *spec = nullptr;
  bool present = false;
  bool given = false;
  ConstValue value;                 // constant types
  const ast::Expr *expr = nullptr;  // the argument's expression when given
  SourceRange range;                // the argument (name included) when given
};

struct BoundArgs {
  std::vector<BoundArg> slots; // one per parameter, in declaration order

  const BoundArg *find(std::string_view name) const;
  const ConstValue *value(std::string_view name) const; // null if absent
  int64_t getInt(std::string_view name, int64_t fallback = 0) const;
  double getNumber(std::string_view name, double fallback = 0) const;
  bool getBool(std::string_view name, bool fallback = false) const;
  std::string getString(std::string_view name, std::string fallback = "") const;
  std::vector<int64_t> getIntList(std::string_view name) const;
  // The constant arguments present, in parameter order, for attributes.
  std::vector<std::pair<std::string, ConstValue>> constants() const;
};

// A tensor argument as seen by a shape function.
struct ShapeInput {
  Shape shape;
  bool isLabel = false; // `label`: class indices, no feature shape
};

struct ShapeQuery {
  std::vector<ShapeInput> inputs; // layers: the chained input; others: tensor args in order
  const BoundArgs &args;
};

struct ShapeResult {
  bool ok = true;
  Shape shape;
  std::string error; // why the shapes do not fit (shapes printed)
  std::string hint;  // an optional note, e.g. "use adaptive_avgpool(...)"
  // Learnable parameters the node owns, e.g. {"weight", [16, 1, 3, 3]}.
  std::vector<std::pair<std::string, Shape>> learnable;

  static ShapeResult success(Shape s) { ShapeResult r; r.shape = std::move(s); return r; }
  static ShapeResult failure(std::string why, std::string hint = "") {
    ShapeResult r; r.ok = false; r.error = std::move(why); r.hint = std::move(hint); return r;
  }
};

using ShapeFn = ShapeResult (*)(const ShapeQuery &);

struct Builtin {
  std::string name;
  BuiltinKind kind = BuiltinKind::Layer;
  std::vector<ParamSpec> params;
  ShapeFn shape = nullptr; // layers, value functions, losses, helpers
};

// The row for `name` of `kind`, or null. Some names have several kinds
// (`resize` is a layer, an augmentation and a transform; `cosine` a loss and a
// schedule), so lookups always say which kind they expect.
const Builtin *findBuiltin(BuiltinKind kind, std::string_view name);
// All names of a kind, for "did you mean" and listings.
std::vector<std::string> builtinNames(BuiltinKind kind);
const std::vector<Builtin> &allBuiltins();

// Evaluates constant argument expressions for bindArguments; the caller
// decides what names mean (model parameters, `let` constants, ...).
class ConstantEvaluator {
public:
  virtual ~ConstantEvaluator() = default;
  // Reports its own errors and returns nullopt on failure.
  virtual std::optional<ConstValue> evaluateConstant(const ast::Expr &expr) = 0;
};

// What is being called, for messages and notes.
struct CallTarget {
  std::string description;  // "layer 'conv'", "model 'BasicBlock'"
  SourceRange declaration;  // where the callee is declared (user models), or invalid
};

// Matches `args` to `params`: positional arguments fill parameters in order,
// named ones by name. Reports too many positional arguments, positional after
// named, unknown named arguments (with "did you mean"), duplicates (note at
// the first), missing required arguments, wrong types and values out of range
// or outside the allowed set, each at the argument's range. Constant types are
// evaluated through `eval`; others only record their expression. Returns
// nullopt if anything was wrong.
std::optional<BoundArgs> bindArguments(const CallTarget &target, const std::vector<ParamSpec> &params,
                                       const std::vector<ast::Arg> &args, SourceRange callRange,
                                       ConstantEvaluator &eval, DiagnosticEngine &diags);

// Checks one constant against a parameter's type, range and allowed set;
// returns an error message, or "" when it fits. Shared with user-model
// parameters and `--set` overrides.
std::string checkParamValue(const ParamSpec &spec, const ConstValue &value, const std::string &owner);

} // namespace kd

#endif // KD_DSL_BUILTINS_H

//===- SemaImpl.h - Shared state of semantic analysis -----------*- C++ -*-===//
//
// The Sema object owns what all checks share: the symbol tables of the
// modules, the diagnostics (de-duplicated, with instantiation notes), and the
// CheckedProgram being built. Evaluators (ConstEval.cpp) walk expressions;
// ModelBuilder (Instantiate.cpp) and LossBuilder (CheckLosses.cpp) extend
// them for model bodies and loss expressions.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_SEMA_SEMAIMPL_H
#define KD_DSL_SEMA_SEMAIMPL_H

#include "kd/dsl/Builtins.h"
#include "kd/dsl/Checked.h"
#include "kd/dsl/Sema.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kd::sema {

// What an expression denotes while checking.
struct Value {
  enum class Kind {
    Error,      // already reported
    Unknown,    // a constant not known (standalone model checks)
    Const,      // a compile-time constant
    Tensor,     // a model node (model bodies) or a feature node (losses)
    TensorList, // several of them (`S.exits`, `[a, b]`)
    Label,      // `label`
    Loss,       // a loss node
    Use,        // a teacher or student (`T`)
    Data,       // a data set (`fmnist`)
    Split,      // `fmnist.train`
    Model,      // a model declaration used as a layer
  };
  Kind kind = Kind::Error;
  ConstValue constant;
  int id = -1;               // Tensor: node/feature id; Loss: node id; Use/Data: index
  Shape shape;
  bool shapeKnown = true;
  std::vector<Value> elements; // TensorList
  SplitRef split;
  const ast::ModelDecl *model = nullptr;
  bool hybrid = false; // Use: a graft's hybrid, read through its teacher's taps

  bool ok() const { return kind != Kind::Error; }
  static Value error() { return Value(); }
  static Value unknown() { Value v; v.kind = Kind::Unknown; return v; }
  static Value of(ConstValue c) { Value v; v.kind = Kind::Const; v.constant = std::move(c); return v; }
};

// A teacher or student as Sema tracks it while checking.
struct UseInfo {
  const ast::ModelUseDecl *decl = nullptr;
  size_t module = 0;
  int checkedIndex = -1; // into CheckedProgram::uses
};

class Sema {
public:
  Sema(const Program &prog, DiagnosticEngine &out, const SemaOptions &opts);
  std::unique_ptr<CheckedProgram> run();

  //===--- Diagnostics --------------------------------------------------===//
  // All checks report here; errors are forwarded once per (place, message)
  // with the current instantiation notes appended.
  DiagnosticEngine diags;
  struct InstantiationContext {
    std::string model;
    SourceRange useSite;
    std::string useDescription; // "teacher 'T'", "" for a composing call
  };
  std::vector<InstantiationContext> contexts;

  //===--- Symbols --------------------------------------------------------===//
  const Program &prog;
  const SemaOptions &opts;
  size_t currentModule = 0;
  // For each module, the top-level declarations it can see.
  std::vector<std::map<std::string, const ast::Decl *>> visible;
  std::map<const ast::Decl *, size_t> moduleOf;
  const ast::Decl *lookupGlobal(const std::string &name) const;
  std::vector<std::string> globalNames() const;

  std::optional<ConstValue> letValue(const ast::LetDecl &let);
  std::map<const ast::LetDecl *, std::optional<ConstValue>> letValues;
  std::set<const ast::LetDecl *> letsInProgress;

  //===--- The result -----------------------------------------------------===//
  std::unique_ptr<CheckedProgram> result;
  std::map<std::string, int> dataIndex;
  std::map<std::string, UseInfo> uses;
  std::set<const ast::ModelDecl *> instantiatedModels;

  // Evaluates a built-in by name or call (`sgd(lr: 0.1)`, `hflip`) of `kind`
  // into a CheckedCall; reports unknown names with a suggestion.
  std::optional<CheckedCall> checkBuiltinCall(BuiltinKind kind, const ast::Expr &expr);
  // A positive int from a clause (`epochs 10`), or nullopt (reported).
  std::optional<int64_t> positiveInt(const ast::Expr *expr, SourceRange where, const std::string &what);
  // Evaluates a split reference `d.train`.
  SplitRef checkSplitRef(const ast::Expr &expr);

  // Phases, each in its own file.
  void buildSymbolTables();                          // Scope.cpp
  void applyOverrides();                             // Scope.cpp
  void checkData(const ast::DataDecl &decl);         // CheckData.cpp
  void checkModelUses();                             // CheckModelUses.cpp
  void checkStage(const ast::StageDecl &decl);       // CheckStages.cpp
  void checkTopStatement(const ast::StatementDecl &decl); // CheckStages.cpp
  void checkStandaloneModels();                      // Instantiate.cpp
  std::optional<TrainSpec> checkTrainBody(const std::vector<ast::Statement> &body, const std::string &name,
                                          SourceRange range, const UseInfo *owner); // CheckStages.cpp
  // Instantiates `decl` for the use `useName` with `args` on `inputShape`
  // (empty: the model's declared shape). Returns the instance index or -1.
  int instantiate(const ast::ModelDecl &decl, const std::vector<ast::Arg> &args, SourceRange callRange,
                  const std::string &useName, const std::string &useDescription,
                  std::optional<Shape> inputShape); // Instantiate.cpp
  // Checks a loss expression into `loss` (CheckLosses.cpp).
  // `aliases` names extra models visible to the loss (a graft's hybrid);
  // `featureOnly` accepts a feature instead of a loss (`evaluate ... using`).
  // `labelData` is the data whose labels `label` stands for (the split the
  // body trains on): a classification loss's logits must score its classes.
  bool checkLoss(const ast::Expr &expr, CheckedLoss &loss, std::set<int> *readInstances = nullptr,
                 const std::map<std::string, int> &aliases = {}, bool featureOnly = false,
                 const CheckedData *labelData = nullptr);
  // Notes at the labels statement of `data`.
  void noteLabels(const CheckedData &data);
  // Each attention_fuse of `loss` is anchored to the teachers: a term
  // trains it against labels or fixed features, not only against what
  // `trained` (model instances) computes, towards which it could collapse.
  // `labelData` names the class count in the suggested anchor.
  void checkFusionAnchors(const CheckedLoss &loss, const std::set<int> &trained, const CheckedData *labelData);
  // Reports `label` in `lossExpr` when `split` has no labels (CheckStages.cpp).
  void checkLabelsAvailable(const ast::Expr &lossExpr, const CheckedLoss &loss, SplitRef split);

  // Overrides from `--set`, consumed as they match.
  std::map<std::string, ConstValue> overrideValues;
  std::set<std::string> usedOverrides;
  std::optional<ConstValue> overrideFor(const std::string &key);

private:
  DiagnosticEngine &out;
  std::set<std::tuple<uint32_t, uint32_t, std::string>> reported;
  bool dropNotes = false;
  void forward(const Diagnostic &d);
};

// Walks expressions: literals, lists, arithmetic, comparisons, logic,
// indexing, `if`, `len`; names through local scopes then the module's
// declarations. Subclasses give meaning to chains, calls and members.
class Evaluator : public ConstantEvaluator {
public:
  explicit Evaluator(Sema &sema) : sema(sema) {}
  Value eval(const ast::Expr &expr);
  std::optional<ConstValue> evaluateConstant(const ast::Expr &expr) override;

  struct Local {
    Value value;
    SourceRange defined;
  };
  std::vector<std::map<std::string, Local>> scopes{1};
  const Local *findLocal(const std::string &name) const;
  void bindLocal(const std::string &name, Value value, SourceRange defined) {
    scopes.back()[name] = Local{std::move(value), defined};
  }
  // Names visible here, for "did you mean".
  virtual std::vector<std::string> candidateNames() const;

  // Helpers shared with subclasses.
  Value applyUnary(const ast::UnaryExpr &e, const Value &operand);
  Value applyBinary(const ast::BinaryExpr &e, const Value &lhs, const Value &rhs);
  Value applyIndex(const ast::IndexExpr &e, const Value &base);
  void reportUnknownName(const std::string &name, SourceRange range, const std::string &what,
                         std::vector<std::string> extra = {});

protected:
  virtual Value evalName(const ast::NameExpr &e);
  virtual Value evalMember(const ast::MemberExpr &e);
  virtual Value evalCall(const ast::CallExpr &e);
  virtual Value evalChain(const ast::ChainExpr &e);
  virtual Value evalRepeat(const ast::RepeatExpr &e);
  virtual Value evalList(const ast::ListExpr &e);
  virtual Value nonConstBinary(const ast::BinaryExpr &e, const Value &lhs, const Value &rhs);
  // A global declaration that is not a `let`, named in an expression.
  virtual Value evalGlobal(const ast::Decl &decl, const ast::NameExpr &e);
  // `channels(x)` / `shape(x)` of a tensor whose shape inference has not
  // run (a model checked without an input shape). The default is an error;
  // a symbolic model body answers "not known" and skips what depends on it.
  virtual Value unknownShapeQuery(const ast::CallExpr &e, const Value &tensor);
  Value evalShapeQuery(const Builtin &query, const ast::CallExpr &e);

  Sema &sema;
};

// "an int", "a tensor [64, 7, 7]", ...: how values are named in messages.
std::string describe(const Value &v);

} // namespace kd::sema

#endif // KD_DSL_SEMA_SEMAIMPL_H

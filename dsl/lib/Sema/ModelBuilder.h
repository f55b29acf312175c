//===- ModelBuilder.h - Instantiating model bodies --------------*- C++ -*-===//
//
// Evaluates a model body with its parameters bound, building the layer graph
// of a ModelInstance with a shape on every node. Composed models (a model
// used as a layer) are expanded in place with their own parameters and scope.
// In symbolic mode (a model file checked without an input shape) shapes and
// unknown parameters stay unknown, and only names and arguments are checked.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_SEMA_MODELBUILDER_H
#define KD_DSL_SEMA_MODELBUILDER_H

#include "SemaImpl.h"

namespace kd::sema {

class ModelBuilder : public Evaluator {
public:
  ModelBuilder(Sema &sema, ModelInstance &instance, bool symbolic)
      : Evaluator(sema), instance(instance), symbolic(symbolic) {}

  // Binds `args` (evaluated in the caller's scope, i.e. this evaluator's
  // current state) to the parameters of `decl`, then evaluates defaults in the
  // model's own module. Returns nullopt if arguments were wrong.
  std::optional<std::map<std::string, Value>> bindModelArguments(const ast::ModelDecl &decl,
                                                                 const std::vector<ast::Arg> &args,
                                                                 SourceRange callRange);

  // Expands `decl` on `input` (or its declared input when absent) and returns
  // its output. `top` records inputs, named values, blocks and exits in the
  // instance; a composed model's values are recorded under `scope`.
  Value expand(const ast::ModelDecl &decl, std::map<std::string, Value> params, std::optional<Value> input,
               bool top, const std::string &scope);

  std::vector<std::string> candidateNames() const override;

protected:
  Value evalName(const ast::NameExpr &e) override;
  Value evalCall(const ast::CallExpr &e) override;
  Value evalChain(const ast::ChainExpr &e) override;
  Value unknownShapeQuery(const ast::CallExpr &e, const Value &tensor) override;

private:
  // Applies the layer (or pipeline) `layer` to `input`.
  Value applyLayer(const ast::Expr &layer, const Value &input);
  Value applyBuiltinLayer(const Builtin &builtin, const std::vector<ast::Arg> &args, SourceRange range,
                          const Value &input);
  Value applyModel(const ast::ModelDecl &decl, const std::vector<ast::Arg> &args, SourceRange range,
                   const Value &input);
  Value applyValueFunction(const Builtin &builtin, const ast::CallExpr &call);
  Value makeNode(const std::string &op, Attributes attrs, std::vector<Value> inputs, SourceRange range,
                 const ShapeFn shapeFn, const BoundArgs &args);
  void runItems(const std::vector<ast::ModelItem> &items);
  void runItem(const ast::ModelItem &item);
  void defineName(const std::string &name, const Value &value, SourceRange range);

  ModelInstance &instance;
  bool symbolic;

  // The state of the model body being expanded (saved around compositions).
  struct Frame {
    const ast::ModelDecl *decl = nullptr;
    bool top = false;
    std::string scope;
    std::optional<Value> input;
    bool inputSeen = false;
    std::optional<Value> output;
    std::map<std::string, SourceRange> definedLater; // every name the body defines
  };
  Frame frame;
  std::string currentBlock;
  ast::ModelItemKind currentItemKind = ast::ModelItemKind::Value;
};

} // namespace kd::sema

#endif // KD_DSL_SEMA_MODELBUILDER_H

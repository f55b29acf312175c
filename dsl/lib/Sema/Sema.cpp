//===- Sema.cpp - The order of the checks ---------------------------------===//
#include "SemaImpl.h"

namespace kd::sema {

using namespace kd::ast;

Sema::Sema(const Program &prog, DiagnosticEngine &out, const SemaOptions &opts)
    : diags(out.sources()), prog(prog), opts(opts), result(std::make_unique<CheckedProgram>()), out(out) {
  diags.setErrorLimit(1u << 30);
  diags.setConsumer([this](const Diagnostic &d) { forward(d); });
}

// A model instantiated several times (a block used by many models) would
// report the same problem once per instance; the first is enough. Errors get
// "in instantiation of" notes leading back to where the model was used.
void Sema::forward(const Diagnostic &d) {
  if (d.severity == Severity::Note) {
    if (!dropNotes)
      out.report(d.severity, d.range, d.message);
    return;
  }
  auto key = std::make_tuple(d.range.begin.file, d.range.begin.offset, d.message);
  dropNotes = !reported.insert(key).second;
  if (dropNotes)
    return;
  out.report(d.severity, d.range, d.message);
  // Notes the check attaches follow this call; the instantiation chain is
  // appended first so the innermost use comes right after the error.
  for (auto it = contexts.rbegin(); it != contexts.rend(); ++it) {
    std::string msg = "in instantiation of model '" + it->model + "'";
    if (!it->useDescription.empty())
      msg += " for " + it->useDescription;
    out.note(it->useSite, msg + " here");
  }
}

std::unique_ptr<CheckedProgram> Sema::run() {
  applyOverrides();
  buildSymbolTables();
  // Data first (a `let` it reads is evaluated on demand), so that a `let`
  // anywhere in the file may read a data set (`let n = classes(fmnist)`).
  for (size_t m = 0; m < prog.modules.size(); ++m) {
    currentModule = m;
    for (const DeclPtr &d : prog.modules[m]->decls)
      if (const auto *data = dyn_cast<DataDecl>(d.get()))
        checkData(*data);
  }
  for (size_t m = 0; m < prog.modules.size(); ++m) {
    currentModule = m;
    for (const DeclPtr &d : prog.modules[m]->decls)
      if (const auto *let = dyn_cast<LetDecl>(d.get()))
        if (std::optional<ConstValue> v = letValue(*let); v && m + 1 == prog.modules.size())
          result->constants.push_back({let->name, *v});
  }
  checkModelUses();
  for (size_t m = 0; m < prog.modules.size(); ++m) {
    currentModule = m;
    for (const DeclPtr &d : prog.modules[m]->decls) {
      if (const auto *stage = dyn_cast<StageDecl>(d.get()))
        checkStage(*stage);
      else if (const auto *stmt = dyn_cast<StatementDecl>(d.get()))
        checkTopStatement(*stmt);
    }
  }
  checkStandaloneModels();
  for (const auto &[key, value] : overrideValues)
    if (!usedOverrides.count(key))
      diags.error(SourceRange(), "--set: no constant or stage setting named '" + key + "'");
  if (out.hadError() || diags.hadError())
    return nullptr;
  return std::move(result);
}

std::optional<CheckedCall> Sema::checkBuiltinCall(BuiltinKind kind, const Expr &expr) {
  std::string name;
  SourceRange nameRange = expr.range;
  static const std::vector<Arg> noArgs;
  const std::vector<Arg> *args = &noArgs;
  if (const auto *n = dyn_cast<NameExpr>(&expr)) {
    name = n->name;
  } else if (const auto *call = dyn_cast<CallExpr>(&expr)) {
    name = std::string(call->calleeName());
    nameRange = call->callee->range;
    args = &call->args;
  }
  if (name.empty()) {
    diags.error(expr.range, std::string("expected ") + kindName(kind) + " name or call");
    return std::nullopt;
  }
  const Builtin *builtin = findBuiltin(kind, name);
  if (!builtin) {
    std::string msg = std::string("unknown ") + kindName(kind) + " '" + name + "'";
    std::string close = closestMatch(name, builtinNames(kind));
    if (!close.empty())
      msg += "; did you mean '" + close + "'?";
    diags.error(nameRange, msg);
    return std::nullopt;
  }
  Evaluator eval(*this);
  CallTarget target{std::string(kindName(kind)) + " '" + name + "'", SourceRange()};
  std::optional<BoundArgs> bound = bindArguments(target, builtin->params, *args, expr.range, eval, diags);
  if (!bound)
    return std::nullopt;
  CheckedCall call;
  call.name = name;
  call.range = expr.range;
  call.attrs = bound->constants();
  // onecycle's momentum falls from max_momentum to base_momentum and back.
  if (kind == BuiltinKind::Schedule && name == "onecycle" &&
      bound->getNumber("base_momentum") > bound->getNumber("max_momentum")) {
    const BoundArg *base = bound->find("base_momentum"), *max = bound->find("max_momentum");
    diags.error(base->given ? base->range : max->given ? max->range : expr.range,
                "schedule 'onecycle': base_momentum (" + base->value.str() + ") must not exceed max_momentum (" +
                    max->value.str() + ")");
    return std::nullopt;
  }
  // Nested built-ins: a schedule inside warmup(then: ...).
  for (const BoundArg &slot : bound->slots) {
    if (!slot.given || isConstantType(slot.spec->type))
      continue;
    if (slot.spec->type == ParamType::Schedule) {
      if (std::optional<CheckedCall> nested = checkBuiltinCall(BuiltinKind::Schedule, *slot.expr))
        call.nested.push_back(*nested);
      else
        return std::nullopt;
    }
  }
  return call;
}

std::optional<int64_t> Sema::positiveInt(const Expr *expr, SourceRange where, const std::string &what) {
  if (!expr) {
    diags.error(where, what + " is missing");
    return std::nullopt;
  }
  Evaluator eval(*this);
  Value v = eval.eval(*expr);
  if (!v.ok())
    return std::nullopt;
  if (v.kind != Value::Kind::Const || !v.constant.isInt() || v.constant.intValue < 1) {
    diags.error(expr->range, what + " must be a positive int, got " +
                                 (v.kind == Value::Kind::Const ? v.constant.str() : describe(v)));
    return std::nullopt;
  }
  return v.constant.intValue;
}

SplitRef Sema::checkSplitRef(const Expr &expr) {
  Evaluator eval(*this);
  Value v = eval.eval(expr);
  if (!v.ok())
    return {};
  if (v.kind != Value::Kind::Split) {
    diags.error(expr.range, "expected a data split such as 'd.train', got " + describe(v));
    return {};
  }
  return v.split;
}

} // namespace kd::sema

namespace kd {

std::unique_ptr<CheckedProgram> check(const Program &prog, DiagnosticEngine &diags, const SemaOptions &opts) {
  if (prog.modules.empty())
    return std::make_unique<CheckedProgram>();
  sema::Sema sema(prog, diags, opts);
  return sema.run();
}

const CheckedSplit *CheckedData::findSplit(const std::string &name) const {
  for (const CheckedSplit &s : splits)
    if (s.name == name)
      return &s;
  return nullptr;
}

const NamedValue *ModelInstance::findValue(const std::string &name) const {
  for (const NamedValue &v : values)
    if (v.name == name && v.kind != NamedValue::Kind::Output)
      return &v;
  if (name == "output")
    for (const NamedValue &v : values)
      if (v.kind == NamedValue::Kind::Output)
        return &v;
  return nullptr;
}

std::vector<const NamedValue *> ModelInstance::exits() const {
  std::vector<const NamedValue *> out;
  for (const NamedValue &v : values)
    if (v.kind == NamedValue::Kind::Exit)
      out.push_back(&v);
  return out;
}

std::vector<const NamedValue *> ModelInstance::blocks() const {
  std::vector<const NamedValue *> out;
  for (const NamedValue &v : values)
    if (v.kind == NamedValue::Kind::Block)
      out.push_back(&v);
  return out;
}

int64_t ModelInstance::parameterCount() const {
  int64_t n = 0;
  for (const LayerNode &node : nodes)
    for (const auto &p : node.learnable)
      n += numElements(p.second);
  return n;
}

int64_t ModelInstance::multiplyAdds() const {
  int64_t total = 0;
  for (const LayerNode &node : nodes) {
    if (node.op == "conv" || node.op == "linear") {
      // Each output element is a dot product over the weight's fan-in:
      // [out, C / groups, k, k] for a conv, [out, D] for a linear layer.
      for (const auto &[name, shape] : node.learnable)
        if (name == "weight" && !shape.empty() && shape[0] > 0)
          total += numElements(node.shape) * (numElements(shape) / shape[0]);
    } else if (node.op == "mha" && node.shape.size() == 2) {
      // Q, K, V and output projections, then scores and their weighted sum.
      int64_t tokens = node.shape[0], width = node.shape[1];
      total += 4 * tokens * width * width + 2 * tokens * tokens * width;
    } else if (node.op == "matmul" && node.inputs.size() == 2) {
      const Shape &a = nodes[size_t(node.inputs[0])].shape;
      if (a.size() == 2)
        total += numElements(node.shape) * a[1];
    }
  }
  return total;
}

int CheckedProgram::findData(const std::string &name) const {
  for (size_t i = 0; i < data.size(); ++i)
    if (data[i].name == name)
      return int(i);
  return -1;
}

int CheckedProgram::findInstance(const std::string &name) const {
  for (size_t i = 0; i < instances.size(); ++i)
    if (instances[i].name == name)
      return int(i);
  return -1;
}

const CheckedModelUse *CheckedProgram::findUse(const std::string &name) const {
  for (const CheckedModelUse &u : uses)
    if (u.name == name)
      return &u;
  return nullptr;
}

} // namespace kd

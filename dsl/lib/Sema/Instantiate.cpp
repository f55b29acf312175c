//===- Instantiate.cpp - Model instantiation and shape inference -----------===//
//
// Every teacher and student instantiates its model with its arguments on the
// input shape of its data; every named value, block, exit and the output get
// a shape. `repeat` is unrolled, `if` items and expressions are decided, and
// composed models are expanded with their own parameters. A shape error is
// reported at the expression that causes it, with notes leading back to the
// use site (Sema::forward appends them).
//
//===----------------------------------------------------------------------===//
#include "ModelBuilder.h"

#include "ShapeFunctions.h"

namespace kd::sema {

using namespace kd::ast;

namespace {
void collectDefinitions(const std::vector<ModelItem> &items, std::map<std::string, SourceRange> &out) {
  for (const ModelItem &item : items) {
    if (!item.name.empty())
      out.emplace(item.name, item.nameRange);
    collectDefinitions(item.thenItems, out);
    collectDefinitions(item.elseItems, out);
  }
}

std::vector<std::string> layerAndModelNames(const Sema &sema) {
  std::vector<std::string> names = builtinNames(BuiltinKind::Layer);
  if (sema.currentModule < sema.visible.size())
    for (const auto &[name, decl] : sema.visible[sema.currentModule])
      if (decl->kind == DeclKind::Model)
        names.push_back(name);
  return names;
}
} // namespace

Value ModelBuilder::unknownShapeQuery(const CallExpr &e, const Value &tensor) {
  // Without an input shape nothing downstream of the query can be checked;
  // that is the standalone check's normal state, not an error.
  if (symbolic)
    return Value::unknown();
  return Evaluator::unknownShapeQuery(e, tensor);
}

std::vector<std::string> ModelBuilder::candidateNames() const {
  std::vector<std::string> names = Evaluator::candidateNames();
  for (const auto &entry : frame.definedLater)
    names.push_back(entry.first);
  return names;
}

std::optional<std::map<std::string, Value>>
ModelBuilder::bindModelArguments(const ModelDecl &decl, const std::vector<Arg> &args, SourceRange callRange) {
  std::vector<ParamSpec> specs;
  for (const Param &p : decl.params) {
    ParamSpec spec;
    spec.name = p.name;
    spec.type = ParamType::Any;
    // Defaults are expressions of the model's own scope, evaluated below.
    spec.presence = p.defaultValue ? ParamSpec::Presence::Derived : ParamSpec::Presence::Required;
    specs.push_back(spec);
  }
  CallTarget target{"model '" + decl.name + "'", decl.nameRange};
  std::optional<BoundArgs> bound = bindArguments(target, specs, args, callRange, *this, sema.diags);
  if (!bound)
    return std::nullopt;

  std::map<std::string, Value> params;
  Evaluator defaults(sema);
  size_t savedModule = sema.currentModule;
  sema.currentModule = sema.moduleOf[&decl];
  bool ok = true;
  for (size_t i = 0; i < decl.params.size(); ++i) {
    const BoundArg &slot = bound->slots[i];
    Value v;
    if (slot.given)
      v = slot.value.isNone() ? Value::unknown() : Value::of(slot.value);
    else
      v = defaults.eval(*decl.params[i].defaultValue);
    if (!v.ok()) {
      ok = false;
      continue;
    }
    if (v.kind != Value::Kind::Const && v.kind != Value::Kind::Unknown) {
      sema.diags.error(decl.params[i].defaultValue->range, "the default of parameter '" + decl.params[i].name +
                                                               "' must be a constant, got " + describe(v));
      ok = false;
      continue;
    }
    // Later defaults may use earlier parameters: `model M(w, hidden = 2 * w)`.
    defaults.bindLocal(decl.params[i].name, v, decl.params[i].range);
    params[decl.params[i].name] = v;
  }
  sema.currentModule = savedModule;
  if (!ok)
    return std::nullopt;
  return params;
}

Value ModelBuilder::expand(const ModelDecl &decl, std::map<std::string, Value> params, std::optional<Value> input,
                           bool top, const std::string &scope) {
  sema.instantiatedModels.insert(&decl);
  Frame saved = std::move(frame);
  auto savedScopes = std::move(scopes);
  size_t savedModule = sema.currentModule;
  std::string savedBlock = currentBlock;

  frame = Frame();
  frame.decl = &decl;
  frame.top = top;
  frame.scope = scope;
  frame.input = std::move(input);
  collectDefinitions(decl.items, frame.definedLater);
  scopes.assign(2, {});
  for (const Param &p : decl.params)
    scopes[0][p.name] = Local{params[p.name], p.range};
  sema.currentModule = sema.moduleOf[&decl];

  runItems(decl.items);

  Value result = Value::error();
  if (!frame.output) {
    sema.diags.error(decl.nameRange, "model '" + decl.name + "' has no 'output'");
  } else {
    result = *frame.output;
  }
  if (frame.input && !frame.inputSeen && !top) {
    sema.diags.error(decl.nameRange, "model '" + decl.name + "' is used as a layer but declares no 'input'");
    result = Value::error();
  }

  frame = std::move(saved);
  scopes = std::move(savedScopes);
  sema.currentModule = savedModule;
  currentBlock = savedBlock;
  return result;
}

void ModelBuilder::runItems(const std::vector<ModelItem> &items) {
  for (const ModelItem &item : items)
    runItem(item);
}

void ModelBuilder::defineName(const std::string &name, const Value &value, SourceRange range) {
  auto &scope = scopes.back();
  auto existing = scope.find(name);
  if (existing != scope.end()) {
    sema.diags.error(range, "duplicate definition of '" + name + "'");
    sema.diags.note(existing->second.defined, "'" + name + "' first defined here");
    return;
  }
  if (scopes[0].count(name)) {
    sema.diags.error(range, "'" + name + "' is already a parameter of model '" + frame.decl->name + "'");
    sema.diags.note(scopes[0][name].defined, "parameter declared here");
    return;
  }
  scope[name] = Local{value, range};
}

void ModelBuilder::runItem(const ModelItem &item) {
  switch (item.kind) {
  case ModelItemKind::Input: {
    if (frame.inputSeen) {
      sema.diags.error(item.range, "model '" + frame.decl->name + "' has more than one 'input'");
      return;
    }
    frame.inputSeen = true;
    std::optional<Shape> declared;
    if (item.value) {
      Value v = eval(*item.value);
      if (v.kind == Value::Kind::Const) {
        bool ints = v.constant.isList() && !v.constant.elements.empty();
        Shape s;
        for (const ConstValue &d : v.constant.elements) {
          ints = ints && d.isInt() && d.intValue > 0;
          s.push_back(d.intValue);
        }
        if (!ints) {
          sema.diags.error(item.value->range, "an input shape is a list of positive ints, got " + v.constant.str());
          return;
        }
        declared = s;
      } else if (v.ok() && v.kind != Value::Kind::Unknown) {
        sema.diags.error(item.value->range, "an input shape is a list of positive ints, got " + describe(v));
      }
    }
    Value in;
    if (frame.input) {
      in = *frame.input;
      if (declared && in.ok() && in.shapeKnown && in.shape != *declared) {
        sema.diags.error(item.value->range, "model '" + frame.decl->name + "' declares input " +
                                                formatShape(*declared) + " but receives " + formatShape(in.shape));
        in = Value::error();
      }
    } else {
      in.kind = Value::Kind::Tensor;
      in.shapeKnown = declared.has_value() && !symbolic;
      if (declared)
        in.shape = *declared;
    }
    if (frame.top && in.ok()) {
      LayerNode node;
      node.id = int(instance.nodes.size());
      node.op = "input";
      node.shape = in.shape;
      node.range = item.range;
      node.tapName = item.name;
      instance.nodes.push_back(node);
      in.id = node.id;
      instance.inputShape = in.shape;
      instance.values.push_back({NamedValue::Kind::Input, item.name, node.id, item.nameRange});
    }
    defineName(item.name, in, item.nameRange);
    return;
  }
  case ModelItemKind::Value:
  case ModelItemKind::Block:
  case ModelItemKind::Exit:
  case ModelItemKind::Output: {
    std::string savedBlock = currentBlock;
    if (item.kind == ModelItemKind::Block && frame.top)
      currentBlock = item.name;
    size_t firstNode = instance.nodes.size();
    Value v = eval(*item.value);
    currentBlock = savedBlock;
    if (v.ok() && v.kind != Value::Kind::Tensor && v.kind != Value::Kind::Unknown &&
        !(item.kind == ModelItemKind::Value && (v.kind == Value::Kind::Const || v.kind == Value::Kind::TensorList))) {
      sema.diags.error(item.value->range, std::string(item.kind == ModelItemKind::Output ? "the output" : "a " +
                                          std::string(item.kind == ModelItemKind::Block ? "block" :
                                                      item.kind == ModelItemKind::Exit ? "exit" : "value")) +
                                              " must be a tensor, got " + describe(v));
      v = Value::error();
    }
    if (item.kind == ModelItemKind::Output) {
      if (frame.output) {
        sema.diags.error(item.range, "model '" + frame.decl->name + "' has more than one 'output'");
        return;
      }
      frame.output = v;
      if (frame.top && v.kind == Value::Kind::Tensor) {
        instance.output = v.id;
        instance.values.push_back({NamedValue::Kind::Output, "output", v.id, item.range});
      }
      return;
    }
    defineName(item.name, v, item.nameRange);
    if (frame.top)
      for (size_t i = firstNode; i < instance.nodes.size(); ++i)
        instance.nodes[i].item = item.name;
    if (v.kind != Value::Kind::Tensor || v.id < 0)
      return;
    LayerNode &node = instance.nodes[size_t(v.id)];
    if (node.tapName.empty())
      node.tapName = frame.scope.empty() ? item.name : frame.scope + "." + item.name;
    if (item.kind == ModelItemKind::Block && frame.top && size_t(v.id) < firstNode) {
      // A block that only renames an earlier value still marks that node.
      node.block = item.name;
    }
    if (!frame.top)
      return;
    NamedValue::Kind kind = item.kind == ModelItemKind::Block  ? NamedValue::Kind::Block
                            : item.kind == ModelItemKind::Exit ? NamedValue::Kind::Exit
                                                               : NamedValue::Kind::Value;
    if (kind == NamedValue::Kind::Exit)
      node.isExit = true;
    instance.values.push_back({kind, item.name, v.id, item.nameRange});
    return;
  }
  case ModelItemKind::If: {
    Value cond = eval(*item.value);
    if (cond.kind == Value::Kind::Unknown) {
      // Not decidable here: check both branches, keeping the names of the
      // first (both usually define the same names).
      auto snapshot = scopes.back();
      runItems(item.thenItems);
      auto afterThen = scopes.back();
      scopes.back() = snapshot;
      runItems(item.elseItems);
      for (auto &entry : afterThen)
        scopes.back().insert(entry);
      return;
    }
    if (!cond.ok())
      return;
    if (cond.kind != Value::Kind::Const || !cond.constant.isBool()) {
      sema.diags.error(item.value->range, "the condition of 'if' must be a bool, got " + describe(cond));
      return;
    }
    runItems(cond.constant.boolValue ? item.thenItems : item.elseItems);
    return;
  }
  }
}

Value ModelBuilder::evalName(const NameExpr &e) {
  if (findLocal(e.name))
    return Evaluator::evalName(e);
  auto later = frame.definedLater.find(e.name);
  if (later != frame.definedLater.end()) {
    sema.diags.error(e.range, "'" + e.name + "' is used before its definition");
    sema.diags.note(later->second, "'" + e.name + "' is defined here");
    return Value::error();
  }
  if (!sema.lookupGlobal(e.name)) {
    if (findBuiltin(BuiltinKind::Layer, e.name)) {
      sema.diags.error(e.range, "layer '" + e.name + "' needs an input; write 'x -> " + e.name + "'");
      return Value::error();
    }
  }
  return Evaluator::evalName(e);
}

Value ModelBuilder::evalChain(const ChainExpr &e) {
  Value input = eval(*e.input);
  if (!input.ok())
    return input;
  if (input.kind == Value::Kind::Unknown) {
    input = Value();
    input.kind = Value::Kind::Tensor;
    input.shapeKnown = false;
  }
  if (input.kind != Value::Kind::Tensor) {
    sema.diags.error(e.input->range, "'->' needs a tensor on its left, got " + describe(input));
    return Value::error();
  }
  return applyLayer(*e.layer, input);
}

Value ModelBuilder::applyLayer(const Expr &layer, const Value &input) {
  if (!input.ok())
    return input;
  if (const auto *chain = dyn_cast<ChainExpr>(&layer))
    return applyLayer(*chain->layer, applyLayer(*chain->input, input));

  std::string name;
  SourceRange nameRange = layer.range;
  const std::vector<Arg> *args = nullptr;
  static const std::vector<Arg> noArgs;
  if (const auto *n = dyn_cast<NameExpr>(&layer)) {
    name = n->name;
    args = &noArgs;
  } else if (const auto *call = dyn_cast<CallExpr>(&layer)) {
    name = std::string(call->calleeName());
    nameRange = call->callee->range;
    args = &call->args;
  }
  if (!name.empty()) {
    if (const Local *local = findLocal(name)) {
      sema.diags.error(nameRange, "'" + name + "' is " + describe(local->value) + ", not a layer");
      sema.diags.note(local->defined, "'" + name + "' defined here");
      return Value::error();
    }
    const Decl *decl = sema.lookupGlobal(name);
    if (const auto *model = decl ? dyn_cast<ModelDecl>(decl) : nullptr)
      return applyModel(*model, *args, layer.range, input);
    if (decl) {
      sema.diags.error(nameRange, "'" + name + "' is not a layer or a model");
      sema.diags.note(decl->nameRange, "'" + name + "' declared here");
      return Value::error();
    }
    if (const Builtin *b = findBuiltin(BuiltinKind::Layer, name))
      return applyBuiltinLayer(*b, *args, layer.range, input);
    if (findBuiltin(BuiltinKind::ValueFunction, name)) {
      sema.diags.error(nameRange, "'" + name + "' is a function of values, not a layer; write '" + name + "(a, b)'");
      return Value::error();
    }
    std::string msg = "unknown layer '" + name + "'";
    std::string close = closestMatch(name, layerAndModelNames(sema));
    if (!close.empty())
      msg += "; did you mean '" + close + "'?";
    sema.diags.error(nameRange, msg);
    return Value::error();
  }
  if (const auto *rep = dyn_cast<RepeatExpr>(&layer)) {
    Value range = eval(*rep->over);
    if (!range.ok())
      return range;
    std::vector<Value> iterations;
    if (range.kind == Value::Kind::Unknown) {
      iterations.push_back(Value::unknown());
    } else if (range.kind == Value::Kind::Const && range.constant.isInt()) {
      if (range.constant.intValue < 0) {
        sema.diags.error(rep->over->range, "a repeat count cannot be negative, got " + range.constant.str());
        return Value::error();
      }
      for (int64_t i = 0; i < range.constant.intValue; ++i)
        iterations.push_back(Value::of(ConstValue::ofInt(i)));
    } else if (range.kind == Value::Kind::Const && range.constant.isList()) {
      for (const ConstValue &c : range.constant.elements)
        iterations.push_back(Value::of(c));
    } else {
      sema.diags.error(rep->over->range, "repeat takes a count or a list, got " + describe(range));
      return Value::error();
    }
    Value current = input;
    for (const Value &iteration : iterations) {
      scopes.emplace_back();
      if (!rep->var.empty())
        bindLocal(rep->var, iteration, rep->varRange);
      current = applyLayer(*rep->body, current);
      scopes.pop_back();
      if (!current.ok())
        break;
    }
    return current;
  }
  if (const auto *cond = dyn_cast<IfExpr>(&layer)) {
    Value c = eval(*cond->cond);
    if (c.kind == Value::Kind::Unknown) {
      Value a = applyLayer(*cond->thenExpr, input);
      Value b = applyLayer(*cond->elseExpr, input);
      return a.ok() ? a : b;
    }
    if (!c.ok())
      return c;
    if (c.kind != Value::Kind::Const || !c.constant.isBool()) {
      sema.diags.error(cond->cond->range, "the condition of 'if' must be a bool, got " + describe(c));
      return Value::error();
    }
    return applyLayer(c.constant.boolValue ? *cond->thenExpr : *cond->elseExpr, input);
  }
  sema.diags.error(layer.range, "expected a layer or a model after '->'");
  return Value::error();
}

Value ModelBuilder::applyBuiltinLayer(const Builtin &builtin, const std::vector<Arg> &args, SourceRange range,
                                      const Value &input) {
  CallTarget target{"layer '" + builtin.name + "'", SourceRange()};
  std::optional<BoundArgs> bound = bindArguments(target, builtin.params, args, range, *this, sema.diags);
  if (!bound)
    return Value::error();
  return makeNode(builtin.name, bound->constants(), {input}, range, builtin.shape, *bound);
}

Value ModelBuilder::makeNode(const std::string &op, Attributes attrs, std::vector<Value> inputs, SourceRange range,
                             const ShapeFn shapeFn, const BoundArgs &args) {
  bool known = !symbolic;
  ShapeQuery query{{}, args};
  for (const Value &in : inputs) {
    known = known && in.shapeKnown;
    query.inputs.push_back(ShapeInput{in.shape, false});
  }
  for (const BoundArg &slot : args.slots)
    if (slot.given && isConstantType(slot.spec->type) && slot.value.isNone())
      known = false;
  LayerNode node;
  node.op = op;
  node.attrs = std::move(attrs);
  node.range = range;
  node.block = currentBlock;
  node.scope = frame.scope;
  for (const Value &in : inputs)
    node.inputs.push_back(in.id);
  Value out;
  out.kind = Value::Kind::Tensor;
  out.shapeKnown = known;
  if (known && shapeFn) {
    ShapeResult r = shapeFn(query);
    if (!r.ok) {
      sema.diags.error(range, r.error);
      if (!r.hint.empty())
        sema.diags.note(range, r.hint);
      return Value::error();
    }
    node.shape = r.shape;
    node.learnable = r.learnable;
    out.shape = r.shape;
  }
  node.id = int(instance.nodes.size());
  out.id = node.id;
  instance.nodes.push_back(std::move(node));
  return out;
}

Value ModelBuilder::applyModel(const ModelDecl &decl, const std::vector<Arg> &args, SourceRange range,
                               const Value &input) {
  std::optional<std::map<std::string, Value>> params = bindModelArguments(decl, args, range);
  if (!params)
    return Value::error();
  // Node ids are unique per instance; scopes only need to tell expansions apart.
  std::string scope = (frame.scope.empty() ? "" : frame.scope + "/") + decl.name + "@" + std::to_string(instance.nodes.size());
  sema.contexts.push_back({decl.name, range, ""});
  Value out = expand(decl, std::move(*params), input, false, scope);
  sema.contexts.pop_back();
  return out;
}

Value ModelBuilder::applyValueFunction(const Builtin &builtin, const CallExpr &call) {
  CallTarget target{"function '" + builtin.name + "'", SourceRange()};
  std::optional<BoundArgs> bound = bindArguments(target, builtin.params, call.args, call.range, *this, sema.diags);
  if (!bound)
    return Value::error();
  std::vector<Value> inputs;
  for (const BoundArg &slot : bound->slots) {
    if (slot.spec->type != ParamType::Tensor && slot.spec->type != ParamType::TensorList)
      continue;
    Value v = eval(*slot.expr);
    if (!v.ok())
      return v;
    if (slot.spec->type == ParamType::Tensor && v.kind == Value::Kind::Tensor) {
      inputs.push_back(v);
    } else if (slot.spec->type == ParamType::TensorList && v.kind == Value::Kind::TensorList) {
      for (const Value &element : v.elements)
        inputs.push_back(element);
    } else if (v.kind == Value::Kind::Unknown) {
      Value t;
      t.kind = Value::Kind::Tensor;
      t.shapeKnown = false;
      inputs.push_back(t);
    } else {
      sema.diags.error(slot.expr->range, "argument '" + slot.spec->name + "' of function '" + builtin.name +
                                             "' must be " +
                                             (slot.spec->type == ParamType::Tensor ? "a tensor" : "a list of tensors") +
                                             ", got " + describe(v));
      return Value::error();
    }
  }
  return makeNode(builtin.name, bound->constants(), std::move(inputs), call.range, builtin.shape, *bound);
}

Value ModelBuilder::evalCall(const CallExpr &e) {
  std::string name(e.calleeName());
  if (name.empty() || name == "len" || findLocal(name))
    return Evaluator::evalCall(e);
  if (const Decl *decl = sema.lookupGlobal(name)) {
    if (isa<ModelDecl>(decl)) {
      sema.diags.error(e.range, "model '" + name + "' is used as a layer and needs an input; write 'x -> " + name +
                                    "(...)'");
      return Value::error();
    }
    return Evaluator::evalCall(e);
  }
  if (const Builtin *b = findBuiltin(BuiltinKind::ValueFunction, name))
    return applyValueFunction(*b, e);
  if (findBuiltin(BuiltinKind::ShapeQuery, name))
    return Evaluator::evalCall(e);
  if (findBuiltin(BuiltinKind::Layer, name)) {
    sema.diags.error(e.range, "layer '" + name + "' needs an input; write 'x -> " + name + "(...)'");
    return Value::error();
  }
  std::vector<std::string> names = layerAndModelNames(sema);
  for (const std::string &f : builtinNames(BuiltinKind::ValueFunction))
    names.push_back(f);
  std::string msg = "unknown function '" + name + "'";
  std::string close = closestMatch(name, names);
  if (!close.empty())
    msg += "; did you mean '" + close + "'?";
  sema.diags.error(e.callee->range, msg);
  return Value::error();
}

int Sema::instantiate(const ModelDecl &decl, const std::vector<Arg> &args, SourceRange callRange,
                      const std::string &useName, const std::string &useDescription,
                      std::optional<Shape> inputShape) {
  ModelInstance instance;
  instance.name = useName;
  instance.modelName = decl.name;
  instance.range = callRange;
  instance.modelRange = decl.nameRange;
  ModelBuilder builder(*this, instance, /*symbolic=*/false);
  std::optional<std::map<std::string, Value>> params = builder.bindModelArguments(decl, args, callRange);
  if (!params)
    return -1;
  for (const Param &p : decl.params)
    instance.params.push_back({p.name, (*params)[p.name].constant});
  std::optional<Value> input;
  if (inputShape) {
    Value in;
    in.kind = Value::Kind::Tensor;
    in.shape = *inputShape;
    input = in;
  }
  unsigned errorsBefore = diags.errorCount();
  // A standalone check (no use site) has no instantiation to point back to.
  bool hasUseSite = !useDescription.empty();
  if (hasUseSite)
    contexts.push_back({decl.name, callRange, useDescription});
  Value out = builder.expand(decl, std::move(*params), input, /*top=*/true, "");
  if (hasUseSite)
    contexts.pop_back();
  if (!out.ok() || diags.errorCount() != errorsBefore)
    return -1;
  if (instance.values.empty() || instance.values.front().kind != NamedValue::Kind::Input) {
    diags.error(decl.nameRange, "model '" + decl.name + "' declares no 'input'");
    return -1;
  }
  if (!out.shapeKnown)
    return -1;
  result->instances.push_back(std::move(instance));
  return int(result->instances.size()) - 1;
}

void Sema::checkStandaloneModels() {
  for (size_t m = 0; m < prog.modules.size(); ++m) {
    for (const DeclPtr &d : prog.modules[m]->decls) {
      const auto *decl = dyn_cast<ModelDecl>(d.get());
      if (!decl || instantiatedModels.count(decl))
        continue;
      currentModule = m;
      // A model with a declared input shape and defaults for every
      // parameter is instantiated for real; anything else is checked for
      // names and arguments only.
      bool allDefaults = true;
      for (const Param &p : decl->params)
        allDefaults = allDefaults && p.defaultValue;
      bool declaredShape = false;
      for (const ModelItem &item : decl->items)
        declaredShape = declaredShape || (item.kind == ModelItemKind::Input && item.value);
      if (allDefaults && declaredShape) {
        int index = instantiate(*decl, {}, decl->nameRange, decl->name, "", std::nullopt);
        if (index >= 0 && m + 1 != prog.modules.size())
          result->instances.pop_back(); // imported library models are not part of this program
        continue;
      }
      ModelInstance scratch;
      ModelBuilder builder(*this, scratch, /*symbolic=*/true);
      std::map<std::string, Value> params;
      Evaluator defaults(*this);
      for (const Param &p : decl->params) {
        Value v = p.defaultValue ? defaults.eval(*p.defaultValue) : Value::unknown();
        if (!v.ok() || v.kind != Value::Kind::Const)
          v = Value::unknown();
        defaults.bindLocal(p.name, v, p.range);
        params[p.name] = v;
      }
      builder.expand(*decl, std::move(params), std::nullopt, /*top=*/true, "");
    }
  }
}

} // namespace kd::sema

//===- CheckLosses.cpp - Loss expressions ---------------------------------===//
//
// A loss is built from loss calls (`kl(S.logits, T.logits, temperature: 4)`)
// combined with `+`, `-`, scalar `*` and `/`, and sums over collections. Its
// leaves are features: taps of model instances (`S.embed`, `S.exits`), the
// labels, trainable helpers (`adapt`, `attention_fuse`) whose shapes are
// inferred here, and built-in layers applied to them
// (`adaptive_maxpool(T.l4, like: S.l4)`, `T.l3 -> gap`, `f -> linear(10)`). Every tap must
// exist, and the shapes of each call's arguments must agree. Identical calls
// of a trainable helper in one loss are one module (`attention_fuse([T1.f,
// T2.f])` in a relation term and in its anchor term). `detach(x)` reads `x`
// without passing it a gradient.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include "ShapeFunctions.h"

#include <algorithm>

namespace kd::sema {

using namespace kd::ast;

namespace {
class LossBuilder : public Evaluator {
public:
  LossBuilder(Sema &sema, CheckedLoss &loss, std::set<int> *read, const CheckedData *labelData)
      : Evaluator(sema), loss(loss), read(read), labelData(labelData) {}

protected:
  Value evalName(const NameExpr &e) override {
    if (e.name == "label" && !findLocal(e.name) && !sema.lookupGlobal(e.name)) {
      loss.usesLabel = true;
      Value v;
      v.kind = Value::Kind::Label;
      v.shapeKnown = true;
      if (labelRange.begin.file == 0)
        labelRange = e.range;
      return v;
    }
    return Evaluator::evalName(e);
  }

  Value evalMember(const MemberExpr &e) override {
    Value base = eval(*e.base);
    if (base.kind != Value::Kind::Use)
      return base.ok() ? memberOfOther(e, base) : base;
    std::string useName = base.constant.stringValue;
    const CheckedModelUse *use = sema.result->findUse(useName);
    if (!use)
      return Value::error();
    if (use->source == CheckedModelUse::Source::Ensemble)
      return ensembleMember(e, *use);
    if (use->instance < 0)
      return Value::error(); // its instantiation failed and was reported
    return tapOf(e, use->instance, useName, base.hybrid);
  }

  Value evalCall(const CallExpr &e) override;
  Value evalChain(const ChainExpr &e) override;
  bool sameFeature(const FeatureNode &a, const FeatureNode &b) const;
  Value layerCall(const CallExpr &e, const Builtin &layer);
  Value applyLayer(const Value &input, const Builtin &layer, const BoundArgs &bound, SourceRange layerRange,
                   SourceRange range);
  Value nonConstBinary(const BinaryExpr &e, const Value &lhs, const Value &rhs) override;

public:
  SourceRange labelRange;

private:
  Value memberOfOther(const MemberExpr &e, const Value &base) {
    // d.split and the like go through the base evaluator's rules.
    (void)base;
    return Evaluator::evalMember(e);
  }

  // Evaluates for the shape only: the taps `evaluate` names are not read by
  // the loss, so they neither become features nor freeze their model.
  template <typename Evaluate> Value unread(Evaluate evaluate) {
    size_t features = loss.features.size();
    std::optional<std::set<int>> readBefore;
    if (read)
      readBefore = *read;
    Value v = evaluate();
    loss.features.resize(features);
    if (read)
      *read = std::move(*readBefore);
    return v;
  }

  Value feature(FeatureNode node) {
    Value v;
    v.kind = Value::Kind::Tensor;
    v.shape = node.shape;
    v.id = int(loss.features.size());
    loss.features.push_back(std::move(node));
    return v;
  }

  Value tapOf(const MemberExpr &e, int instanceIndex, const std::string &useName, bool hybrid = false) {
    const ModelInstance &inst = sema.result->instances[size_t(instanceIndex)];
    if (read)
      read->insert(instanceIndex);
    auto tap = [&](const NamedValue &nv) {
      FeatureNode f;
      f.kind = FeatureNode::Kind::Tap;
      f.instance = instanceIndex;
      f.node = nv.node;
      f.tap = nv.name;
      f.hybrid = hybrid;
      f.shape = inst.nodes[size_t(nv.node)].shape;
      f.range = e.range;
      return feature(std::move(f));
    };
    if (e.member == "exits") {
      Value list;
      list.kind = Value::Kind::TensorList;
      for (const NamedValue *exit : inst.exits())
        list.elements.push_back(tap(*exit));
      if (list.elements.empty()) {
        sema.diags.error(e.memberRange, "model '" + inst.modelName + "' of '" + useName + "' declares no exits");
        sema.diags.note(inst.modelRange, "model '" + inst.modelName + "' declared here");
        return Value::error();
      }
      return list;
    }
    if (const NamedValue *nv = inst.findValue(e.member))
      return tap(*nv);
    std::vector<std::string> names = {"exits", "output"};
    for (const NamedValue &nv : inst.values)
      names.push_back(nv.name);
    std::string msg = "model '" + inst.modelName + "' of '" + useName + "' has no value named '" + e.member + "'";
    std::string close = closestMatch(e.member, names);
    if (!close.empty())
      msg += "; did you mean '" + close + "'?";
    sema.diags.error(e.memberRange, msg);
    sema.diags.note(inst.modelRange, "model '" + inst.modelName + "' declared here");
    return Value::error();
  }

  // `E.logits` of an ensemble: the members' taps, combined per the weighting.
  Value ensembleMember(const MemberExpr &e, const CheckedModelUse &use) {
    FeatureNode f;
    f.kind = FeatureNode::Kind::Value;
    f.op = "ensemble";
    f.tap = e.member;
    f.range = e.range;
    f.attrs.push_back({"weights", ConstValue::ofString(use.weighting)});
    f.attrs.push_back({"ensemble", ConstValue::ofString(use.name)});
    for (const std::string &member : use.members) {
      const CheckedModelUse *m = sema.result->findUse(member);
      if (!m || m->instance < 0)
        return Value::error();
      Value t = tapOf(e, m->instance, member);
      if (!t.ok())
        return t;
      if (t.kind != Value::Kind::Tensor) {
        sema.diags.error(e.memberRange, "only a single value can be taken from an ensemble");
        return Value::error();
      }
      if (!f.inputs.empty() && t.shape != f.shape) {
        sema.diags.error(e.range, "ensemble members disagree on '" + e.member + "': " + formatShape(f.shape) +
                                      " and " + formatShape(t.shape));
        return Value::error();
      }
      f.shape = t.shape;
      f.inputs.push_back(t.id);
    }
    if (f.inputs.empty())
      return Value::error();
    return feature(std::move(f));
  }

  // An ensemble's value is the mixture of its members' predictions softened
  // at the temperature of the loss that reads it: only the target of kl and
  // the teacher of dkd read it so (section 8.5 of the language reference).
  bool checkEnsembleUses(const std::string &callee, const std::vector<Value> &inputs) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Value &v = inputs[i];
      if (v.kind != Value::Kind::Tensor || v.id < 0)
        continue;
      const FeatureNode &f = loss.features[size_t(v.id)];
      if (f.kind != FeatureNode::Kind::Value || f.op != "ensemble")
        continue;
      std::string ensemble;
      for (const auto &[key, value] : f.attrs)
        if (key == "ensemble")
          ensemble = value.stringValue;
      std::string name = "'" + ensemble + "." + f.tap + "'";
      if ((callee == "kl" || callee == "dkd") && i == 1) {
        if (f.shape.size() == 1)
          continue;
        sema.diags.error(f.range, "ensemble " + name + " is " + formatShape(f.shape) +
                                      "; an ensemble mixes class predictions, which are [K]");
        return false;
      }
      sema.diags.error(f.range, "ensemble " + name + " can only be the target of kl or the teacher of dkd, not " +
                                    (i == 0 && (callee == "kl" || callee == "dkd") ? "the student side of "
                                                                                   : "an argument of ") +
                                    "'" + callee + "'");
      sema.diags.note(f.range, "an ensemble's prediction is the weighted mixture of its members' predictions "
                               "softened at the loss's temperature; distill from it with kl(S.logits, " +
                                   name.substr(1, name.size() - 2) + ", temperature: T)");
      return false;
    }
    return true;
  }

  // Notes pointing at the models whose taps a failed call read.
  void noteSources(const std::vector<Value> &inputs) {
    for (const Value &v : inputs) {
      if (v.kind != Value::Kind::Tensor || v.id < 0)
        continue;
      const FeatureNode &f = loss.features[size_t(v.id)];
      if (f.kind != FeatureNode::Kind::Tap)
        continue;
      const ModelInstance &inst = sema.result->instances[size_t(f.instance)];
      const CheckedModelUse *use = sema.result->findUse(inst.name);
      sema.diags.note(use ? use->range : inst.range, "'" + inst.name + "." + f.tap + "' is " + formatShape(f.shape) +
                                                         " in model '" + inst.modelName + "'");
    }
  }

  // Evaluates the tensor arguments of a bound call, in parameter order.
  bool tensorArgs(const Builtin &b, const BoundArgs &bound, std::vector<Value> &out) {
    for (const BoundArg &slot : bound.slots) {
      if (slot.spec->type != ParamType::Tensor && slot.spec->type != ParamType::TensorList)
        continue;
      Value v = eval(*slot.expr);
      if (!v.ok())
        return false;
      if (slot.spec->type == ParamType::Tensor && (v.kind == Value::Kind::Tensor || v.kind == Value::Kind::Label)) {
        out.push_back(v);
      } else if (slot.spec->type == ParamType::TensorList && v.kind == Value::Kind::TensorList) {
        for (const Value &element : v.elements)
          out.push_back(element);
      } else {
        sema.diags.error(slot.expr->range, "argument '" + slot.spec->name + "' of " + kindName(b.kind) + " '" +
                                               b.name + "' must be " +
                                               (slot.spec->type == ParamType::Tensor ? "a feature" : "a list of features") +
                                               " such as 'S.logits', got " + describe(v));
        return false;
      }
    }
    return true;
  }

  Value comprehension(const CallExpr &e, const ComprehensionExpr &c, bool average) {
    Value collection = eval(*c.collection);
    if (!collection.ok())
      return collection;
    if (collection.kind != Value::Kind::TensorList) {
      sema.diags.error(c.collection->range, "a comprehension runs over a collection such as 'S.exits', got " +
                                                describe(collection));
      return Value::error();
    }
    int total = -1;
    for (const Value &element : collection.elements) {
      scopes.emplace_back();
      bindLocal(c.var, element, c.varRange);
      Value term = eval(*c.body);
      scopes.pop_back();
      if (!term.ok())
        return term;
      if (term.kind != Value::Kind::Loss) {
        sema.diags.error(c.body->range, "the body of " + std::string(average ? "mean" : "sum") +
                                            "(...) must be a loss, got " + describe(term));
        return Value::error();
      }
      if (total < 0) {
        total = term.id;
        continue;
      }
      LossNode add;
      add.kind = LossNode::Kind::Add;
      add.operands = {total, term.id};
      add.range = e.range;
      total = int(loss.nodes.size());
      loss.nodes.push_back(add);
    }
    if (average && collection.elements.size() > 1) {
      LossNode div;
      div.kind = LossNode::Kind::Div;
      div.operands = {total};
      div.constant = double(collection.elements.size());
      div.range = e.range;
      total = int(loss.nodes.size());
      loss.nodes.push_back(div);
    }
    Value v;
    v.kind = Value::Kind::Loss;
    v.id = total;
    return v;
  }

  // `ce(x, label)` and `dkd(s, t, label)` score the classes of the data
  // trained on: logits of another width would index past (or short of) the
  // labels at run time, so the mismatch is an error here.
  bool checkClassCount(const CallExpr &e, const std::vector<Value> &inputs) {
    if (!labelData || labelData->numClasses <= 0 || inputs.empty())
      return true;
    bool againstLabels = false;
    for (const Value &v : inputs)
      againstLabels = againstLabels || v.kind == Value::Kind::Label;
    const Value &logits = inputs.front();
    if (!againstLabels || logits.kind != Value::Kind::Tensor || logits.shape.size() != 1 ||
        logits.shape[0] == labelData->numClasses)
      return true;
    sema.diags.error(e.range, std::string(e.calleeName()) + "(): the logits score " +
                                  std::to_string(logits.shape[0]) + " classes but data '" + labelData->name +
                                  "' has " + std::to_string(labelData->numClasses) + " labels");
    noteSources({logits});
    sema.noteLabels(*labelData);
    return false;
  }

  CheckedLoss &loss;
  std::set<int> *read;
  const CheckedData *labelData;
};

Value LossBuilder::evalCall(const CallExpr &e) {
  std::string name(e.calleeName());
  if (name.empty() || name == "len" || findLocal(name) || sema.lookupGlobal(name))
    return Evaluator::evalCall(e);
  if (findBuiltin(BuiltinKind::ShapeQuery, name))
    return unread([&] { return Evaluator::evalCall(e); }); // `shape(T.l3)` is a constant
  if ((name == "sum" || name == "mean") && e.args.size() == 1)
    if (const auto *c = dyn_cast<ComprehensionExpr>(e.args[0].value.get()))
      return comprehension(e, *c, name == "mean");
  if (name == "sum") {
    sema.diags.error(e.range, "sum takes a comprehension: sum(e in S.exits: ...)");
    return Value::error();
  }
  const Builtin *b = findBuiltin(BuiltinKind::Loss, name);
  if (!b)
    b = findBuiltin(BuiltinKind::Helper, name);
  if (!b)
    b = findBuiltin(BuiltinKind::ValueFunction, name);
  if (!b) {
    if (const Builtin *layer = findBuiltin(BuiltinKind::Layer, name))
      return layerCall(e, *layer);
    std::vector<std::string> names = builtinNames(BuiltinKind::Loss);
    for (BuiltinKind k : {BuiltinKind::Helper, BuiltinKind::ValueFunction})
      for (const std::string &n : builtinNames(k))
        names.push_back(n);
    for (const std::string &n : builtinNames(BuiltinKind::Layer))
      names.push_back(n);
    std::string msg = "unknown loss '" + name + "'";
    std::string close = closestMatch(name, names);
    if (!close.empty())
      msg += "; did you mean '" + close + "'?";
    sema.diags.error(e.callee->range, msg);
    return Value::error();
  }
  CallTarget target{std::string(kindName(b->kind)) + " '" + name + "'", SourceRange()};
  std::optional<BoundArgs> bound = bindArguments(target, b->params, e.args, e.range, *this, sema.diags);
  if (!bound)
    return Value::error();
  std::vector<Value> inputs;
  if (!tensorArgs(*b, *bound, inputs))
    return Value::error();
  ShapeQuery query{{}, *bound};
  for (const Value &v : inputs)
    query.inputs.push_back(ShapeInput{v.shape, v.kind == Value::Kind::Label});
  ShapeResult r = b->shape(query);
  if (!r.ok) {
    sema.diags.error(e.range, r.error);
    noteSources(inputs);
    if (!r.hint.empty())
      sema.diags.note(e.range, r.hint);
    return Value::error();
  }
  if (b->kind == BuiltinKind::Loss && !checkClassCount(e, inputs))
    return Value::error();
  if (!checkEnsembleUses(name, inputs))
    return Value::error();
  std::vector<int> ids;
  for (const Value &v : inputs) {
    if (v.kind == Value::Kind::Label) {
      FeatureNode label;
      label.kind = FeatureNode::Kind::Label;
      label.range = v.shapeKnown ? e.range : e.range;
      ids.push_back(feature(std::move(label)).id);
    } else {
      ids.push_back(v.id);
    }
  }
  if (b->kind == BuiltinKind::Loss) {
    LossNode node;
    node.kind = LossNode::Kind::Call;
    node.op = name;
    node.attrs = bound->constants();
    node.features = ids;
    node.range = e.range;
    Value v;
    v.kind = Value::Kind::Loss;
    v.id = int(loss.nodes.size());
    loss.nodes.push_back(std::move(node));
    return v;
  }
  FeatureNode f;
  f.kind = b->kind == BuiltinKind::Helper ? FeatureNode::Kind::Helper : FeatureNode::Kind::Value;
  f.op = name;
  f.attrs = bound->constants();
  if (name == "adapt") {
    // Record what "auto" chose, so the importer builds that adapter.
    for (auto &[key, value] : f.attrs)
      if (key == "kind")
        value = ConstValue::ofString(r.hint);
  }
  f.inputs = ids;
  f.shape = r.shape;
  f.learnable = r.learnable;
  f.range = e.range;
  if (f.kind == FeatureNode::Kind::Helper && !f.learnable.empty())
    for (size_t other = 0; other < loss.features.size(); ++other)
      if (sameFeature(f, loss.features[other])) {
        Value v;
        v.kind = Value::Kind::Tensor;
        v.shape = f.shape;
        v.id = int(other);
        return v;
      }
  return feature(std::move(f));
}

// Equal features: the same taps, labels, and helpers and layers with the
// same arguments applied to equal features.
bool LossBuilder::sameFeature(const FeatureNode &a, const FeatureNode &b) const {
  if (a.kind != b.kind || a.op != b.op || a.instance != b.instance || a.node != b.node || a.tap != b.tap ||
      a.hybrid != b.hybrid || a.shape != b.shape || a.inputs.size() != b.inputs.size() ||
      a.attrs.size() != b.attrs.size())
    return false;
  for (size_t i = 0; i < a.attrs.size(); ++i)
    if (a.attrs[i].first != b.attrs[i].first || !(a.attrs[i].second == b.attrs[i].second))
      return false;
  for (size_t i = 0; i < a.inputs.size(); ++i)
    if (a.inputs[i] != b.inputs[i] &&
        !sameFeature(loss.features[size_t(a.inputs[i])], loss.features[size_t(b.inputs[i])]))
      return false;
  return true;
}

// `T.l3 -> adaptive_maxpool(4, 4)` inside a loss: built-in layers applied to
// a feature (pooling a teacher map to the student's size).
Value LossBuilder::evalChain(const ChainExpr &e) {
  Value input = eval(*e.input);
  if (!input.ok())
    return input;
  if (input.kind != Value::Kind::Tensor) {
    sema.diags.error(e.input->range, "'->' needs a feature on its left, got " + describe(input));
    return Value::error();
  }
  std::string name;
  static const std::vector<Arg> noArgs;
  const std::vector<Arg> *args = &noArgs;
  if (const auto *n = dyn_cast<NameExpr>(e.layer.get()))
    name = n->name;
  else if (const auto *c = dyn_cast<CallExpr>(e.layer.get())) {
    name = std::string(c->calleeName());
    args = &c->args;
  }
  const Builtin *b = name.empty() ? nullptr : findBuiltin(BuiltinKind::Layer, name);
  if (!b) {
    std::string msg = name.empty() ? std::string("expected a built-in layer after '->'")
                                   : "unknown layer '" + name + "'";
    std::string close = name.empty() ? "" : closestMatch(name, builtinNames(BuiltinKind::Layer));
    if (!close.empty())
      msg += "; did you mean '" + close + "'?";
    sema.diags.error(e.layer->range, msg);
    return Value::error();
  }
  std::optional<BoundArgs> bound =
      bindArguments({"layer '" + name + "'", SourceRange()}, b->params, *args, e.layer->range, *this, sema.diags);
  if (!bound)
    return Value::error();
  return applyLayer(input, *b, *bound, e.layer->range, e.range);
}

// `adaptive_maxpool(T.l4, 4, 4)` or `adaptive_maxpool(T.l4, like: S.l4)`:
// the call form of a chain, the feature first. `like: F` gives the layer's
// output size `h, w` from F's shape, so that a teacher map follows the
// student's whatever resolution the student sees; F itself is not read.
Value LossBuilder::layerCall(const CallExpr &e, const Builtin &b) {
  const std::string what = "layer '" + b.name + "'";
  if (e.args.empty() || !e.args.front().name.empty()) {
    sema.diags.error(e.range, what + " in a loss takes the feature first, e.g. " + b.name + "(T.l3" +
                                  (b.params.empty() ? "" : ", ...") + ")");
    return Value::error();
  }
  auto sized = [&](const ParamSpec &p) { return p.name == "h" || p.name == "w"; };
  bool hasSize = std::count_if(b.params.begin(), b.params.end(), sized) == 2;
  // The call binds as x, the layer's parameters, then like.
  std::vector<ParamSpec> params;
  ParamSpec x;
  x.name = "x";
  x.type = ParamType::Tensor;
  params.push_back(x);
  for (const ParamSpec &p : b.params)
    params.push_back(p);
  ParamSpec like = x;
  like.name = "like";
  like.presence = ParamSpec::Presence::Derived;
  params.push_back(like);

  const Arg *likeArg = nullptr;
  for (const Arg &a : e.args)
    if (a.name == "like")
      likeArg = &a;
  if (likeArg) {
    if (!hasSize) {
      sema.diags.error(likeArg->nameRange, "'like:' gives an output size h, w; " + what + " has none");
      return Value::error();
    }
    Value target = unread([&] { return eval(*likeArg->value); });
    if (!target.ok())
      return target;
    if (target.kind != Value::Kind::Tensor || target.shape.size() != 3) {
      sema.diags.error(likeArg->value->range, "'like:' takes a feature map [C, H, W] such as 'S.l3', got " +
                                                  (target.kind == Value::Kind::Tensor ? formatShape(target.shape)
                                                                                      : describe(target)));
      return Value::error();
    }
    for (ParamSpec &p : params)
      if (sized(p)) {
        p.presence = ParamSpec::Presence::Default;
        p.defaultValue = ConstValue::ofInt(target.shape[p.name == "h" ? 1 : 2]);
      }
  }
  std::optional<BoundArgs> bound = bindArguments({what, SourceRange()}, params, e.args, e.range, *this, sema.diags);
  if (!bound)
    return Value::error();
  if (likeArg)
    for (const char *size : {"h", "w"})
      if (const BoundArg *given = bound->find(size); given && given->given) {
        sema.diags.error(given->range, "the output size comes from 'like:' or from h and w, not both");
        return Value::error();
      }
  Value input = eval(*e.args.front().value);
  if (!input.ok())
    return input;
  if (input.kind != Value::Kind::Tensor) {
    sema.diags.error(e.args.front().value->range,
                     "the first argument of " + what + " must be a feature such as 'T.l3', got " + describe(input));
    return Value::error();
  }
  return applyLayer(input, b, *bound, e.range, e.range);
}

// A built-in layer on a feature: shape-checked here, computed in the stage
// (frozen on a teacher's side, differentiated on a student's); a layer with
// parameters is a module of the stage, trained with the student.
Value LossBuilder::applyLayer(const Value &input, const Builtin &b, const BoundArgs &bound, SourceRange layerRange,
                              SourceRange range) {
  ShapeQuery query{{ShapeInput{input.shape, false}}, bound};
  ShapeResult r = b.shape(query);
  if (!r.ok) {
    sema.diags.error(layerRange, r.error);
    noteSources({input});
    if (!r.hint.empty())
      sema.diags.note(layerRange, r.hint);
    return Value::error();
  }
  FeatureNode f;
  f.kind = FeatureNode::Kind::Value;
  f.op = b.name;
  f.attrs = bound.constants();
  f.inputs = {input.id};
  f.shape = r.shape;
  f.learnable = r.learnable;
  f.range = range;
  return feature(std::move(f));
}

Value LossBuilder::nonConstBinary(const BinaryExpr &e, const Value &lhs, const Value &rhs) {
  bool lossL = lhs.kind == Value::Kind::Loss, lossR = rhs.kind == Value::Kind::Loss;
  bool constL = lhs.kind == Value::Kind::Const && lhs.constant.isNumber();
  bool constR = rhs.kind == Value::Kind::Const && rhs.constant.isNumber();
  LossNode node;
  node.range = e.range;
  bool additive = e.op == BinaryOp::Add || e.op == BinaryOp::Sub;
  if (additive && (lossL || lossR) && (lossL || constL) && (lossR || constR)) {
    // A constant term (`ce(...) + 0.5`) becomes a Constant node: it shifts
    // the loss value and has no gradient.
    auto operand = [&](const Value &v) {
      if (v.kind == Value::Kind::Loss)
        return v.id;
      LossNode constant;
      constant.kind = LossNode::Kind::Constant;
      constant.constant = v.constant.asDouble();
      constant.range = e.range;
      loss.nodes.push_back(constant);
      return int(loss.nodes.size()) - 1;
    };
    node.kind = e.op == BinaryOp::Add ? LossNode::Kind::Add : LossNode::Kind::Sub;
    node.operands = {operand(lhs), operand(rhs)};
  } else if (e.op == BinaryOp::Mul && ((lossL && constR) || (constL && lossR))) {
    node.kind = LossNode::Kind::Scale;
    node.operands = {lossL ? lhs.id : rhs.id};
    node.constant = (lossL ? rhs : lhs).constant.asDouble();
  } else if (e.op == BinaryOp::Div && lossL && constR) {
    if (rhs.constant.asDouble() == 0) {
      sema.diags.error(e.range, "division of a loss by zero");
      return Value::error();
    }
    node.kind = LossNode::Kind::Div;
    node.operands = {lhs.id};
    node.constant = rhs.constant.asDouble();
  } else {
    std::string why = (lhs.kind == Value::Kind::Tensor || rhs.kind == Value::Kind::Tensor)
                          ? "; features enter a loss through a loss function such as mse(a, b)"
                          : "; losses combine with '+', '-', and '*' or '/' by a number";
    sema.diags.error(e.opRange, std::string("'") + spelling(e.op) + "' cannot combine " + describe(lhs) + " and " +
                                    describe(rhs) + why);
    return Value::error();
  }
  Value v;
  v.kind = Value::Kind::Loss;
  v.id = int(loss.nodes.size());
  loss.nodes.push_back(std::move(node));
  return v;
}
} // namespace

namespace {
/// Which features of a loss depend on which, through gradient-carrying
/// paths only: `detach(x)` cuts its input off.
struct GradientPaths {
  const CheckedLoss &loss;

  bool reaches(int from, int target) const {
    if (from == target)
      return true;
    const FeatureNode &f = loss.features[size_t(from)];
    if (f.op == "detach")
      return false;
    for (int input : f.inputs)
      if (reaches(input, target))
        return true;
    return false;
  }

  /// Whether `id` is computed from something that trains other than
  /// `except`: a tap of a trained model or another learned module. A
  /// detached student feature still moves as the student trains.
  bool trainable(int id, int except, const std::set<int> &trained) const {
    if (id == except)
      return false;
    const FeatureNode &f = loss.features[size_t(id)];
    if (f.kind == FeatureNode::Kind::Tap)
      return trained.count(f.instance) > 0;
    if (!f.learnable.empty())
      return true;
    for (int input : f.inputs)
      if (trainable(input, except, trained))
        return true;
    return false;
  }
};
} // namespace

void Sema::checkFusionAnchors(const CheckedLoss &loss, const std::set<int> &trained, const CheckedData *labelData) {
  GradientPaths paths{loss};
  for (size_t fuse = 0; fuse < loss.features.size(); ++fuse) {
    const FeatureNode &f = loss.features[fuse];
    if (f.kind != FeatureNode::Kind::Helper || f.op != "attention_fuse")
      continue;
    // Each loss term the fusion reaches with a gradient either anchors it
    // (its other arguments are labels or fixed teacher features) or pulls
    // it towards something that trains as well (the student).
    const LossNode *anchor = nullptr, *pulled = nullptr;
    for (const LossNode &node : loss.nodes) {
      if (node.kind != LossNode::Kind::Call)
        continue;
      bool reached = false, againstTrainable = false;
      for (int argument : node.features) {
        if (paths.reaches(argument, int(fuse)))
          reached = true;
        else if (paths.trainable(argument, int(fuse), trained))
          againstTrainable = true;
      }
      if (!reached)
        continue;
      if (againstTrainable) {
        if (!pulled)
          pulled = &node;
      } else if (!anchor) {
        anchor = &node;
      }
    }
    std::string width = f.shape.empty() ? "N" : std::to_string(f.shape[0]);
    std::string classes =
        labelData && labelData->numClasses > 0 ? std::to_string(labelData->numClasses) : std::string("N");
    std::string anchorTerm = "ce(attention_fuse(...) -> linear(" + classes + "), label)";
    if (pulled && !anchor) {
      diags.error(pulled->range,
                  "the attention_fuse module is trained only by matching a trainable feature here, so it can "
                  "collapse onto it (the fused relation then copies the student's own); anchor it to the "
                  "teachers with a term of its own, e.g. " + anchorTerm +
                      ", and read it here as detach(attention_fuse(...)) if the relation should train the "
                      "student alone");
      diags.note(f.range, "the attention_fuse module, [" + width + "]");
    } else if (!pulled && !anchor) {
      diags.error(f.range, "attention_fuse is detached in every term of the loss, so nothing trains it; add a "
                           "term that anchors it to the teachers, e.g. " + anchorTerm);
    }
  }
}

void Sema::noteLabels(const CheckedData &data) {
  diags.note(data.labelsRange.valid() ? data.labelsRange : data.range,
             "data '" + data.name + "' has " + std::to_string(data.numClasses) + " labels");
}

bool Sema::checkLoss(const Expr &expr, CheckedLoss &loss, std::set<int> *readInstances,
                     const std::map<std::string, int> &aliases, bool featureOnly, const CheckedData *labelData) {
  LossBuilder builder(*this, loss, readInstances, labelData);
  for (const auto &[name, use] : aliases) {
    Value v;
    v.kind = Value::Kind::Use;
    v.constant = ConstValue::ofString(result->uses[size_t(use)].name);
    v.hybrid = true;
    builder.bindLocal(name, v, SourceRange());
  }
  Value v = builder.eval(expr);
  if (!v.ok())
    return false;
  if (featureOnly) {
    if (v.kind != Value::Kind::Tensor) {
      diags.error(expr.range, "expected a feature such as 'mean(S.exits)', got " + describe(v));
      return false;
    }
    loss.feature = v.id;
    return true;
  }
  if (v.kind != Value::Kind::Loss) {
    diags.error(expr.range, "a loss must be a scalar loss expression such as ce(S.logits, label), got " +
                                describe(v));
    return false;
  }
  loss.root = v.id;
  return true;
}

} // namespace kd::sema

//===- CheckStages.cpp - Stages, training bodies, evaluate and export ------===//
//
// A training body (a stage, or a teacher/student's own body) names what
// trains on which split for how long, with which optimizer, schedule and
// loss. The stage kind is inferred from the loss (a teacher's tap: distill;
// the student's own exits: self_distill; a graft statement: graft) and
// checked against a written kind.
//
//===----------------------------------------------------------------------===//
#include "ExprWalk.h"
#include "SemaImpl.h"

#include <algorithm>
#include <cctype>

namespace kd::sema {

using namespace kd::ast;

namespace {
const std::vector<std::string> kStageKinds = {"train", "distill", "self_distill", "graft"};

void rejectUnknownClauses(Sema &sema, const Statement &s, const std::vector<std::string> &allowed) {
  for (const Clause &c : s.clauses) {
    bool known = false;
    for (const std::string &a : allowed)
      known |= a == c.keyword;
    if (!known)
      sema.diags.error(c.range, "'" + c.keyword + "' is not a clause of '" + s.verb + "'");
  }
}

// Where `block` of `inst` starts and ends: the shapes entering and leaving it.
bool blockShapes(const ModelInstance &inst, const std::string &block, Shape &in, Shape &out) {
  const NamedValue *nv = inst.findValue(block);
  if (!nv)
    return false;
  out = inst.nodes[size_t(nv->node)].shape;
  for (const LayerNode &node : inst.nodes) {
    if (node.block != block)
      continue;
    for (int input : node.inputs)
      if (input >= 0 && inst.nodes[size_t(input)].block != block) {
        in = inst.nodes[size_t(input)].shape;
        return true;
      }
  }
  in = out;
  return true;
}
// Metrics compare the prediction with the labels class by class, so what
// `evaluate` reads must be one score per class of the evaluated data.
// The batch an evaluation runs in: its `batch N` clause, else the batch the
// model last trained with before the evaluation (a stage that trains it, or
// a teacher's own training; an ensemble's first member), else
// kDefaultEvaluationBatch for a model nothing trains.
int64_t evaluationBatch(Sema &sema, const CheckedEvaluate &e, const Statement &s) {
  if (const Clause *batch = s.clause("batch"))
    return sema.positiveInt(batch->value.get(), batch->range, "'batch'").value_or(kDefaultEvaluationBatch);
  const CheckedModelUse *use = sema.result->findUse(e.model);
  if (use && use->source == CheckedModelUse::Source::Ensemble && !use->members.empty())
    use = sema.result->findUse(use->members.front());
  if (!use || use->instance < 0)
    return kDefaultEvaluationBatch;
  // Stages are checked in file order, so those seen so far precede `e`.
  for (auto stage = sema.result->stages.rbegin(); stage != sema.result->stages.rend(); ++stage)
    if (stage->batch > 0 && std::find(stage->trained.begin(), stage->trained.end(), use->instance) !=
                                stage->trained.end())
      return stage->batch;
  if (use->train && use->train->batch > 0)
    return use->train->batch;
  return kDefaultEvaluationBatch;
}

void checkEvaluatedClasses(Sema &sema, const CheckedEvaluate &e, const Statement &s) {
  if (e.model.empty() || !e.split.valid())
    return;
  const CheckedData &data = sema.result->data[size_t(e.split.data)];
  if (data.numClasses <= 0)
    return;
  Shape expected = {data.numClasses};
  if (const Clause *usingClause = s.clause("using"); usingClause && usingClause->value) {
    if (!e.using_ || e.using_->feature < 0)
      return; // reported while checking the prediction
    const Shape &predicted = e.using_->features[size_t(e.using_->feature)].shape;
    if (predicted == expected)
      return;
    sema.diags.error(usingClause->value->range, "the prediction is " + formatShape(predicted) + " but data '" +
                                                    data.name + "' has " + std::to_string(data.numClasses) +
                                                    " labels; evaluate needs " + formatShape(expected));
    sema.noteLabels(data);
    return;
  }
  const CheckedModelUse *use = sema.result->findUse(e.model);
  if (!use)
    return;
  int instance = use->instance;
  if (use->source == CheckedModelUse::Source::Ensemble && !use->members.empty())
    if (const CheckedModelUse *member = sema.result->findUse(use->members.front()))
      instance = member->instance;
  if (instance < 0)
    return;
  const ModelInstance &inst = sema.result->instances[size_t(instance)];
  if (inst.output < 0)
    return;
  const Shape &predicted = inst.nodes[size_t(inst.output)].shape;
  if (predicted == expected)
    return;
  sema.diags.error(s.subject->range, "'" + e.model + "' predicts " + formatShape(predicted) + " but data '" +
                                         data.name + "' has " + std::to_string(data.numClasses) +
                                         " labels; evaluate needs " + formatShape(expected));
  sema.diags.note(use->range, "the output of '" + e.model + "' is " + formatShape(predicted) + " in model '" +
                                  inst.modelName + "'");
  sema.noteLabels(data);
}

const ConstValue *attribute(const CheckedCall &call, std::string_view name) {
  for (const auto &[key, value] : call.attrs)
    if (key == name)
      return &value;
  return nullptr;
}

/// A one-cycle schedule that cycles momentum (also after a warm-up) needs
/// an optimizer with momentum: Adam's beta1, or SGD's when not zero.
void checkCycledMomentum(Sema &sema, const TrainSpec &spec) {
  if (!spec.schedule || !spec.optimizer || spec.optimizer->name != "sgd")
    return;
  const CheckedCall *schedule = &*spec.schedule;
  if (schedule->name == "warmup" && !schedule->nested.empty())
    schedule = &schedule->nested.front();
  const ConstValue *cycles = attribute(*schedule, "cycle_momentum");
  const ConstValue *momentum = attribute(*spec.optimizer, "momentum");
  if (schedule->name != "onecycle" || !cycles || !cycles->boolValue || !momentum || momentum->asDouble() != 0)
    return;
  sema.diags.error(schedule->range, "schedule 'onecycle' cycles the momentum, but the optimizer has none to "
                                    "cycle; give sgd a momentum (e.g. sgd(lr: 0.1, momentum: 0.9)) or drop "
                                    "cycle_momentum");
  sema.diags.note(spec.optimizer->range, "the optimizer, sgd without momentum");
}
} // namespace

void Sema::checkLabelsAvailable(const Expr &lossExpr, const CheckedLoss &loss, SplitRef ref) {
  if (!loss.usesLabel || !ref.valid())
    return;
  const CheckedData &data = result->data[size_t(ref.data)];
  const CheckedSplit *split = data.findSplit(ref.split);
  if (!split || !split->unlabeled)
    return;
  SourceRange where = lossExpr.range;
  forEachName(lossExpr, [&](const NameExpr &n) {
    if (n.name == "label")
      where = n.range;
  });
  diags.error(where, "the loss uses 'label' but split '" + data.name + "." + split->name + "' is unlabeled");
  // A slice or union is unlabeled through what it is made of: name that.
  std::vector<std::string> sources = split->parts;
  if (!split->parent.empty())
    sources.push_back(split->parent);
  for (const std::string &name : sources)
    if (const CheckedSplit *from = data.findSplit(name); from && from->unlabeled) {
      diags.note(split->range, "'" + split->name + "' is made of '" + from->name + "', which is unlabeled");
      return;
    }
  diags.note(split->range, "'" + split->name + "' declared unlabeled here");
}

std::optional<TrainSpec> Sema::checkTrainBody(const std::vector<Statement> &body, const std::string &name,
                                              SourceRange range, const UseInfo *owner) {
  TrainSpec spec;
  spec.name = name;
  spec.range = range;
  std::string what = owner ? "'" + name + "'" : "stage '" + name + "'";
  const Statement *train = nullptr, *graft = nullptr, *optimizer = nullptr, *lossStmt = nullptr;
  std::vector<const Statement *> groups, freezes;
  Evaluator eval(*this);
  std::set<int> trained;
  std::map<std::string, int> aliases;

  auto useIndex = [&](const Expr &e, const char *role) -> int {
    const auto *n = dyn_cast<NameExpr>(&e);
    if (!n) {
      diags.error(e.range, std::string("expected the name of a ") + role);
      return -1;
    }
    auto it = uses.find(n->name);
    if (it == uses.end() || !lookupGlobal(n->name)) {
      std::vector<std::string> names;
      for (const auto &entry : uses)
        names.push_back(entry.first);
      std::string msg = std::string("unknown ") + role + " '" + n->name + "'";
      std::string close = closestMatch(n->name, names);
      if (!close.empty())
        msg += "; did you mean '" + close + "'?";
      diags.error(n->range, msg);
      return -1;
    }
    return it->second.checkedIndex;
  };
  auto clauseInt = [&](const Statement &s, const char *keyword, bool required) -> int64_t {
    std::string key = name + "." + keyword;
    if (std::optional<ConstValue> o = overrideFor(key)) {
      if (o->isInt() && o->intValue > 0)
        return o->intValue;
      diags.error(SourceRange(), "--set " + key + " must be a positive int");
      return 0;
    }
    const Clause *c = s.clause(keyword);
    if (!c) {
      if (required)
        diags.error(s.verbRange, "'" + s.verb + "' needs '" + keyword + " N'");
      return 0;
    }
    return positiveInt(c->value.get(), c->range, std::string("'") + keyword + "'").value_or(0);
  };

  for (const Statement &s : body) {
    if (s.verb == "train") {
      if (train) {
        diags.error(s.verbRange, what + " has more than one 'train' statement");
        continue;
      }
      train = &s;
      rejectUnknownClauses(*this, s, {"on", "epochs", "batch", "steps"});
      if (s.subject) {
        std::vector<const Expr *> subjects;
        if (const auto *list = dyn_cast<ListExpr>(s.subject.get()))
          for (const ExprPtr &e : list->elements)
            subjects.push_back(e.get());
        else
          subjects.push_back(s.subject.get());
        for (const Expr *e : subjects) {
          int u = useIndex(*e, "model to train");
          if (u >= 0 && result->uses[size_t(u)].source == CheckedModelUse::Source::Ensemble) {
            diags.error(e->range, "an ensemble cannot be trained; train its members");
            continue;
          }
          if (u >= 0 && result->uses[size_t(u)].instance >= 0)
            trained.insert(result->uses[size_t(u)].instance);
        }
      } else if (owner) {
        int instance = result->uses[size_t(owner->checkedIndex)].instance;
        if (instance >= 0)
          trained.insert(instance);
      } else {
        diags.error(s.verbRange, "'train' in a stage needs the models it trains: 'train S on ...'");
      }
      if (const Clause *on = s.clause("on"); on && on->value)
        spec.split = checkSplitRef(*on->value);
      else
        diags.error(s.verbRange, "'train' needs 'on SPLIT'");
      spec.epochs = clauseInt(s, "epochs", true);
      spec.batch = clauseInt(s, "batch", true);
      spec.steps = clauseInt(s, "steps", false);
    } else if (s.verb == "graft") {
      if (owner) {
        diags.error(s.verbRange, "'graft' is only allowed in a stage");
        continue;
      }
      graft = &s;
      rejectUnknownClauses(*this, s, {"into", "as", "mode", "on", "epochs", "batch"});
      GraftSpec g;
      int studentUse = s.subject ? useIndex(*s.subject, "student") : -1;
      const Clause *into = s.clause("into");
      int teacherUse = into && into->value ? useIndex(*into->value, "teacher") : -1;
      if (!into || !into->value)
        diags.error(s.verbRange, "'graft' needs 'into TEACHER'");
      if (!s.subject)
        diags.error(s.verbRange, "'graft' needs the student: 'graft S into T ...'");
      if (const Clause *as = s.clause("as")) {
        const auto *n = as->value ? dyn_cast<NameExpr>(as->value.get()) : nullptr;
        if (!n)
          diags.error(as->range, "'as' takes a name for the grafted model");
        else
          g.hybridName = n->name;
      }
      if (const Clause *mode = s.clause("mode")) {
        const auto *n = mode->value ? dyn_cast<NameExpr>(mode->value.get()) : nullptr;
        if (!n || (n->name != "blocks" && n->name != "progressive"))
          diags.error(mode->value ? mode->value->range : mode->range, "graft mode is 'blocks' or 'progressive'");
        else
          g.mode = n->name;
      } else {
        diags.error(s.verbRange, "'graft' needs 'mode blocks' or 'mode progressive'");
      }
      if (const Clause *on = s.clause("on"); on && on->value)
        spec.split = checkSplitRef(*on->value);
      else
        diags.error(s.verbRange, "'graft' needs 'on SPLIT'");
      if (const Clause *epochs = s.clause("epochs"); epochs && epochs->value) {
        Value v = eval.eval(*epochs->value);
        if (v.kind == Value::Kind::Const && v.constant.isList()) {
          // 0 leaves that block's (prefix's) stage out.
          for (const ConstValue &c : v.constant.elements) {
            if (!c.isInt() || c.intValue < 0) {
              diags.error(epochs->value->range, "graft epochs must be ints of at least 0");
              g.epochs.clear();
              break;
            }
            g.epochs.push_back(c.intValue);
          }
          if (!g.epochs.empty() && *std::max_element(g.epochs.begin(), g.epochs.end()) == 0)
            diags.error(epochs->value->range, "graft epochs are all 0: no block would train");
        } else if (auto n = positiveInt(epochs->value.get(), epochs->range, "'epochs'")) {
          g.epochs.push_back(*n);
        }
      } else {
        diags.error(s.verbRange, "'graft' needs 'epochs N' or 'epochs [N, ...]'");
      }
      spec.epochs = g.epochs.empty() ? 0 : *std::max_element(g.epochs.begin(), g.epochs.end());
      spec.batch = clauseInt(s, "batch", true);
      // `blocks: [l4, l5, logits]`: the blocks to graft, in the models'
      // order; without it, every block of the student.
      const Arg *blocksArg = nullptr;
      for (const Arg &a : s.namedArgs) {
        if (a.name == "blocks" && !blocksArg)
          blocksArg = &a;
        else
          diags.error(a.nameRange, "'" + a.name + "' is not an argument of 'graft'; it takes 'blocks: [NAME, ...]'");
      }
      if (studentUse >= 0 && teacherUse >= 0) {
        const CheckedModelUse &su = result->uses[size_t(studentUse)], &tu = result->uses[size_t(teacherUse)];
        g.student = su.instance;
        g.teacher = tu.instance;
        if (g.student >= 0 && g.teacher >= 0) {
          const ModelInstance &si = result->instances[size_t(g.student)];
          const ModelInstance &ti = result->instances[size_t(g.teacher)];
          std::vector<std::string> teacherBlocks, studentBlocks;
          for (const NamedValue *b : ti.blocks())
            teacherBlocks.push_back(b->name);
          for (const NamedValue *b : si.blocks())
            studentBlocks.push_back(b->name);
          if (si.blocks().empty())
            diags.error(s.subject->range, "student '" + su.name + "' declares no blocks to graft");
          // (name, where the graft names it)
          std::vector<std::pair<std::string, SourceRange>> chosen;
          if (!blocksArg) {
            for (const NamedValue *b : si.blocks())
              chosen.emplace_back(b->name, s.subject->range);
          } else if (const auto *list = dyn_cast<ListExpr>(blocksArg->value.get()); list && !list->elements.empty()) {
            size_t lastIndex = 0;
            for (const ExprPtr &e : list->elements) {
              const auto *n = dyn_cast<NameExpr>(e.get());
              if (!n) {
                diags.error(e->range, "expected the name of a block");
                continue;
              }
              auto at = std::find(studentBlocks.begin(), studentBlocks.end(), n->name);
              if (at == studentBlocks.end()) {
                std::string msg = "student '" + su.name + "' has no block '" + n->name + "'";
                std::string close = closestMatch(n->name, studentBlocks);
                if (!close.empty())
                  msg += "; did you mean '" + close + "'?";
                diags.error(n->range, msg);
                continue;
              }
              size_t index = size_t(at - studentBlocks.begin());
              if (!chosen.empty() && index <= lastIndex) {
                diags.error(n->range, "block '" + n->name + "' is listed " +
                                          (index == lastIndex ? "twice" : "before a block the model declares earlier") +
                                          "; grafted blocks follow the model's order");
                continue;
              }
              lastIndex = index;
              chosen.emplace_back(n->name, n->range);
            }
          } else {
            diags.error(blocksArg->value->range, "'blocks' takes a non-empty list of block names");
          }
          for (const auto &[name, where] : chosen) {
            const NamedValue *b = si.findValue(name);
            GraftSpec::Block gb;
            gb.name = name;
            if (!ti.findValue(name) || ti.findValue(name)->kind != NamedValue::Kind::Block) {
              std::string msg = "block '" + name + "' of student '" + su.name + "' has no match among the blocks "
                                "of teacher '" + tu.name + "'";
              std::string close = closestMatch(name, teacherBlocks);
              if (!close.empty())
                msg += "; did you mean '" + close + "'?";
              diags.error(where, msg);
              diags.note(b->range, "block '" + name + "' declared here");
              continue;
            }
            blockShapes(si, name, gb.studentIn, gb.studentOut);
            blockShapes(ti, name, gb.teacherIn, gb.teacherOut);
            auto spatial = [](const Shape &a, const Shape &c) {
              return a.size() == c.size() && std::equal(a.begin() + (a.empty() ? 0 : 1), a.end(),
                                                        c.begin() + (c.empty() ? 0 : 1));
            };
            if (!spatial(gb.studentIn, gb.teacherIn) || !spatial(gb.studentOut, gb.teacherOut)) {
              diags.error(where, "block '" + name + "' cannot be grafted: the student maps " +
                                     formatShape(gb.studentIn) + " to " + formatShape(gb.studentOut) +
                                     " but the teacher " + formatShape(gb.teacherIn) + " to " +
                                     formatShape(gb.teacherOut) + "; only the widths may differ");
              diags.note(b->range, "block '" + name + "' declared here");
              continue;
            }
            gb.adapterBefore = gb.studentIn != gb.teacherIn;
            gb.adapterAfter = gb.studentOut != gb.teacherOut;
            g.blocks.push_back(gb);
          }
          // A block left out is the teacher's: the student keeps a copy,
          // so its own must have the teacher's shapes.
          if (blocksArg) {
            for (const NamedValue *b : si.blocks()) {
              if (std::any_of(chosen.begin(), chosen.end(), [&](const auto &c) { return c.first == b->name; }))
                continue;
              Shape si0, so0, ti0, to0;
              bool inTeacher = ti.findValue(b->name) && ti.findValue(b->name)->kind == NamedValue::Kind::Block;
              if (inTeacher) {
                blockShapes(si, b->name, si0, so0);
                blockShapes(ti, b->name, ti0, to0);
              }
              if (!inTeacher || si0 != ti0 || so0 != to0) {
                diags.error(blocksArg->value->range,
                            "block '" + b->name + "' is not grafted, so the student keeps the teacher's, but " +
                                (inTeacher ? "the student's maps " + formatShape(si0) + " to " + formatShape(so0) +
                                                 " and the teacher's " + formatShape(ti0) + " to " + formatShape(to0)
                                           : "teacher '" + tu.name + "' has no block '" + b->name + "'") +
                                "; list it in 'blocks'");
                diags.note(b->range, "block '" + b->name + "' declared here");
              }
            }
          }
          size_t count = chosen.size();
          if (g.epochs.size() > 1 && g.epochs.size() != count)
            diags.error(s.clause("epochs")->value->range,
                        "graft gives " + std::to_string(g.epochs.size()) + " epoch counts for " +
                            std::to_string(count) + " grafted blocks");
          trained.insert(g.student);
          if (!g.hybridName.empty())
            aliases[g.hybridName] = teacherUse;
        }
      }
      spec.graft = g;
    } else if (s.verb == "optimizer") {
      optimizer = &s;
      if (s.subject)
        spec.optimizer = checkBuiltinCall(BuiltinKind::Optimizer, *s.subject);
      else
        diags.error(s.verbRange, "'optimizer' needs an optimizer such as sgd(lr: 0.1)");
    } else if (s.verb == "schedule") {
      if (s.subject)
        spec.schedule = checkBuiltinCall(BuiltinKind::Schedule, *s.subject);
      else
        diags.error(s.verbRange, "'schedule' needs a schedule such as cosine");
    } else if (s.verb == "loss") {
      if (lossStmt) {
        diags.error(s.verbRange, what + " has more than one 'loss'; combine them with '+'");
        continue;
      }
      lossStmt = &s;
      if (!s.subject)
        diags.error(s.verbRange, "'loss' needs an expression");
    } else if (s.verb == "group") {
      groups.push_back(&s);
    } else if (s.verb == "freeze") {
      freezes.push_back(&s);
    } else if (s.verb == "transform" || s.verb == "load") {
      if (!owner)
        diags.error(s.verbRange, "'" + s.verb + "' is only allowed in a teacher or student body");
    } else {
      diags.error(s.verbRange, "'" + s.verb + "' is not allowed in " + what);
    }
  }

  if (!train && !graft) {
    diags.error(range, what + " has no 'train' statement");
    return std::nullopt;
  }
  if (!optimizer)
    diags.error(range, what + " needs an 'optimizer'");
  checkCycledMomentum(*this, spec);
  if (!lossStmt) {
    diags.error(range, what + " needs a 'loss'");
    return std::nullopt;
  }
  if (!lossStmt->subject)
    return std::nullopt;

  std::set<int> read;
  const CheckedData *labelData = spec.split.valid() ? &result->data[size_t(spec.split.data)] : nullptr;
  if (!checkLoss(*lossStmt->subject, spec.loss, &read, aliases, /*featureOnly=*/false, labelData))
    return std::nullopt;
  checkLabelsAvailable(*lossStmt->subject, spec.loss, spec.split);

  for (int instance : trained)
    spec.trained.push_back(instance);
  checkFusionAnchors(spec.loss, trained, labelData);
  bool readsTeacher = false, readsOwnExits = false;
  for (int instance : read) {
    if (trained.count(instance))
      continue;
    spec.frozen.push_back(instance);
    const CheckedModelUse *use = result->findUse(result->instances[size_t(instance)].name);
    readsTeacher = readsTeacher || (use && use->isTeacher);
  }
  for (const FeatureNode &f : spec.loss.features)
    if (f.kind == FeatureNode::Kind::Tap && trained.count(f.instance) &&
        result->instances[size_t(f.instance)].nodes[size_t(f.node)].isExit)
      readsOwnExits = true;
  for (const FeatureNode &f : spec.loss.features)
    if (f.op == "ensemble")
      readsTeacher = true;

  // Per-group settings and frozen parts.
  for (const Statement *g : groups) {
    ParamGroup group;
    group.range = g->range;
    if (!g->subject) {
      diags.error(g->verbRange, "'group' needs a target: a model, 'S.blocks', 'adapters' or a block");
      continue;
    }
    if (const auto *n = dyn_cast<NameExpr>(g->subject.get()); n && n->name == "adapters") {
      group.target = "adapters";
    } else {
      const Expr *baseExpr = g->subject.get();
      std::string member;
      if (const auto *m = dyn_cast<MemberExpr>(baseExpr)) {
        baseExpr = m->base.get();
        member = m->member;
      }
      int u = useIndex(*baseExpr, "model");
      if (u < 0)
        continue;
      const CheckedModelUse &use = result->uses[size_t(u)];
      group.target = use.name + (member.empty() ? "" : "." + member);
      if (!member.empty() && member != "blocks" && use.instance >= 0) {
        const ModelInstance &inst = result->instances[size_t(use.instance)];
        if (!inst.findValue(member)) {
          std::vector<std::string> names = {"blocks"};
          for (const NamedValue &nv : inst.values)
            names.push_back(nv.name);
          std::string msg = "model '" + inst.modelName + "' of '" + use.name + "' has no value named '" + member + "'";
          std::string close = closestMatch(member, names);
          if (!close.empty())
            msg += "; did you mean '" + close + "'?";
          diags.error(g->subject->range, msg);
          continue;
        }
      }
    }
    const Builtin *row = findBuiltin(BuiltinKind::Statement, "group");
    std::optional<BoundArgs> bound =
        bindArguments({"'group'", SourceRange()}, row->params, g->namedArgs, g->range, eval, diags);
    if (!bound)
      continue;
    group.settings = bound->constants();
    if (group.settings.empty())
      diags.error(g->verbRange, "'group' sets at least one of lr, weight_decay, momentum");
    // SGD without momentum keeps no momentum buffers for a group to use.
    const ConstValue *sgdMomentum =
        spec.optimizer && spec.optimizer->name == "sgd" ? attribute(*spec.optimizer, "momentum") : nullptr;
    for (const auto &[key, value] : group.settings)
      if (key == "momentum" && sgdMomentum && sgdMomentum->asDouble() == 0) {
        diags.error(g->range, "'group' sets a momentum, but the stage's sgd has none; give sgd a momentum "
                              "(e.g. sgd(lr: 0.1, momentum: 0.9)) and the group its own");
        diags.note(spec.optimizer->range, "the optimizer, sgd without momentum");
      }
    spec.groups.push_back(group);
  }
  int64_t frozenParams = 0;
  for (const Statement *f : freezes) {
    if (!f->subject) {
      diags.error(f->verbRange, "'freeze' needs a target such as 'S.l1'");
      continue;
    }
    const Expr *baseExpr = f->subject.get();
    std::string member;
    if (const auto *m = dyn_cast<MemberExpr>(baseExpr)) {
      baseExpr = m->base.get();
      member = m->member;
    }
    int u = useIndex(*baseExpr, "model");
    if (u < 0 || result->uses[size_t(u)].instance < 0)
      continue;
    const ModelInstance &inst = result->instances[size_t(result->uses[size_t(u)].instance)];
    spec.frozenParts.push_back(inst.name + (member.empty() ? "" : "." + member));
    if (member.empty()) {
      frozenParams += inst.parameterCount();
      continue;
    }
    // A block freezes all its layers; another named value the layers its
    // own definition created (`freeze S.logits`: the classifier).
    const NamedValue *nv = inst.findValue(member);
    if (!nv || nv->kind == NamedValue::Kind::Input) {
      std::vector<std::string> names;
      for (const NamedValue &v : inst.values)
        if (v.kind != NamedValue::Kind::Input)
          names.push_back(v.name);
      std::string msg = "'freeze' takes a model or one of its named values; model '" + inst.modelName +
                        "' has no value named '" + member + "'";
      std::string close = closestMatch(member, names);
      if (!close.empty())
        msg += "; did you mean '" + close + "'?";
      diags.error(f->subject->range, msg);
      continue;
    }
    for (const LayerNode &node : inst.nodes)
      if (nv->kind == NamedValue::Kind::Block ? node.block == member : node.item == member)
        for (const auto &p : node.learnable)
          frozenParams += numElements(p.second);
  }

  // Something must learn: the trained models' parameters that are not
  // frozen, plus any adapters and fusion modules of the loss.
  int64_t trainable = -frozenParams;
  for (int instance : spec.trained)
    trainable += result->instances[size_t(instance)].parameterCount();
  for (const FeatureNode &f : spec.loss.features)
    for (const auto &p : f.learnable)
      trainable += numElements(p.second);
  if (trainable <= 0 && !spec.trained.empty())
    diags.error(train ? train->verbRange : range, what + " trains nothing: every parameter of the trained models is "
                                                         "frozen or there are none");

  spec.kind = graft ? "graft" : readsTeacher ? "distill" : readsOwnExits ? "self_distill" : "train";
  return spec;
}

void Sema::checkStage(const StageDecl &decl) {
  std::optional<TrainSpec> spec = checkTrainBody(decl.body, decl.name, decl.range, nullptr);
  if (!decl.stageKind.empty()) {
    bool known = false;
    for (const std::string &k : kStageKinds)
      known |= k == decl.stageKind;
    if (!known) {
      std::string msg = "unknown stage kind '" + decl.stageKind + "'";
      std::string close = closestMatch(decl.stageKind, kStageKinds);
      if (!close.empty())
        msg += "; did you mean '" + close + "'?";
      diags.error(decl.stageKindRange, msg);
      return;
    }
  }
  if (!spec)
    return;
  std::string inferred = spec->kind;
  if (!decl.stageKind.empty() && decl.stageKind != inferred) {
    bool selfWithTeacher = decl.stageKind == "self_distill" && inferred == "distill" &&
                           std::any_of(spec->loss.features.begin(), spec->loss.features.end(), [&](const FeatureNode &f) {
                             return f.kind == FeatureNode::Kind::Tap &&
                                    result->instances[size_t(f.instance)].nodes[size_t(f.node)].isExit;
                           });
    if (!selfWithTeacher) {
      static const std::map<std::string, std::string> why = {
          {"train", "its loss reads no teacher"},
          {"distill", "its loss reads a teacher"},
          {"self_distill", "its loss reads the student's own exits and no teacher"},
          {"graft", "it has a 'graft' statement"}};
      diags.error(decl.stageKindRange, "stage '" + decl.name + "' is declared '" + decl.stageKind +
                                           "' but is a '" + inferred + "' stage: " + why.at(inferred));
      return;
    }
    inferred = decl.stageKind;
  }
  spec->kind = inferred;
  result->stages.push_back(std::move(*spec));
}

void Sema::checkTopStatement(const StatementDecl &decl) {
  const Statement &s = decl.stmt;
  Evaluator eval(*this);
  auto modelName = [&]() -> std::string {
    const auto *n = s.subject ? dyn_cast<NameExpr>(s.subject.get()) : nullptr;
    if (!n) {
      diags.error(s.subject ? s.subject->range : s.verbRange, "'" + s.verb + "' needs a teacher or student name");
      return "";
    }
    if (!uses.count(n->name) || !lookupGlobal(n->name)) {
      std::vector<std::string> names;
      for (const auto &entry : uses)
        names.push_back(entry.first);
      std::string msg = "unknown model '" + n->name + "'";
      std::string close = closestMatch(n->name, names);
      if (!close.empty())
        msg += "; did you mean '" + close + "'?";
      diags.error(n->range, msg);
      return "";
    }
    return n->name;
  };
  if (s.verb == "evaluate" && s.subject && !isa<NameExpr>(s.subject.get())) {
    // `evaluate kl(V.logits, C.logits, temperature: 4) on d.test`: a loss
    // over the split, read from any trained or loaded models; nothing trains.
    rejectUnknownClauses(*this, s, {"on", "metrics", "using", "batch"});
    for (const char *keyword : {"metrics", "using"})
      if (const Clause *c = s.clause(keyword))
        diags.error(c->range, "'" + std::string(keyword) + "' belongs to the evaluation of a model; an evaluated "
                              "loss is reported as its mean over the split");
    CheckedEvaluate e;
    e.range = decl.range;
    if (const Clause *on = s.clause("on"); on && on->value)
      e.split = checkSplitRef(*on->value);
    else
      diags.error(s.verbRange, "'evaluate' needs 'on SPLIT'");
    const CheckedData *labelData = e.split.valid() ? &result->data[size_t(e.split.data)] : nullptr;
    CheckedLoss loss;
    if (!checkLoss(*s.subject, loss, nullptr, {}, /*featureOnly=*/false, labelData))
      return;
    checkLabelsAvailable(*s.subject, loss, e.split);
    // Reported under its source text, blanks collapsed.
    std::string_view text = diags.sources().text(s.subject->range.begin.file);
    std::string_view written =
        text.substr(s.subject->range.begin.offset, s.subject->range.end - s.subject->range.begin.offset);
    for (char c : written)
      if (!std::isspace(static_cast<unsigned char>(c)))
        e.expression += c;
      else if (!e.expression.empty() && e.expression.back() != ' ')
        e.expression += ' ';
    e.loss = std::move(loss);
    e.batch = evaluationBatch(*this, e, s); // `batch N`, else the default: e names no model
    result->evaluations.push_back(std::move(e));
  } else if (s.verb == "evaluate") {
    rejectUnknownClauses(*this, s, {"on", "metrics", "using", "batch"});
    CheckedEvaluate e;
    e.range = decl.range;
    e.model = modelName();
    if (const Clause *on = s.clause("on"); on && on->value)
      e.split = checkSplitRef(*on->value);
    else
      diags.error(s.verbRange, "'evaluate' needs 'on SPLIT'");
    if (const Clause *metrics = s.clause("metrics")) {
      const auto *list = metrics->value ? dyn_cast<ListExpr>(metrics->value.get()) : nullptr;
      if (!list)
        diags.error(metrics->range, "'metrics' takes a list: metrics [accuracy, f1]");
      else
        for (const ExprPtr &m : list->elements)
          if (std::optional<CheckedCall> metric = checkBuiltinCall(BuiltinKind::Metric, *m))
            e.metrics.push_back(metric->name);
    } else {
      e.metrics.push_back("accuracy");
    }
    if (const Clause *usingClause = s.clause("using"); usingClause && usingClause->value) {
      CheckedLoss prediction;
      if (checkLoss(*usingClause->value, prediction, nullptr, {}, /*featureOnly=*/true)) {
        // Nothing trains parameters created by the prediction itself (an
        // adapter, a linear layer after a tap): they would be evaluated at
        // their initial values.
        bool learned = false;
        for (const FeatureNode &f : prediction.features)
          if (!f.learnable.empty() && !learned) {
            learned = true;
            diags.error(f.range, "'" + f.op + "' has parameters that no stage trains; 'using' combines the "
                                 "model's taps with mean, add, mul and layers without parameters");
          }
        if (!learned)
          e.using_ = std::move(prediction);
      }
    }
    checkEvaluatedClasses(*this, e, s);
    e.batch = evaluationBatch(*this, e, s);
    result->evaluations.push_back(std::move(e));
  } else if (s.verb == "export") {
    rejectUnknownClauses(*this, s, {"to"});
    CheckedExport x;
    x.range = decl.range;
    x.model = modelName();
    const Clause *to = s.clause("to");
    const auto *path = to && to->value ? dyn_cast<StringLit>(to->value.get()) : nullptr;
    if (!path) {
      diags.error(to ? to->range : s.verbRange, "'export' needs 'to \"file\"'");
      return;
    }
    x.path = path->value;
    size_t dot = x.path.rfind('.');
    std::string ext = dot == std::string::npos ? "" : x.path.substr(dot + 1);
    if (ext == "onnx") {
      diags.error(to->value->range, "export to .onnx is not supported yet; export .safetensors (PyTorch loads it, "
                                    "see bench/pytorch) or .kdx");
      return;
    }
    if (ext != "safetensors" && ext != "kdx") {
      std::string msg = "unknown export format '" + (ext.empty() ? x.path : "." + ext) +
                        "'; expected .safetensors or .kdx";
      diags.error(to->value->range, msg);
      return;
    }
    x.format = ext;
    result->exports.push_back(std::move(x));
  } else {
    diags.error(s.verbRange, "'" + s.verb + "' is not allowed at the top level; expected evaluate or export");
  }
}

} // namespace kd::sema

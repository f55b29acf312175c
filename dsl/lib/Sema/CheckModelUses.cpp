//===- CheckModelUses.cpp - Teachers and students -------------------------===//
//
// `teacher T = Model(args) { ... }` / `student S = Model(args)`: the model is
// instantiated on the image shape of the data it is trained or evaluated on
// (after its `transform`), or on its declared `input x [C, H, W]`; a teacher
// is trained, loaded or an ensemble of other teachers.
//
//===----------------------------------------------------------------------===//
#include "ExprWalk.h"
#include "SemaImpl.h"

namespace kd::sema {

using namespace kd::ast;

namespace {
// The split expression of the first statement that trains, grafts or
// evaluates `name`, or reads it in a loss, anywhere in the program.
// `depth` bounds the search through ensembles of ensembles, which may be
// cyclic in an erroneous program.
const Expr *findTrainingSplit(const Program &prog, const ModelUseDecl &use, int depth = 0) {
  for (const Statement &s : use.body)
    if (s.verb == "train")
      if (const Clause *on = s.clause("on"); on && on->value)
        return on->value.get();
  auto inStatements = [&](const std::vector<Statement> &body) -> const Expr * {
    bool involved = false;
    const Expr *split = nullptr;
    for (const Statement &s : body) {
      if (s.verb == "train" || s.verb == "graft") {
        if (const Clause *on = s.clause("on"); on && on->value && !split)
          split = on->value.get();
        if (s.subject && mentions(*s.subject, use.name))
          involved = true;
        if (const Clause *into = s.clause("into"); into && into->value && mentions(*into->value, use.name))
          involved = true;
      }
      if (s.verb == "loss" && s.subject && mentions(*s.subject, use.name))
        involved = true;
    }
    return involved ? split : nullptr;
  };
  for (const auto &module : prog.modules)
    for (const DeclPtr &d : module->decls)
      if (const auto *stage = dyn_cast<StageDecl>(d.get()))
        if (const Expr *split = inStatements(stage->body))
          return split;
  for (const auto &module : prog.modules)
    for (const DeclPtr &d : module->decls) {
      if (const auto *other = dyn_cast<ModelUseDecl>(d.get()); other && other != &use)
        if (const Expr *split = inStatements(other->body))
          return split;
      if (const auto *stmt = dyn_cast<StatementDecl>(d.get()))
        if (stmt->stmt.verb == "evaluate" && stmt->stmt.subject && mentions(*stmt->stmt.subject, use.name))
          if (const Clause *on = stmt->stmt.clause("on"); on && on->value)
            return on->value.get();
    }
  // A member of an ensemble sees the data the ensemble teaches on.
  for (const auto &module : prog.modules)
    for (const DeclPtr &d : module->decls)
      if (const auto *other = dyn_cast<ModelUseDecl>(d.get()); other && other != &use && other->init)
        if (const auto *call = dyn_cast<CallExpr>(other->init.get());
            call && call->calleeName() == "ensemble" && mentions(*call, use.name))
          if (depth < 8)
            if (const Expr *split = findTrainingSplit(prog, *other, depth + 1))
              return split;
  return nullptr;
}

// True if `expr` lies inside the text of `module`.
bool exprInModule(const Module &module, const Expr *expr) { return expr->range.begin.file == module.file; }

bool declaresInputShape(const ModelDecl &decl) {
  for (const ModelItem &item : decl.items)
    if (item.kind == ModelItemKind::Input && item.value)
      return true;
  return false;
}
} // namespace

void Sema::checkModelUses() {
  std::vector<std::pair<const ModelUseDecl *, size_t>> ensembles;
  for (size_t m = 0; m < prog.modules.size(); ++m) {
    for (const DeclPtr &d : prog.modules[m]->decls) {
      const auto *use = dyn_cast<ModelUseDecl>(d.get());
      if (!use)
        continue;
      currentModule = m;
      std::string description = std::string(use->isTeacher() ? "teacher" : "student") + " '" + use->name + "'";
      CheckedModelUse checked;
      checked.name = use->name;
      checked.isTeacher = use->isTeacher();
      checked.range = use->range;
      uses[use->name] = UseInfo{use, m, int(result->uses.size())};

      // The per-model input transform and `load`.
      const Statement *load = nullptr, *train = nullptr;
      for (const Statement &s : use->body) {
        if (s.verb == "transform") {
          if (!s.subject)
            diags.error(s.verbRange, "'transform' needs a transform such as resize(14, 14)");
          else if (checked.transform)
            diags.error(s.verbRange, "only one 'transform' per model");
          else
            checked.transform = checkBuiltinCall(BuiltinKind::Transform, *s.subject);
        } else if (s.verb == "load") {
          load = &s;
          const auto *path = s.subject ? dyn_cast<StringLit>(s.subject.get()) : nullptr;
          if (!path)
            diags.error(s.subject ? s.subject->range : s.verbRange, "'load' takes a file path string");
          else
            checked.loadPath = path->value;
        } else if (s.verb == "train") {
          train = train ? train : &s;
        }
      }
      if (load && train) {
        diags.error(load->verbRange, description + " is both loaded and trained");
        diags.note(train->verbRange, "trained here");
      }
      checked.source = load ? CheckedModelUse::Source::Loaded
                       : train ? CheckedModelUse::Source::Trained
                               : CheckedModelUse::Source::Untrained;

      // What it is: a model call, or an ensemble of teachers.
      const Expr &init = *use->init;
      std::string callee;
      static const std::vector<Arg> noArgs;
      const std::vector<Arg> *args = &noArgs;
      if (const auto *call = dyn_cast<CallExpr>(&init)) {
        callee = std::string(call->calleeName());
        args = &call->args;
      } else if (const auto *name = dyn_cast<NameExpr>(&init)) {
        callee = name->name;
      }
      if (callee == "ensemble" && !lookupGlobal("ensemble")) {
        checked.source = CheckedModelUse::Source::Ensemble;
        if (!use->isTeacher())
          diags.error(init.range, "an ensemble can only be a teacher");
        result->uses.push_back(checked);
        ensembles.push_back({use, m});
        continue;
      }
      const Decl *target = callee.empty() ? nullptr : lookupGlobal(callee);
      const auto *model = target ? dyn_cast<ModelDecl>(target) : nullptr;
      if (!model) {
        SourceRange where = init.range;
        if (const auto *call = dyn_cast<CallExpr>(&init))
          where = call->callee->range;
        if (target) {
          diags.error(where, "'" + callee + "' is not a model");
          diags.note(target->nameRange, "'" + callee + "' declared here");
        } else if (!callee.empty()) {
          std::vector<std::string> models;
          for (const auto &[name, decl] : visible[m])
            if (decl->kind == DeclKind::Model)
              models.push_back(name);
          models.push_back("ensemble");
          std::string msg = "unknown model '" + callee + "'";
          std::string close = closestMatch(callee, models);
          if (!close.empty())
            msg += "; did you mean '" + close + "'?";
          diags.error(where, msg);
        } else {
          diags.error(where, "expected a model such as ResNet(classes: 10) or ensemble([...])");
        }
        result->uses.push_back(checked);
        continue;
      }

      // The input shape: from the data, else from the model's declaration.
      std::optional<Shape> inputShape;
      bool splitReported = false; // a bad split was already reported: no cascade
      if (const Expr *splitExpr = findTrainingSplit(prog, *use)) {
        // The split may be named in another module (a stage of an importer);
        // it is evaluated with the names its own module sees.
        size_t saved = currentModule;
        for (size_t i = 0; i < prog.modules.size(); ++i)
          if (exprInModule(*prog.modules[i], splitExpr))
            currentModule = i;
        Evaluator eval(*this);
        Value v = eval.eval(*splitExpr);
        currentModule = saved;
        splitReported = !v.ok();
        if (v.kind == Value::Kind::Split) {
          const CheckedData &data = result->data[size_t(v.split.data)];
          if (data.imageShape.size() == 3 && data.imageShape[1] > 0 && data.imageShape[2] > 0)
            inputShape = data.imageShape;
        }
      }
      if (inputShape && checked.transform) {
        const CheckedCall &t = *checked.transform;
        Shape s = *inputShape;
        for (const auto &[name, value] : t.attrs) {
          if (name == "h")
            s[1] = value.intValue;
          else if (name == "w")
            s[2] = value.intValue;
          else if (name == "size") {
            if (value.intValue > s[1] || value.intValue > s[2])
              diags.error(t.range, "crop size " + value.str() + " is larger than the image " + formatShape(s));
            s[1] = s[2] = value.intValue;
          }
        }
        inputShape = s;
      }
      if (!inputShape && !declaresInputShape(*model)) {
        if (splitReported) {
          result->uses.push_back(checked);
          continue;
        }
        diags.error(use->nameRange, "cannot infer the input shape of " + description +
                                        ": it is not trained or evaluated on any data, and model '" + model->name +
                                        "' declares no input shape");
        diags.note(model->nameRange, "declare one with 'input x [C, H, W]'");
        result->uses.push_back(checked);
        continue;
      }
      checked.instance = instantiate(*model, *args, init.range, use->name, description, inputShape);
      result->uses.push_back(checked);
    }
  }

  // Ensembles, now that every teacher has its instance.
  for (const auto &[use, m] : ensembles) {
    currentModule = m;
    CheckedModelUse &checked = result->uses[size_t(uses[use->name].checkedIndex)];
    const auto *call = dyn_cast<CallExpr>(use->init.get());
    if (!call) {
      diags.error(use->init->range, "an ensemble is written ensemble([T1, T2], weights: ...)");
      continue;
    }
    const Builtin *builtin = findBuiltin(BuiltinKind::Ensemble, "ensemble");
    Evaluator eval(*this);
    std::optional<BoundArgs> bound =
        bindArguments({"ensemble", SourceRange()}, builtin->params, call->args, call->range, eval, diags);
    if (!bound)
      continue;
    const BoundArg *members = bound->find("members");
    const auto *list = dyn_cast<ListExpr>(members->expr);
    if (!list || list->elements.empty()) {
      diags.error(members->expr->range, "an ensemble takes a non-empty list of teachers");
      continue;
    }
    for (const ExprPtr &e : list->elements) {
      const auto *name = dyn_cast<NameExpr>(e.get());
      auto it = name ? uses.find(name->name) : uses.end();
      if (!name || it == uses.end() || !lookupGlobal(name->name)) {
        if (name)
          eval.reportUnknownName(name->name, name->range, "teacher");
        else
          diags.error(e->range, "ensemble members are teacher names");
        continue;
      }
      if (!it->second.decl->isTeacher()) {
        diags.error(e->range, "ensemble member '" + name->name + "' is a student, not a teacher");
        diags.note(it->second.decl->nameRange, "'" + name->name + "' declared here");
        continue;
      }
      if (name->name == use->name) {
        diags.error(e->range, "an ensemble cannot contain itself");
        continue;
      }
      const Expr *init = it->second.decl->init.get();
      if (const auto *inner = init ? dyn_cast<CallExpr>(init) : nullptr; inner && inner->calleeName() == "ensemble") {
        diags.error(e->range, "ensemble member '" + name->name + "' is itself an ensemble; list its members instead");
        diags.note(it->second.decl->nameRange, "'" + name->name + "' declared here");
        continue;
      }
      checked.members.push_back(name->name);
    }
    const BoundArg *weights = bound->find("weights");
    checked.weighting = "equal";
    if (weights->given) {
      const Expr &w = *weights->expr;
      const auto *wcall = dyn_cast<CallExpr>(&w);
      if (wcall && wcall->calleeName() == "accuracy") {
        const Builtin *acc = findBuiltin(BuiltinKind::EnsembleWeighting, "accuracy");
        if (auto b = bindArguments({"ensemble weighting 'accuracy'", SourceRange()}, acc->params, wcall->args,
                                   wcall->range, eval, diags)) {
          checked.weighting = "accuracy";
          checked.weightSplit = checkSplitRef(*b->find("split")->expr);
        }
      } else {
        Value v = eval.eval(w);
        if (v.kind == Value::Kind::Const && v.constant.isString()) {
          std::vector<std::string> allowed = {"equal", "entropy", "ca_mkd"};
          bool known = false;
          for (const std::string &a : allowed)
            known |= a == v.constant.stringValue;
          if (!known) {
            std::string msg = "unknown ensemble weighting " + v.constant.str() +
                              "; expected \"equal\", \"entropy\", \"ca_mkd\", a list of numbers or accuracy(split)";
            diags.error(w.range, msg);
          } else {
            checked.weighting = v.constant.stringValue;
          }
        } else if (v.kind == Value::Kind::Const && v.constant.isList()) {
          bool numbers = true;
          for (const ConstValue &c : v.constant.elements) {
            numbers = numbers && c.isNumber() && c.asDouble() >= 0;
            checked.weights.push_back(c.asDouble());
          }
          double total = 0;
          for (double x : checked.weights)
            total += x;
          if (!numbers)
            diags.error(w.range, "ensemble weights must be non-negative numbers");
          else if (!(total > 0))
            diags.error(w.range, "ensemble weights sum to 0: at least one member needs a positive weight");
          else if (checked.weights.size() != list->elements.size())
            diags.error(w.range, "the ensemble has " + std::to_string(list->elements.size()) + " members but " +
                                     std::to_string(checked.weights.size()) + " weights");
          checked.weighting = "fixed";
        } else if (v.ok()) {
          diags.error(w.range, "ensemble weights are \"equal\", \"entropy\", \"ca_mkd\", a list of numbers or "
                               "accuracy(split), got " + describe(v));
        }
      }
    }
  }

  // Training bodies, once every instance exists (losses may read others).
  for (auto &[name, info] : uses) {
    CheckedModelUse &checked = result->uses[size_t(info.checkedIndex)];
    if (checked.source != CheckedModelUse::Source::Trained || checked.instance < 0)
      continue;
    currentModule = info.module;
    checked.train = checkTrainBody(info.decl->body, name, info.decl->range, &info);
  }
}

} // namespace kd::sema

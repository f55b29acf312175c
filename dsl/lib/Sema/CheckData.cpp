//===- CheckData.cpp - Data declarations ----------------------------------===//
//
// `data d = idx("...") { image gray[28, 28]  norm mean: [..], std: [..]
// labels 10 names: [..]  split train = "train" augment [...] }`: the source
// is a known data source, the image kind is gray or rgb, one norm value per
// channel, as many names as labels, and every split is well-formed.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <algorithm>
#include <functional>

namespace kd::sema {

using namespace kd::ast;

namespace {
std::optional<std::vector<double>> numberList(Sema &sema, Evaluator &eval, const Expr &expr,
                                              const std::string &what) {
  Value v = eval.eval(expr);
  if (!v.ok())
    return std::nullopt;
  std::vector<double> out;
  bool fits = v.kind == Value::Kind::Const && v.constant.isList();
  if (fits)
    for (const ConstValue &e : v.constant.elements) {
      fits = fits && e.isNumber();
      out.push_back(e.asDouble());
    }
  if (!fits) {
    sema.diags.error(expr.range, what + " must be a list of numbers, got " + describe(v));
    return std::nullopt;
  }
  return out;
}

const Arg *namedArg(const Statement &s, const std::string &name) {
  for (const Arg &a : s.namedArgs)
    if (a.name == name)
      return &a;
  return nullptr;
}

void rejectUnknownNamedArgs(Sema &sema, const Statement &s, std::vector<std::string> allowed) {
  for (const Arg &a : s.namedArgs) {
    bool known = false;
    for (const std::string &name : allowed)
      known |= a.name == name;
    if (known)
      continue;
    std::string msg = "unknown argument '" + a.name + "' of '" + s.verb + "'";
    std::string close = closestMatch(a.name, allowed);
    if (!close.empty())
      msg += "; did you mean '" + close + "'?";
    sema.diags.error(a.nameRange, msg);
  }
}

void rejectClauses(Sema &sema, const Statement &s) {
  for (const Clause &c : s.clauses)
    sema.diags.error(c.range, "'" + c.keyword + "' is not a clause of '" + s.verb + "'");
}
} // namespace

void Sema::checkData(const DataDecl &decl) {
  CheckedData data;
  data.name = decl.name;
  data.range = decl.range;
  Evaluator eval(*this);

  // The source: idx("path") | folder("path") | npz("path").
  if (std::optional<CheckedCall> source = checkBuiltinCall(BuiltinKind::DataSource, *decl.source)) {
    data.sourceKind = source->name;
    for (const auto &[name, value] : source->attrs)
      if (name == "path")
        data.path = value.stringValue;
  }

  bool sawImage = false, sawLabels = false;
  for (const Statement &s : decl.statements) {
    if (s.verb == "image") {
      rejectClauses(*this, s);
      rejectUnknownNamedArgs(*this, s, {});
      sawImage = true;
      const auto *index = s.subject ? dyn_cast<IndexExpr>(s.subject.get()) : nullptr;
      const auto *kind = index ? dyn_cast<NameExpr>(index->base.get()) : nullptr;
      if (!kind || index->indices.size() != 2) {
        diags.error(s.subject ? s.subject->range : s.verbRange, "expected 'image gray[H, W]' or 'image rgb[H, W]'");
        continue;
      }
      if (kind->name != "gray" && kind->name != "rgb") {
        std::string msg = "unknown image kind '" + kind->name + "'; expected 'gray' or 'rgb'";
        std::string close = closestMatch(kind->name, {"gray", "rgb"});
        if (!close.empty())
          msg = "unknown image kind '" + kind->name + "'; did you mean '" + close + "'?";
        diags.error(kind->range, msg);
        continue;
      }
      data.imageKind = kind->name;
      data.imageShape = {kind->name == "gray" ? 1 : 3};
      for (const ExprPtr &dim : index->indices) {
        std::optional<int64_t> size = positiveInt(dim.get(), dim->range, "an image size");
        data.imageShape.push_back(size.value_or(0));
      }
    } else if (s.verb == "norm") {
      rejectClauses(*this, s);
      rejectUnknownNamedArgs(*this, s, {"mean", "std"});
      const Arg *mean = namedArg(s, "mean"), *std = namedArg(s, "std");
      if (!mean || !std) {
        diags.error(s.verbRange, "'norm' needs 'mean: [...]' and 'std: [...]'");
        continue;
      }
      if (auto values = numberList(*this, eval, *mean->value, "norm mean"))
        data.mean = *values;
      if (auto values = numberList(*this, eval, *std->value, "norm std")) {
        data.std = *values;
        for (double d : data.std)
          if (d <= 0)
            diags.error(std->value->range, "norm std values must be positive");
      }
      size_t channels = data.imageKind == "rgb" ? 3 : 1;
      if (!data.imageKind.empty())
        for (const Arg *a : {mean, std}) {
          size_t n = a == mean ? data.mean.size() : data.std.size();
          if (n != 0 && n != channels)
            diags.error(a->value->range, "norm " + a->name + " has " + std::to_string(n) + " value" +
                                             (n == 1 ? "" : "s") + " but " + data.imageKind + " images have " +
                                             std::to_string(channels) + " channel" + (channels == 1 ? "" : "s"));
        }
    } else if (s.verb == "labels") {
      rejectClauses(*this, s);
      rejectUnknownNamedArgs(*this, s, {"names"});
      sawLabels = true;
      std::optional<int64_t> count = positiveInt(s.subject.get(), s.verbRange, "the number of labels");
      data.numClasses = count.value_or(0);
      data.labelsRange = s.range;
      if (const Arg *names = namedArg(s, "names")) {
        Value v = eval.eval(*names->value);
        bool strings = v.kind == Value::Kind::Const && v.constant.isList();
        if (strings)
          for (const ConstValue &e : v.constant.elements) {
            strings = strings && e.isString();
            data.classNames.push_back(e.stringValue);
          }
        if (v.ok() && !strings)
          diags.error(names->value->range, "label names must be a list of strings");
        else if (strings && count && int64_t(data.classNames.size()) != *count)
          diags.error(names->value->range, "'labels " + std::to_string(*count) + "' but " +
                                               std::to_string(data.classNames.size()) + " names are given");
      }
    } else {
      diags.error(s.verbRange, "'" + s.verb + "' is not allowed in a data declaration; expected image, norm, "
                                              "labels or split");
    }
  }
  if (!sawImage)
    diags.error(decl.nameRange, "data '" + decl.name + "' needs 'image gray[H, W]' or 'image rgb[H, W]'");
  if (!sawLabels)
    diags.error(decl.nameRange, "data '" + decl.name + "' needs 'labels N'");

  // Register now so that splits can refer to earlier splits of this data.
  int index = int(result->data.size());
  result->data.push_back(data);
  dataIndex[decl.name] = index;

  for (const SplitDecl &sd : decl.splits) {
    CheckedSplit split;
    split.name = sd.name;
    split.range = sd.range;
    CheckedData &current = result->data[size_t(index)];
    if (current.findSplit(sd.name)) {
      diags.error(sd.nameRange, "duplicate split '" + sd.name + "'");
      diags.note(current.findSplit(sd.name)->range, "'" + sd.name + "' first declared here");
      continue;
    }
    auto parentSplit = [&](const Expr &e) -> const CheckedSplit * {
      const auto *n = dyn_cast<NameExpr>(&e);
      if (!n) {
        diags.error(e.range, "expected the name of an earlier split");
        return nullptr;
      }
      if (const CheckedSplit *p = result->data[size_t(index)].findSplit(n->name))
        return p;
      std::vector<std::string> names;
      for (const CheckedSplit &s : result->data[size_t(index)].splits)
        names.push_back(s.name);
      std::string msg = "unknown split '" + n->name + "'";
      std::string close = closestMatch(n->name, names);
      if (!close.empty())
        msg += "; did you mean '" + close + "'?";
      diags.error(n->range, msg);
      return nullptr;
    };

    const Expr &src = *sd.source;
    // `train + unl`: the operands of a chain of '+', left to right.
    std::vector<const Expr *> operands;
    std::function<bool(const Expr &)> flatten = [&](const Expr &e) {
      const auto *plus = dyn_cast<BinaryExpr>(&e);
      if (!plus || plus->op != BinaryOp::Add) {
        operands.push_back(&e);
        return true;
      }
      return flatten(*plus->lhs) && flatten(*plus->rhs);
    };
    if (const auto *plus = dyn_cast<BinaryExpr>(&src); plus && plus->op == BinaryOp::Add) {
      flatten(src);
      split.source = CheckedSplit::Source::Union;
      bool complete = true;
      for (const Expr *operand : operands) {
        const CheckedSplit *part = parentSplit(*operand);
        if (!part) {
          complete = false;
          continue;
        }
        if (std::find(split.parts.begin(), split.parts.end(), part->name) != split.parts.end()) {
          diags.error(operand->range, "split '" + part->name + "' appears twice in the union");
          complete = false;
          continue;
        }
        split.parts.push_back(part->name);
        // Labels only where every part has them.
        split.unlabeled = split.unlabeled || part->unlabeled;
      }
      if (!complete)
        continue;
    } else if (const auto *file = dyn_cast<StringLit>(&src)) {
      split.source = CheckedSplit::Source::File;
      split.file = file->value;
    } else if (const auto *slice = dyn_cast<IndexExpr>(&src)) {
      split.source = CheckedSplit::Source::Slice;
      const CheckedSplit *parent = parentSplit(*slice->base);
      if (!parent)
        continue;
      split.parent = parent->name;
      split.unlabeled = parent->unlabeled;
      const auto *range = slice->indices.size() == 1 ? dyn_cast<SliceExpr>(slice->indices[0].get()) : nullptr;
      if (!range) {
        diags.error(src.range, "a split slice is written 'other[lo..hi]'");
        continue;
      }
      auto bound = [&](const ExprPtr &e) -> std::optional<int64_t> {
        if (!e)
          return std::nullopt;
        Value v = eval.eval(*e);
        if (v.kind != Value::Kind::Const || !v.constant.isInt() || v.constant.intValue < 0) {
          if (v.ok())
            diags.error(e->range, "a slice bound must be a non-negative int, got " + describe(v));
          return std::nullopt;
        }
        return v.constant.intValue;
      };
      split.lo = bound(range->lo);
      split.hi = bound(range->hi);
      if (split.lo && split.hi && *split.lo >= *split.hi) {
        diags.error(range->range, "empty slice: " + std::to_string(*split.lo) + ".." + std::to_string(*split.hi));
        continue;
      }
    } else if (const auto *call = dyn_cast<CallExpr>(&src)) {
      const auto *member = dyn_cast<MemberExpr>(call->callee.get());
      if (member) {
        // other.shots(n, seed: 0)
        const Builtin *method = findBuiltin(BuiltinKind::SplitMethod, member->member);
        if (!method) {
          std::string msg = "unknown split method '" + member->member + "'";
          std::string close = closestMatch(member->member, builtinNames(BuiltinKind::SplitMethod));
          if (!close.empty())
            msg += "; did you mean '" + close + "'?";
          diags.error(member->memberRange, msg);
          continue;
        }
        const CheckedSplit *parent = parentSplit(*member->base);
        if (!parent)
          continue;
        if (parent->unlabeled) {
          diags.error(member->memberRange, "'" + method->name + "' draws images per class, but split '" +
                                               parent->name + "' is unlabeled");
          diags.note(parent->range, "'" + parent->name + "' is unlabeled");
          continue;
        }
        std::optional<BoundArgs> bound = bindArguments({"split method '" + method->name + "'", SourceRange()},
                                                       method->params, call->args, call->range, eval, diags);
        if (!bound)
          continue;
        split.source = CheckedSplit::Source::Shots;
        split.parent = parent->name;
        split.shots = bound->getInt("n");
        split.seed = bound->getInt("seed");
      } else if (std::optional<CheckedCall> external = checkBuiltinCall(BuiltinKind::DataSource, src)) {
        split.source = CheckedSplit::Source::External;
        split.externalKind = external->name;
        for (const auto &[name, value] : external->attrs)
          if (name == "path")
            split.file = value.stringValue;
      } else {
        continue;
      }
    } else {
      diags.error(src.range, "a split is a file stem (\"train\"), a slice (other[lo..hi]), other.shots(n), "
                             "a union of earlier splits (a + b) or another source");
      continue;
    }

    for (const Clause &c : sd.clauses) {
      if (c.keyword == "unlabeled") {
        if (c.value)
          diags.error(c.value->range, "'unlabeled' takes no value");
        split.unlabeled = true;
      } else if (c.keyword == "augment") {
        const auto *list = c.value ? dyn_cast<ListExpr>(c.value.get()) : nullptr;
        if (!list) {
          diags.error(c.value ? c.value->range : c.range, "'augment' takes a list: augment [crop(28, pad: 2), hflip]");
          continue;
        }
        for (const ExprPtr &entry : list->elements)
          if (std::optional<CheckedCall> a = checkBuiltinCall(BuiltinKind::Augmentation, *entry))
            split.augment.push_back(*a);
      } else {
        diags.error(c.range, "'" + c.keyword + "' is not a clause of a split; expected 'augment' or 'unlabeled'");
      }
    }
    result->data[size_t(index)].splits.push_back(split);
  }
}

} // namespace kd::sema

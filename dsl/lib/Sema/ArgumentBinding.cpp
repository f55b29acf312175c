//===- ArgumentBinding.cpp - The one argument checker ----------------------===//
//
// Every call of a built-in or of a user model is matched against its
// parameter list here, so arity, names, duplicates, types and ranges are
// reported the same way everywhere.
//
//===----------------------------------------------------------------------===//
#include "kd/dsl/Builtins.h"

#include <sstream>

namespace kd {

namespace {
std::string describeType(const ParamSpec &spec) {
  switch (spec.type) {
  case ParamType::Int: return "an int";
  case ParamType::Number: return "a number";
  case ParamType::Bool: return "a bool";
  case ParamType::String: return "a string";
  case ParamType::IntList: return "a list of ints";
  case ParamType::NumberList: return "a list of numbers";
  case ParamType::Any: return "a constant";
  case ParamType::Tensor: return "a feature";
  case ParamType::TensorList: return "a list of features";
  case ParamType::Split: return "a data split";
  case ParamType::ModelList: return "a list of teachers";
  case ParamType::Schedule: return "a schedule";
  case ParamType::Weights: return "a weighting";
  }
  return "a value";
}

bool hasType(const ParamSpec &spec, const ConstValue &v) {
  switch (spec.type) {
  case ParamType::Int: return v.isInt();
  case ParamType::Number: return v.isNumber();
  case ParamType::Bool: return v.isBool();
  case ParamType::String: return v.isString();
  case ParamType::IntList:
  case ParamType::NumberList:
    if (!v.isList())
      return false;
    for (const ConstValue &e : v.elements)
      if (spec.type == ParamType::IntList ? !e.isInt() : !e.isNumber())
        return false;
    return true;
  default: return true;
  }
}

std::string formatNumber(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}
} // namespace

std::string checkParamValue(const ParamSpec &spec, const ConstValue &value, const std::string &owner) {
  std::string prefix = "argument '" + spec.name + "' of " + owner;
  if (!hasType(spec, value))
    return prefix + " must be " + describeType(spec) + ", got " + value.typeName() + " " + value.str();
  if (spec.type == ParamType::String && !spec.allowed.empty()) {
    bool known = false;
    for (const std::string &a : spec.allowed)
      known |= a == value.stringValue;
    if (!known) {
      std::string list;
      for (size_t i = 0; i < spec.allowed.size(); ++i)
        list += (i ? ", \"" : "\"") + spec.allowed[i] + "\"";
      std::string msg = prefix + " must be one of " + list + ", got " + value.str();
      std::string close = closestMatch(value.stringValue, spec.allowed);
      if (!close.empty())
        msg += "; did you mean \"" + close + "\"?";
      return msg;
    }
  }
  if (value.isNumber()) {
    double d = value.asDouble();
    if (spec.minimum) {
      bool bad = spec.minimumExclusive ? d <= *spec.minimum : d < *spec.minimum;
      if (bad)
        return prefix + " must be " + (spec.minimumExclusive ? "greater than " : "at least ") +
               formatNumber(*spec.minimum) + ", got " + value.str();
    }
    if (spec.maximum) {
      bool bad = spec.maximumExclusive ? d >= *spec.maximum : d > *spec.maximum;
      if (bad)
        return prefix + " must be " + (spec.maximumExclusive ? "less than " : "at most ") +
               formatNumber(*spec.maximum) + ", got " + value.str();
    }
  }
  return "";
}

std::optional<BoundArgs> bindArguments(const CallTarget &target, const std::vector<ParamSpec> &params,
                                       const std::vector<ast::Arg> &args, SourceRange callRange,
                                       ConstantEvaluator &eval, DiagnosticEngine &diags) {
  BoundArgs bound;
  bound.slots.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i)
    bound.slots[i].spec = &params[i];
  auto noteDeclaration = [&] {
    if (target.declaration.valid())
      diags.note(target.declaration, target.description + " declared here");
  };

  bool ok = true;
  size_t nextPositional = 0;
  bool seenNamed = false;
  for (const ast::Arg &arg : args) {
    if (!arg.value)
      continue;
    SourceRange argRange = arg.value->range;
    if (arg.nameRange.valid()) {
      argRange.begin = arg.nameRange.begin;
    }
    if (ast::isa<ast::ComprehensionExpr>(arg.value.get())) {
      diags.error(argRange, target.description + " does not take a comprehension argument");
      ok = false;
      continue;
    }
    size_t slot = params.size();
    if (arg.name.empty()) {
      if (seenNamed) {
        diags.error(argRange, "positional argument after named arguments in call of " + target.description);
        ok = false;
        continue;
      }
      slot = nextPositional++;
      if (slot >= params.size()) {
        diags.error(argRange, target.description + " takes " + std::to_string(params.size()) +
                                  " argument" + (params.size() == 1 ? "" : "s") + ", got " +
                                  std::to_string(args.size()));
        noteDeclaration();
        return std::nullopt;
      }
    } else {
      seenNamed = true;
      for (size_t i = 0; i < params.size(); ++i)
        if (params[i].name == arg.name)
          slot = i;
      if (slot == params.size()) {
        std::vector<std::string> names;
        for (const ParamSpec &p : params)
          names.push_back(p.name);
        std::string msg = "unknown argument '" + arg.name + "' of " + target.description;
        std::string close = closestMatch(arg.name, names);
        if (!close.empty())
          msg += "; did you mean '" + close + "'?";
        diags.error(arg.nameRange.valid() ? arg.nameRange : argRange, msg);
        noteDeclaration();
        ok = false;
        continue;
      }
    }
    BoundArg &b = bound.slots[slot];
    if (b.given) {
      diags.error(argRange, "argument '" + params[slot].name + "' of " + target.description + " given twice");
      diags.note(b.range, "first given here");
      ok = false;
      continue;
    }
    b.given = true;
    b.present = true;
    b.expr = arg.value.get();
    b.range = argRange;
    if (!isConstantType(params[slot].type))
      continue;
    std::optional<ConstValue> value = eval.evaluateConstant(*arg.value);
    if (!value) {
      ok = false;
      continue;
    }
    // None: a value not known in a standalone check; nothing to verify yet.
    std::string problem = value->isNone() ? "" : checkParamValue(params[slot], *value, target.description);
    if (!problem.empty()) {
      diags.error(arg.value->range, problem);
      ok = false;
      continue;
    }
    b.value = std::move(*value);
  }

  for (BoundArg &b : bound.slots) {
    if (b.given)
      continue;
    switch (b.spec->presence) {
    case ParamSpec::Presence::Required:
      diags.error(callRange, target.description + " needs argument '" + b.spec->name + "'");
      noteDeclaration();
      ok = false;
      break;
    case ParamSpec::Presence::Default:
      b.present = true;
      b.value = b.spec->defaultValue;
      break;
    case ParamSpec::Presence::Derived:
      if (!b.spec->derivedFrom.empty())
        if (const BoundArg *source = bound.find(b.spec->derivedFrom); source && source->present) {
          b.present = true;
          b.value = source->value;
        }
      break;
    }
  }
  if (!ok)
    return std::nullopt;
  return bound;
}

const BoundArg *BoundArgs::find(std::string_view name) const {
  for (const BoundArg &b : slots)
    if (b.spec && b.spec->name == name)
      return &b;
  return nullptr;
}

const ConstValue *BoundArgs::value(std::string_view name) const {
  const BoundArg *b = find(name);
  if (!b || !b->present || b->value.isNone())
    return nullptr;
  return &b->value;
}

int64_t BoundArgs::getInt(std::string_view name, int64_t fallback) const {
  const ConstValue *v = value(name);
  return v && v->isInt() ? v->intValue : fallback;
}
double BoundArgs::getNumber(std::string_view name, double fallback) const {
  const ConstValue *v = value(name);
  return v && v->isNumber() ? v->asDouble() : fallback;
}
bool BoundArgs::getBool(std::string_view name, bool fallback) const {
  const ConstValue *v = value(name);
  return v && v->isBool() ? v->boolValue : fallback;
}
std::string BoundArgs::getString(std::string_view name, std::string fallback) const {
  const ConstValue *v = value(name);
  return v && v->isString() ? v->stringValue : fallback;
}
std::vector<int64_t> BoundArgs::getIntList(std::string_view name) const {
  std::vector<int64_t> out;
  if (const ConstValue *v = value(name))
    for (const ConstValue &e : v->elements)
      out.push_back(e.intValue);
  return out;
}
std::vector<std::pair<std::string, ConstValue>> BoundArgs::constants() const {
  std::vector<std::pair<std::string, ConstValue>> out;
  for (const BoundArg &b : slots)
    if (b.present && !b.value.isNone() && isConstantType(b.spec->type))
      out.push_back({b.spec->name, b.value});
  return out;
}

} // namespace kd

//===- ConstEval.cpp - Compile-time evaluation of expressions -------------===//
//
// Ints, floats, bools, strings and lists; arithmetic, comparisons and logic;
// indexing, `len` and `if then else`. Model parameters, `let` constants and
// loop variables reach here as names. Errors such as a division by zero are
// reported at the expression that causes them.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <cmath>

namespace kd::sema {

using namespace kd::ast;

std::string describe(const Value &v) {
  switch (v.kind) {
  case Value::Kind::Error: return "an invalid value";
  case Value::Kind::Unknown: return "a value not known here";
  case Value::Kind::Const: {
    std::string type = v.constant.typeName();
    return std::string(type == "int" ? "an " : "a ") + type + " (" + v.constant.str() + ")";
  }
  case Value::Kind::Tensor: return v.shapeKnown ? "a tensor " + formatShape(v.shape) : "a tensor";
  case Value::Kind::TensorList: return "a list of tensors";
  case Value::Kind::Label: return "the labels";
  case Value::Kind::Loss: return "a loss";
  case Value::Kind::Use: return "a model";
  case Value::Kind::Data: return "a data set";
  case Value::Kind::Split: return "a data split";
  case Value::Kind::Model: return "a model declaration";
  }
  return "a value";
}

Value Evaluator::eval(const Expr &expr) {
  switch (expr.kind) {
  case ExprKind::Int: return Value::of(ConstValue::ofInt(static_cast<const IntLit &>(expr).value));
  case ExprKind::Float: return Value::of(ConstValue::ofFloat(static_cast<const FloatLit &>(expr).value));
  case ExprKind::String: return Value::of(ConstValue::ofString(static_cast<const StringLit &>(expr).value));
  case ExprKind::Bool: return Value::of(ConstValue::ofBool(static_cast<const BoolLit &>(expr).value));
  case ExprKind::List: return evalList(static_cast<const ListExpr &>(expr));
  case ExprKind::Name: return evalName(static_cast<const NameExpr &>(expr));
  case ExprKind::Member: return evalMember(static_cast<const MemberExpr &>(expr));
  case ExprKind::Call: return evalCall(static_cast<const CallExpr &>(expr));
  case ExprKind::Chain: return evalChain(static_cast<const ChainExpr &>(expr));
  case ExprKind::Repeat: return evalRepeat(static_cast<const RepeatExpr &>(expr));
  case ExprKind::Index: {
    const auto &e = static_cast<const IndexExpr &>(expr);
    return applyIndex(e, eval(*e.base));
  }
  case ExprKind::Unary: {
    const auto &e = static_cast<const UnaryExpr &>(expr);
    return applyUnary(e, eval(*e.operand));
  }
  case ExprKind::Binary: {
    const auto &e = static_cast<const BinaryExpr &>(expr);
    // `and` / `or` short-circuit so that guards like `n > 0 and 10 / n > 1` work.
    if (e.op == BinaryOp::And || e.op == BinaryOp::Or) {
      Value lhs = eval(*e.lhs);
      if (lhs.kind == Value::Kind::Const && lhs.constant.isBool() &&
          lhs.constant.boolValue == (e.op == BinaryOp::Or))
        return lhs;
      return applyBinary(e, lhs, eval(*e.rhs));
    }
    Value lhs = eval(*e.lhs);
    Value rhs = eval(*e.rhs);
    return applyBinary(e, lhs, rhs);
  }
  case ExprKind::If: {
    const auto &e = static_cast<const IfExpr &>(expr);
    Value cond = eval(*e.cond);
    if (cond.kind == Value::Kind::Unknown) {
      Value a = eval(*e.thenExpr);
      Value b = eval(*e.elseExpr);
      return a.ok() ? a : b;
    }
    if (!cond.ok())
      return cond;
    if (cond.kind != Value::Kind::Const || !cond.constant.isBool()) {
      sema.diags.error(e.cond->range, "the condition of 'if' must be a bool, got " + describe(cond));
      return Value::error();
    }
    return eval(cond.constant.boolValue ? *e.thenExpr : *e.elseExpr);
  }
  case ExprKind::Slice:
    sema.diags.error(expr.range, "a slice is only allowed inside brackets of a split");
    return Value::error();
  case ExprKind::Comprehension:
    sema.diags.error(expr.range, "a comprehension is only allowed as the argument of sum(...) or mean(...)");
    return Value::error();
  }
  return Value::error();
}

std::optional<ConstValue> Evaluator::evaluateConstant(const Expr &expr) {
  Value v = eval(expr);
  if (v.kind == Value::Kind::Unknown)
    return ConstValue(); // None: not known, accepted without checks
  if (!v.ok())
    return std::nullopt;
  if (v.kind != Value::Kind::Const) {
    sema.diags.error(expr.range, "expected a constant, got " + describe(v));
    return std::nullopt;
  }
  return v.constant;
}

Value Evaluator::evalList(const ListExpr &e) {
  std::vector<ConstValue> constants;
  std::vector<Value> tensors;
  bool unknown = false;
  for (const ExprPtr &element : e.elements) {
    Value v = eval(*element);
    if (!v.ok())
      return v;
    if (v.kind == Value::Kind::Unknown)
      unknown = true;
    else if (v.kind == Value::Kind::Const)
      constants.push_back(v.constant);
    else if (v.kind == Value::Kind::Tensor)
      tensors.push_back(v);
    else {
      sema.diags.error(element->range, "a list holds constants or tensors, not " + describe(v));
      return Value::error();
    }
  }
  if (!tensors.empty() && !constants.empty()) {
    sema.diags.error(e.range, "a list cannot mix constants and tensors");
    return Value::error();
  }
  if (!tensors.empty()) {
    Value v;
    v.kind = Value::Kind::TensorList;
    v.elements = std::move(tensors);
    return v;
  }
  if (unknown)
    return Value::unknown();
  return Value::of(ConstValue::ofList(std::move(constants)));
}

const Evaluator::Local *Evaluator::findLocal(const std::string &name) const {
  for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
    auto found = it->find(name);
    if (found != it->end())
      return &found->second;
  }
  return nullptr;
}

std::vector<std::string> Evaluator::candidateNames() const {
  std::vector<std::string> names = sema.globalNames();
  for (const auto &scope : scopes)
    for (const auto &entry : scope)
      names.push_back(entry.first);
  return names;
}

void Evaluator::reportUnknownName(const std::string &name, SourceRange range, const std::string &what,
                                  std::vector<std::string> extra) {
  std::vector<std::string> candidates = candidateNames();
  candidates.insert(candidates.end(), extra.begin(), extra.end());
  std::string msg = "unknown " + what + " '" + name + "'";
  std::string close = closestMatch(name, candidates);
  if (!close.empty())
    msg += "; did you mean '" + close + "'?";
  sema.diags.error(range, msg);
}

Value Evaluator::evalName(const NameExpr &e) {
  if (const Local *local = findLocal(e.name))
    return local->value;
  if (const Decl *decl = sema.lookupGlobal(e.name)) {
    if (const auto *let = dyn_cast<LetDecl>(decl)) {
      std::optional<ConstValue> v = sema.letValue(*let);
      return v ? Value::of(*v) : Value::error();
    }
    return evalGlobal(*decl, e);
  }
  reportUnknownName(e.name, e.range, "name");
  return Value::error();
}

Value Evaluator::evalGlobal(const Decl &decl, const NameExpr &e) {
  if (decl.kind == DeclKind::Data) {
    Value v;
    v.kind = Value::Kind::Data;
    auto it = sema.dataIndex.find(decl.name);
    if (it == sema.dataIndex.end())
      return Value::error(); // its own errors were reported
    v.id = it->second;
    return v;
  }
  if (const auto *use = dyn_cast<ModelUseDecl>(&decl)) {
    Value v;
    v.kind = Value::Kind::Use;
    v.constant = ConstValue::ofString(use->name);
    return v;
  }
  if (const auto *model = dyn_cast<ModelDecl>(&decl)) {
    Value v;
    v.kind = Value::Kind::Model;
    v.model = model;
    return v;
  }
  sema.diags.error(e.range, "'" + e.name + "' names a stage; it cannot be used as a value");
  sema.diags.note(decl.nameRange, "'" + e.name + "' declared here");
  return Value::error();
}

Value Evaluator::evalMember(const MemberExpr &e) {
  Value base = eval(*e.base);
  if (!base.ok())
    return base;
  if (base.kind == Value::Kind::Data) {
    const CheckedData &data = sema.result->data[base.id];
    if (!data.findSplit(e.member)) {
      std::vector<std::string> names;
      for (const CheckedSplit &s : data.splits)
        names.push_back(s.name);
      std::string msg = "data '" + data.name + "' has no split '" + e.member + "'";
      std::string close = closestMatch(e.member, names);
      if (!close.empty())
        msg += "; did you mean '" + close + "'?";
      sema.diags.error(e.memberRange, msg);
      sema.diags.note(data.range, "data '" + data.name + "' declared here");
      return Value::error();
    }
    Value v;
    v.kind = Value::Kind::Split;
    v.split = SplitRef{base.id, e.member};
    return v;
  }
  sema.diags.error(e.memberRange, "'" + e.member + "' cannot be taken from " + describe(base));
  return Value::error();
}

Value Evaluator::unknownShapeQuery(const CallExpr &e, const Value &tensor) {
  (void)tensor;
  sema.diags.error(e.range, "the shape of this value is not known here; " + std::string(e.calleeName()) +
                                "(...) needs a tensor whose shape has been inferred");
  return Value::error();
}

Value Evaluator::evalShapeQuery(const Builtin &query, const CallExpr &e) {
  CallTarget target{std::string(kindName(query.kind)) + " '" + query.name + "'", SourceRange()};
  std::optional<BoundArgs> bound = bindArguments(target, query.params, e.args, e.range, *this, sema.diags);
  if (!bound)
    return Value::error();
  const ast::Expr &operand = *bound->slots.front().expr;
  Value v = eval(operand);
  if (!v.ok() || v.kind == Value::Kind::Unknown)
    return v;
  if (query.name == "classes") {
    if (v.kind != Value::Kind::Data) {
      sema.diags.error(operand.range, "classes(...) takes a data set such as 'fmnist', got " + describe(v));
      return Value::error();
    }
    const CheckedData &data = sema.result->data[v.id];
    if (data.numClasses <= 0) {
      sema.diags.error(operand.range, "data '" + data.name + "' declares no 'labels N'");
      sema.diags.note(data.range, "data '" + data.name + "' declared here");
      return Value::error();
    }
    return Value::of(ConstValue::ofInt(data.numClasses));
  }
  if (v.kind != Value::Kind::Tensor) {
    sema.diags.error(operand.range, query.name + "(...) takes a tensor such as a model's input, got " + describe(v));
    return Value::error();
  }
  if (!v.shapeKnown)
    return unknownShapeQuery(e, v);
  if (query.name == "channels") {
    if (v.shape.empty()) {
      sema.diags.error(operand.range, "channels(...) of a scalar: it has no first dimension");
      return Value::error();
    }
    return Value::of(ConstValue::ofInt(v.shape.front()));
  }
  std::vector<ConstValue> dims;
  for (int64_t d : v.shape)
    dims.push_back(ConstValue::ofInt(d));
  return Value::of(ConstValue::ofList(std::move(dims)));
}

Value Evaluator::evalCall(const CallExpr &e) {
  std::string_view callee = e.calleeName();
  if (!callee.empty() && callee != "len") {
    std::string name(callee);
    if (const Local *local = findLocal(name)) {
      sema.diags.error(e.callee->range, "'" + name + "' is " + describe(local->value) + " here and cannot be called");
      if (local->defined.valid())
        sema.diags.note(local->defined, "'" + name + "' defined here");
      return Value::error();
    }
    if (!sema.lookupGlobal(name))
      if (const Builtin *query = findBuiltin(BuiltinKind::ShapeQuery, name))
        return evalShapeQuery(*query, e);
  }
  if (callee == "len") {
    if (e.args.size() != 1 || !e.args[0].name.empty()) {
      sema.diags.error(e.range, "len takes one list");
      return Value::error();
    }
    Value v = eval(*e.args[0].value);
    if (v.kind == Value::Kind::Unknown || !v.ok())
      return v;
    if (v.kind == Value::Kind::TensorList)
      return Value::of(ConstValue::ofInt(int64_t(v.elements.size())));
    if (v.kind != Value::Kind::Const || !(v.constant.isList() || v.constant.isString())) {
      sema.diags.error(e.args[0].value->range, "len takes a list, got " + describe(v));
      return Value::error();
    }
    return Value::of(ConstValue::ofInt(int64_t(v.constant.isList() ? v.constant.elements.size()
                                                                    : v.constant.stringValue.size())));
  }
  sema.diags.error(e.range, callee.empty() ? std::string("this expression cannot be called here")
                                           : "'" + std::string(callee) + "' cannot be called here");
  return Value::error();
}

Value Evaluator::evalChain(const ChainExpr &e) {
  sema.diags.error(e.arrowRange, "'->' chains layers and is only allowed in model bodies and losses");
  return Value::error();
}

Value Evaluator::evalRepeat(const RepeatExpr &e) {
  sema.diags.error(e.range, "'repeat' is only allowed after '->' in a model body");
  return Value::error();
}

Value Evaluator::applyUnary(const UnaryExpr &e, const Value &operand) {
  if (!operand.ok() || operand.kind == Value::Kind::Unknown)
    return operand;
  if (operand.kind == Value::Kind::Const) {
    const ConstValue &c = operand.constant;
    if (e.op == UnaryOp::Neg && c.isInt())
      return Value::of(ConstValue::ofInt(-c.intValue));
    if (e.op == UnaryOp::Neg && c.isNumber())
      return Value::of(ConstValue::ofFloat(-c.floatValue));
    if (e.op == UnaryOp::Not && c.isBool())
      return Value::of(ConstValue::ofBool(!c.boolValue));
  }
  sema.diags.error(e.range, std::string(e.op == UnaryOp::Neg ? "'-'" : "'not'") + " cannot apply to " +
                                describe(operand));
  return Value::error();
}

Value Evaluator::nonConstBinary(const BinaryExpr &e, const Value &lhs, const Value &rhs) {
  sema.diags.error(e.opRange, std::string("'") + spelling(e.op) + "' cannot combine " + describe(lhs) + " and " +
                                  describe(rhs));
  return Value::error();
}

Value Evaluator::applyBinary(const BinaryExpr &e, const Value &lhs, const Value &rhs) {
  if (!lhs.ok())
    return lhs;
  if (!rhs.ok())
    return rhs;
  if (lhs.kind == Value::Kind::Unknown || rhs.kind == Value::Kind::Unknown)
    return Value::unknown();
  if (lhs.kind != Value::Kind::Const || rhs.kind != Value::Kind::Const)
    return nonConstBinary(e, lhs, rhs);
  const ConstValue &a = lhs.constant, &b = rhs.constant;
  auto mismatch = [&] {
    sema.diags.error(e.opRange, std::string("'") + spelling(e.op) + "' cannot combine " + describe(lhs) + " and " +
                                    describe(rhs));
    return Value::error();
  };
  switch (e.op) {
  case BinaryOp::And:
  case BinaryOp::Or:
    if (!a.isBool() || !b.isBool())
      return mismatch();
    return Value::of(ConstValue::ofBool(e.op == BinaryOp::And ? a.boolValue && b.boolValue
                                                              : a.boolValue || b.boolValue));
  case BinaryOp::Eq: return Value::of(ConstValue::ofBool(a == b));
  case BinaryOp::Ne: return Value::of(ConstValue::ofBool(a != b));
  case BinaryOp::Lt:
  case BinaryOp::Le:
  case BinaryOp::Gt:
  case BinaryOp::Ge: {
    int cmp;
    if (a.isNumber() && b.isNumber())
      cmp = a.asDouble() < b.asDouble() ? -1 : a.asDouble() > b.asDouble() ? 1 : 0;
    else if (a.isString() && b.isString())
      cmp = a.stringValue.compare(b.stringValue);
    else
      return mismatch();
    bool r = e.op == BinaryOp::Lt ? cmp < 0 : e.op == BinaryOp::Le ? cmp <= 0 : e.op == BinaryOp::Gt ? cmp > 0 : cmp >= 0;
    return Value::of(ConstValue::ofBool(r));
  }
  case BinaryOp::Add:
    if (a.isString() && b.isString())
      return Value::of(ConstValue::ofString(a.stringValue + b.stringValue));
    if (a.isList() && b.isList()) {
      std::vector<ConstValue> joined = a.elements;
      joined.insert(joined.end(), b.elements.begin(), b.elements.end());
      return Value::of(ConstValue::ofList(std::move(joined)));
    }
    [[fallthrough]];
  case BinaryOp::Sub:
  case BinaryOp::Mul:
  case BinaryOp::Div:
  case BinaryOp::Mod: {
    if (!a.isNumber() || !b.isNumber())
      return mismatch();
    if ((e.op == BinaryOp::Div || e.op == BinaryOp::Mod) && b.asDouble() == 0) {
      sema.diags.error(e.range, std::string(e.op == BinaryOp::Div ? "division" : "modulo") + " by zero in '" +
                                    a.str() + " " + spelling(e.op) + " " + b.str() + "'");
      return Value::error();
    }
    if (a.isInt() && b.isInt()) {
      int64_t x = a.intValue, y = b.intValue, r = 0;
      switch (e.op) {
      case BinaryOp::Add: r = x + y; break;
      case BinaryOp::Sub: r = x - y; break;
      case BinaryOp::Mul: r = x * y; break;
      // Integer division floors, as channel arithmetic (`channels / ratio`) expects.
      case BinaryOp::Div: r = x / y - ((x % y != 0) && ((x < 0) != (y < 0))); break;
      case BinaryOp::Mod: r = ((x % y) + y) % y; break;
      default: break;
      }
      return Value::of(ConstValue::ofInt(r));
    }
    double x = a.asDouble(), y = b.asDouble(), r = 0;
    switch (e.op) {
    case BinaryOp::Add: r = x + y; break;
    case BinaryOp::Sub: r = x - y; break;
    case BinaryOp::Mul: r = x * y; break;
    case BinaryOp::Div: r = x / y; break;
    case BinaryOp::Mod: r = std::fmod(x, y); break;
    default: break;
    }
    return Value::of(ConstValue::ofFloat(r));
  }
  }
  return mismatch();
}

Value Evaluator::applyIndex(const IndexExpr &e, const Value &base) {
  if (!base.ok() || base.kind == Value::Kind::Unknown)
    return base;
  if (e.indices.size() != 1) {
    sema.diags.error(e.range, "indexing takes one index");
    return Value::error();
  }
  const Expr &indexExpr = *e.indices[0];
  if (isa<SliceExpr>(&indexExpr)) {
    sema.diags.error(indexExpr.range, "a slice is only allowed on a data split");
    return Value::error();
  }
  Value index = eval(indexExpr);
  if (!index.ok() || index.kind == Value::Kind::Unknown)
    return index;
  if (index.kind != Value::Kind::Const || !index.constant.isInt()) {
    sema.diags.error(indexExpr.range, "an index must be an int, got " + describe(index));
    return Value::error();
  }
  size_t size;
  if (base.kind == Value::Kind::TensorList)
    size = base.elements.size();
  else if (base.kind == Value::Kind::Const && base.constant.isList())
    size = base.constant.elements.size();
  else {
    sema.diags.error(e.base->range, "only a list can be indexed, got " + describe(base));
    return Value::error();
  }
  int64_t i = index.constant.intValue;
  if (i < 0)
    i += int64_t(size);
  if (i < 0 || i >= int64_t(size)) {
    sema.diags.error(indexExpr.range, "index " + std::to_string(index.constant.intValue) +
                                          " is out of range for a list of " + std::to_string(size));
    return Value::error();
  }
  if (base.kind == Value::Kind::TensorList)
    return base.elements[size_t(i)];
  return Value::of(base.constant.elements[size_t(i)]);
}

} // namespace kd::sema

//===- ExprWalk.cpp - Visiting the names of an expression -----------------===//
#include "ExprWalk.h"

namespace kd::sema {

using namespace kd::ast;

void forEachName(const Expr &expr, const std::function<void(const NameExpr &)> &fn) {
  auto visit = [&](const ExprPtr &e) {
    if (e)
      forEachName(*e, fn);
  };
  switch (expr.kind) {
  case ExprKind::Name: fn(static_cast<const NameExpr &>(expr)); break;
  case ExprKind::List:
    for (const ExprPtr &e : static_cast<const ListExpr &>(expr).elements)
      visit(e);
    break;
  case ExprKind::Member: visit(static_cast<const MemberExpr &>(expr).base); break;
  case ExprKind::Call: {
    const auto &c = static_cast<const CallExpr &>(expr);
    visit(c.callee);
    for (const Arg &a : c.args)
      visit(a.value);
    break;
  }
  case ExprKind::Index: {
    const auto &i = static_cast<const IndexExpr &>(expr);
    visit(i.base);
    for (const ExprPtr &e : i.indices)
      visit(e);
    break;
  }
  case ExprKind::Slice: {
    const auto &s = static_cast<const SliceExpr &>(expr);
    visit(s.lo);
    visit(s.hi);
    break;
  }
  case ExprKind::Unary: visit(static_cast<const UnaryExpr &>(expr).operand); break;
  case ExprKind::Binary: {
    const auto &b = static_cast<const BinaryExpr &>(expr);
    visit(b.lhs);
    visit(b.rhs);
    break;
  }
  case ExprKind::Chain: {
    const auto &c = static_cast<const ChainExpr &>(expr);
    visit(c.input);
    visit(c.layer);
    break;
  }
  case ExprKind::If: {
    const auto &i = static_cast<const IfExpr &>(expr);
    visit(i.cond);
    visit(i.thenExpr);
    visit(i.elseExpr);
    break;
  }
  case ExprKind::Repeat: {
    const auto &r = static_cast<const RepeatExpr &>(expr);
    visit(r.over);
    visit(r.body);
    break;
  }
  case ExprKind::Comprehension: {
    const auto &c = static_cast<const ComprehensionExpr &>(expr);
    visit(c.collection);
    visit(c.body);
    break;
  }
  default: break;
  }
}

bool mentions(const Expr &expr, const std::string &name) {
  bool found = false;
  forEachName(expr, [&](const NameExpr &n) { found = found || n.name == name; });
  return found;
}

} // namespace kd::sema

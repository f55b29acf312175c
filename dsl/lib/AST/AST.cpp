//===- AST.cpp - Small queries on the AST ---------------------------------===//
#include "kd/dsl/AST.h"

namespace kd::ast {

std::string_view CallExpr::calleeName() const {
  if (const auto *name = dyn_cast<NameExpr>(callee.get()))
    return name->name;
  return {};
}

const char *spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add: return "+";
  case BinaryOp::Sub: return "-";
  case BinaryOp::Mul: return "*";
  case BinaryOp::Div: return "/";
  case BinaryOp::Mod: return "%";
  case BinaryOp::Lt: return "<";
  case BinaryOp::Le: return "<=";
  case BinaryOp::Gt: return ">";
  case BinaryOp::Ge: return ">=";
  case BinaryOp::Eq: return "==";
  case BinaryOp::Ne: return "!=";
  case BinaryOp::And: return "and";
  case BinaryOp::Or: return "or";
  }
  return "?";
}

const Clause *Statement::clause(std::string_view keyword) const {
  for (const Clause &c : clauses)
    if (c.keyword == keyword)
      return &c;
  return nullptr;
}

} // namespace kd::ast

//===- ExprWalk.h - Visiting the names of an expression ---------*- C++ -*-===//
#ifndef KD_DSL_SEMA_EXPRWALK_H
#define KD_DSL_SEMA_EXPRWALK_H

#include "kd/dsl/AST.h"

#include <functional>

namespace kd::sema {

// Calls `fn` for every NameExpr inside `expr`, in source order.
void forEachName(const ast::Expr &expr, const std::function<void(const ast::NameExpr &)> &fn);

// True if `expr` names `name` anywhere (`T`, `T.logits`, `kl(S.x, T.y)`).
bool mentions(const ast::Expr &expr, const std::string &name);

} // namespace kd::sema

#endif // KD_DSL_SEMA_EXPRWALK_H

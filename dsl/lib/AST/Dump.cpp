//===- Dump.cpp - The readable AST dump (kdc --emit=ast) ------------------===//
//
// One node per line, two spaces of indent per level, the node's start as
// <line:col> at the end of the line. A child that plays a named role in its
// parent is prefixed with the role (`cond: ...`, `k: ...` for named args).
// Short, leaf-like values (parameter defaults, input shapes) print inline in
// source form. The format is meant for FileCheck, so it is stable: no
// pointers, no file offsets.
//
//===----------------------------------------------------------------------===//
#include "kd/dsl/AST.h"

#include <charconv>
#include <cstdio>
#include <string>

namespace kd::ast {

namespace {

// The shortest decimal form that reads back as the same double, always with
// a '.' or an exponent so that it reads as a float.
std::string formatFloat(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".eEn") == std::string::npos) // n: inf, nan
    text += ".0";
  return text;
}

std::string quote(const std::string &value) {
  std::string out = "\"";
  for (char c : value) {
    unsigned char byte = static_cast<unsigned char>(c);
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\t': out += "\\t"; break;
    case '\r': out += "\\r"; break;
    default:
      if (byte < 0x20 || byte == 0x7f) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02X", byte);
        out += hex;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

// Source-like text of an expression, for values shown inline.
std::string inlineText(const Expr *e);

std::string inlineArgs(const std::vector<Arg> &args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i)
      out += ", ";
    if (!args[i].name.empty())
      out += args[i].name + ": ";
    out += inlineText(args[i].value.get());
  }
  return out;
}

// Operands that are themselves operators get parentheses, so the printed
// text shows the tree's grouping without a precedence table.
std::string operandText(const Expr *e) {
  bool compound = isa<BinaryExpr>(e) || isa<ChainExpr>(e) || isa<IfExpr>(e) || isa<RepeatExpr>(e);
  return compound ? "(" + inlineText(e) + ")" : inlineText(e);
}

std::string inlineText(const Expr *e) {
  if (!e)
    return "";
  switch (e->kind) {
  case ExprKind::Int: return std::to_string(static_cast<const IntLit *>(e)->value);
  case ExprKind::Float: return formatFloat(static_cast<const FloatLit *>(e)->value);
  case ExprKind::String: return quote(static_cast<const StringLit *>(e)->value);
  case ExprKind::Bool: return static_cast<const BoolLit *>(e)->value ? "true" : "false";
  case ExprKind::Name: return static_cast<const NameExpr *>(e)->name;
  case ExprKind::List: {
    std::string out = "[";
    const auto &elements = static_cast<const ListExpr *>(e)->elements;
    for (size_t i = 0; i < elements.size(); ++i)
      out += (i ? ", " : "") + inlineText(elements[i].get());
    return out + "]";
  }
  case ExprKind::Member: {
    const auto *m = static_cast<const MemberExpr *>(e);
    return operandText(m->base.get()) + "." + m->member;
  }
  case ExprKind::Call: {
    const auto *c = static_cast<const CallExpr *>(e);
    return operandText(c->callee.get()) + "(" + inlineArgs(c->args) + ")";
  }
  case ExprKind::Index: {
    const auto *x = static_cast<const IndexExpr *>(e);
    std::string out = operandText(x->base.get()) + "[";
    for (size_t i = 0; i < x->indices.size(); ++i)
      out += (i ? ", " : "") + inlineText(x->indices[i].get());
    return out + "]";
  }
  case ExprKind::Slice: {
    const auto *s = static_cast<const SliceExpr *>(e);
    return inlineText(s->lo.get()) + ".." + inlineText(s->hi.get());
  }
  case ExprKind::Unary: {
    const auto *u = static_cast<const UnaryExpr *>(e);
    return (u->op == UnaryOp::Neg ? "-" : "not ") + operandText(u->operand.get());
  }
  case ExprKind::Binary: {
    const auto *b = static_cast<const BinaryExpr *>(e);
    return operandText(b->lhs.get()) + " " + spelling(b->op) + " " + operandText(b->rhs.get());
  }
  case ExprKind::Chain: {
    const auto *c = static_cast<const ChainExpr *>(e);
    return inlineText(c->input.get()) + " -> " + operandText(c->layer.get());
  }
  case ExprKind::If: {
    const auto *i = static_cast<const IfExpr *>(e);
    return "if " + inlineText(i->cond.get()) + " then " + inlineText(i->thenExpr.get()) + " else " +
           inlineText(i->elseExpr.get());
  }
  case ExprKind::Repeat: {
    const auto *r = static_cast<const RepeatExpr *>(e);
    return "repeat " + (r->var.empty() ? "" : r->var + " in ") + inlineText(r->over.get()) + ": " +
           inlineText(r->body.get());
  }
  case ExprKind::Comprehension: {
    const auto *c = static_cast<const ComprehensionExpr *>(e);
    return c->var + " in " + inlineText(c->collection.get()) + ": " + inlineText(c->body.get());
  }
  }
  return "";
}

class Dumper {
public:
  Dumper(const SourceManager &sm, std::ostream &os) : sm(sm), os(os) {}

  void module(const Module &m) {
    os << "Module " << sm.name(m.file) << '\n';
    for (const DeclPtr &d : m.decls)
      decl(*d, 0);
  }

private:
  // Starts a node's line: indent, role prefix, text. The caller ends it with
  // `loc`.
  std::ostream &line(unsigned depth, const std::string &role = {}) {
    os << std::string(2 * depth, ' ');
    if (!role.empty())
      os << role << ": ";
    return os;
  }
  void loc(SourceRange r) {
    LineCol lc = sm.lineCol(r.begin);
    os << " <" << lc.line << ':' << lc.column << ">\n";
  }

  void decl(const Decl &d, unsigned depth);
  void statement(const Statement &s, unsigned depth);
  void clause(const Clause &c, unsigned depth);
  void modelItem(const ModelItem &item, unsigned depth);
  void args(const std::vector<Arg> &args, unsigned depth);
  void expr(const Expr *e, unsigned depth, const std::string &role = {});

  const SourceManager &sm;
  std::ostream &os;
};

void Dumper::decl(const Decl &d, unsigned depth) {
  switch (d.kind) {
  case DeclKind::Import: {
    const auto &imp = static_cast<const ImportDecl &>(d);
    line(depth) << "ImportDecl " << quote(imp.path);
    loc(d.range);
    return;
  }
  case DeclKind::Let: {
    line(depth) << "LetDecl " << d.name;
    loc(d.range);
    expr(static_cast<const LetDecl &>(d).value.get(), depth + 1);
    return;
  }
  case DeclKind::Data: {
    const auto &data = static_cast<const DataDecl &>(d);
    line(depth) << "DataDecl " << d.name;
    loc(d.range);
    expr(data.source.get(), depth + 1, "source");
    for (const Statement &s : data.statements)
      statement(s, depth + 1);
    for (const SplitDecl &split : data.splits) {
      line(depth + 1) << "Split " << split.name;
      loc(split.range);
      expr(split.source.get(), depth + 2, "source");
      for (const Clause &c : split.clauses)
        clause(c, depth + 2);
    }
    return;
  }
  case DeclKind::Model: {
    const auto &model = static_cast<const ModelDecl &>(d);
    line(depth) << "ModelDecl " << d.name;
    loc(d.range);
    for (const Param &p : model.params) {
      line(depth + 1) << "Param " << p.name;
      if (p.defaultValue)
        os << " = " << inlineText(p.defaultValue.get());
      loc(p.range);
    }
    for (const ModelItem &item : model.items)
      modelItem(item, depth + 1);
    return;
  }
  case DeclKind::Teacher:
  case DeclKind::Student: {
    const auto &use = static_cast<const ModelUseDecl &>(d);
    line(depth) << (use.isTeacher() ? "TeacherDecl " : "StudentDecl ") << d.name;
    loc(d.range);
    expr(use.init.get(), depth + 1, "init");
    for (const Statement &s : use.body)
      statement(s, depth + 1);
    return;
  }
  case DeclKind::Stage: {
    const auto &stage = static_cast<const StageDecl &>(d);
    line(depth) << "StageDecl " << d.name;
    if (!stage.stageKind.empty())
      os << " : " << stage.stageKind;
    loc(d.range);
    for (const Statement &s : stage.body)
      statement(s, depth + 1);
    return;
  }
  case DeclKind::Statement:
    statement(static_cast<const StatementDecl &>(d).stmt, depth);
    return;
  }
}

void Dumper::statement(const Statement &s, unsigned depth) {
  line(depth) << "Statement " << s.verb;
  loc(s.range);
  if (s.subject)
    expr(s.subject.get(), depth + 1, "subject");
  for (const Clause &c : s.clauses)
    clause(c, depth + 1);
  args(s.namedArgs, depth + 1);
}

void Dumper::clause(const Clause &c, unsigned depth) {
  line(depth) << "Clause " << c.keyword;
  loc(c.range);
  if (c.value)
    expr(c.value.get(), depth + 1);
}

void Dumper::modelItem(const ModelItem &item, unsigned depth) {
  switch (item.kind) {
  case ModelItemKind::Input:
    line(depth) << "Input " << item.name;
    if (item.value)
      os << ' ' << inlineText(item.value.get());
    loc(item.range);
    return;
  case ModelItemKind::Value:
  case ModelItemKind::Block:
  case ModelItemKind::Exit:
    line(depth) << (item.kind == ModelItemKind::Value ? "Value " : item.kind == ModelItemKind::Block ? "Block " : "Exit ")
                << item.name;
    loc(item.range);
    expr(item.value.get(), depth + 1);
    return;
  case ModelItemKind::Output:
    line(depth) << "Output";
    loc(item.range);
    expr(item.value.get(), depth + 1);
    return;
  case ModelItemKind::If:
    line(depth) << "If";
    loc(item.range);
    expr(item.value.get(), depth + 1, "cond");
    line(depth + 1) << "Then\n";
    for (const ModelItem &inner : item.thenItems)
      modelItem(inner, depth + 2);
    if (!item.elseItems.empty()) {
      line(depth + 1) << "Else\n";
      for (const ModelItem &inner : item.elseItems)
        modelItem(inner, depth + 2);
    }
    return;
  }
}

void Dumper::args(const std::vector<Arg> &args, unsigned depth) {
  for (const Arg &a : args)
    expr(a.value.get(), depth, a.name);
}

void Dumper::expr(const Expr *e, unsigned depth, const std::string &role) {
  if (!e)
    return;
  std::ostream &out = line(depth, role);
  switch (e->kind) {
  case ExprKind::Int:
  case ExprKind::Float:
  case ExprKind::String:
  case ExprKind::Bool:
  case ExprKind::Name: {
    static const char *const labels[] = {"Int", "Float", "String", "Bool"};
    out << (e->kind == ExprKind::Name ? "Name" : labels[static_cast<int>(e->kind)]) << ' ' << inlineText(e);
    loc(e->range);
    return;
  }
  case ExprKind::List:
    out << "List";
    loc(e->range);
    for (const ExprPtr &element : static_cast<const ListExpr *>(e)->elements)
      expr(element.get(), depth + 1);
    return;
  case ExprKind::Member: {
    const auto *m = static_cast<const MemberExpr *>(e);
    out << "Member ." << m->member;
    loc(e->range);
    expr(m->base.get(), depth + 1);
    return;
  }
  case ExprKind::Call: {
    const auto *c = static_cast<const CallExpr *>(e);
    out << "Call";
    if (!c->calleeName().empty())
      out << ' ' << c->calleeName();
    loc(e->range);
    if (c->calleeName().empty())
      expr(c->callee.get(), depth + 1, "callee");
    args(c->args, depth + 1);
    return;
  }
  case ExprKind::Index: {
    const auto *x = static_cast<const IndexExpr *>(e);
    out << "Index";
    loc(e->range);
    expr(x->base.get(), depth + 1, "base");
    for (const ExprPtr &index : x->indices)
      expr(index.get(), depth + 1);
    return;
  }
  case ExprKind::Slice: {
    const auto *s = static_cast<const SliceExpr *>(e);
    out << "Slice";
    loc(e->range);
    expr(s->lo.get(), depth + 1, "lo");
    expr(s->hi.get(), depth + 1, "hi");
    return;
  }
  case ExprKind::Unary: {
    const auto *u = static_cast<const UnaryExpr *>(e);
    out << "Unary " << (u->op == UnaryOp::Neg ? "-" : "not");
    loc(e->range);
    expr(u->operand.get(), depth + 1);
    return;
  }
  case ExprKind::Binary: {
    const auto *b = static_cast<const BinaryExpr *>(e);
    out << "Binary " << spelling(b->op);
    loc(e->range);
    expr(b->lhs.get(), depth + 1);
    expr(b->rhs.get(), depth + 1);
    return;
  }
  case ExprKind::Chain: {
    const auto *c = static_cast<const ChainExpr *>(e);
    out << "Chain";
    loc(e->range);
    expr(c->input.get(), depth + 1);
    expr(c->layer.get(), depth + 1);
    return;
  }
  case ExprKind::If: {
    const auto *i = static_cast<const IfExpr *>(e);
    out << "If";
    loc(e->range);
    expr(i->cond.get(), depth + 1, "cond");
    expr(i->thenExpr.get(), depth + 1, "then");
    expr(i->elseExpr.get(), depth + 1, "else");
    return;
  }
  case ExprKind::Repeat: {
    const auto *r = static_cast<const RepeatExpr *>(e);
    out << "Repeat";
    if (!r->var.empty())
      out << ' ' << r->var;
    loc(e->range);
    expr(r->over.get(), depth + 1, r->var.empty() ? "count" : "in");
    expr(r->body.get(), depth + 1, "body");
    return;
  }
  case ExprKind::Comprehension: {
    const auto *c = static_cast<const ComprehensionExpr *>(e);
    out << "Comprehension " << c->var;
    loc(e->range);
    expr(c->collection.get(), depth + 1, "in");
    expr(c->body.get(), depth + 1, "body");
    return;
  }
  }
}

} // namespace

void dump(const Module &m, const SourceManager &sm, std::ostream &os) { Dumper(sm, os).module(m); }

} // namespace kd::ast

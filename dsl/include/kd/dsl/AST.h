//===- AST.h - The owned syntax tree of a .kd file --------------*- C++ -*-===//
//
// The parser (dsl/lib/Parse) builds this tree from an ANTLR parse tree that
// had no syntax errors; nothing of ANTLR is visible here. Every node carries
// the source range it came from. Nodes are owned by their parent through
// unique_ptr; a Program owns the modules of the root file and its imports.
//
// Kinds are explicit (LLVM-style `classof`), so code that walks the tree uses
// `isa<>` / `dyn_cast<>` below rather than RTTI.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_AST_H
#define KD_DSL_AST_H

#include "kd/dsl/SourceLocation.h"

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kd::ast {

template <typename T, typename B> bool isa(const B *b) { return b && T::classof(b); }
template <typename T, typename B> T *dyn_cast(B *b) { return isa<T>(b) ? static_cast<T *>(b) : nullptr; }
template <typename T, typename B> const T *dyn_cast(const B *b) {
  return isa<T>(b) ? static_cast<const T *>(b) : nullptr;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

enum class ExprKind {
  Int, Float, String, Bool, List, Name, Member, Call, Index, Slice,
  Unary, Binary, Chain, If, Repeat, Comprehension
};

struct Expr {
  explicit Expr(ExprKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Expr() = default;
  const ExprKind kind;
  SourceRange range;
};
using ExprPtr = std::unique_ptr<Expr>;

#define KD_EXPR_CLASSOF(K) \
  static bool classof(const Expr *e) { return e->kind == ExprKind::K; }

struct IntLit : Expr {
  IntLit(SourceRange r, int64_t v) : Expr(ExprKind::Int, r), value(v) {}
  KD_EXPR_CLASSOF(Int)
  int64_t value;
};

struct FloatLit : Expr {
  FloatLit(SourceRange r, double v) : Expr(ExprKind::Float, r), value(v) {}
  KD_EXPR_CLASSOF(Float)
  double value;
};

struct StringLit : Expr {
  StringLit(SourceRange r, std::string v) : Expr(ExprKind::String, r), value(std::move(v)) {}
  KD_EXPR_CLASSOF(String)
  std::string value; // escapes already decoded
};

struct BoolLit : Expr {
  BoolLit(SourceRange r, bool v) : Expr(ExprKind::Bool, r), value(v) {}
  KD_EXPR_CLASSOF(Bool)
  bool value;
};

struct ListExpr : Expr {
  explicit ListExpr(SourceRange r) : Expr(ExprKind::List, r) {}
  KD_EXPR_CLASSOF(List)
  std::vector<ExprPtr> elements;
};

struct NameExpr : Expr {
  NameExpr(SourceRange r, std::string n) : Expr(ExprKind::Name, r), name(std::move(n)) {}
  KD_EXPR_CLASSOF(Name)
  std::string name;
};

// base.member, e.g. `S.logits`, `fmnist.train`, `S.exits`.
struct MemberExpr : Expr {
  MemberExpr(SourceRange r, ExprPtr b, std::string m, SourceRange mr)
      : Expr(ExprKind::Member, r), base(std::move(b)), member(std::move(m)), memberRange(mr) {}
  KD_EXPR_CLASSOF(Member)
  ExprPtr base;
  std::string member;
  SourceRange memberRange;
};

// One argument of a call: positional (name empty), named (`k: 3`) or a
// comprehension (`e in S.exits: kl(e, ...)`, value is a ComprehensionExpr).
struct Arg {
  std::string name;
  SourceRange nameRange;
  ExprPtr value;
};

struct CallExpr : Expr {
  CallExpr(SourceRange r, ExprPtr c) : Expr(ExprKind::Call, r), callee(std::move(c)) {}
  KD_EXPR_CLASSOF(Call)
  ExprPtr callee;
  std::vector<Arg> args;
  // The callee's name when it is a plain name (`conv(...)`), else "".
  std::string_view calleeName() const;
};

// `lo..hi` inside brackets; either bound may be absent.
struct SliceExpr : Expr {
  explicit SliceExpr(SourceRange r) : Expr(ExprKind::Slice, r) {}
  KD_EXPR_CLASSOF(Slice)
  ExprPtr lo, hi;
};

// base[i, j, ...]; an index may be a SliceExpr. `gray[28, 28]`, `train[54000..]`.
struct IndexExpr : Expr {
  IndexExpr(SourceRange r, ExprPtr b) : Expr(ExprKind::Index, r), base(std::move(b)) {}
  KD_EXPR_CLASSOF(Index)
  ExprPtr base;
  std::vector<ExprPtr> indices;
};

enum class UnaryOp { Neg, Not };
struct UnaryExpr : Expr {
  UnaryExpr(SourceRange r, UnaryOp o, ExprPtr e) : Expr(ExprKind::Unary, r), op(o), operand(std::move(e)) {}
  KD_EXPR_CLASSOF(Unary)
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp { Add, Sub, Mul, Div, Mod, Lt, Le, Gt, Ge, Eq, Ne, And, Or };
const char *spelling(BinaryOp op);

struct BinaryExpr : Expr {
  BinaryExpr(SourceRange r, BinaryOp o, ExprPtr l, ExprPtr rr, SourceRange opr)
      : Expr(ExprKind::Binary, r), op(o), lhs(std::move(l)), rhs(std::move(rr)), opRange(opr) {}
  KD_EXPR_CLASSOF(Binary)
  BinaryOp op;
  ExprPtr lhs, rhs;
  SourceRange opRange;
};

// `input -> layer`: the value (or pipeline) on the left flows through the
// layer, model or pipeline on the right. Left-associative.
struct ChainExpr : Expr {
  ChainExpr(SourceRange r, ExprPtr i, ExprPtr l, SourceRange arrow)
      : Expr(ExprKind::Chain, r), input(std::move(i)), layer(std::move(l)), arrowRange(arrow) {}
  KD_EXPR_CLASSOF(Chain)
  ExprPtr input, layer;
  SourceRange arrowRange;
};

// `if c then a else b`, evaluated at compile time.
struct IfExpr : Expr {
  explicit IfExpr(SourceRange r) : Expr(ExprKind::If, r) {}
  KD_EXPR_CLASSOF(If)
  ExprPtr cond, thenExpr, elseExpr;
};

// `repeat w in widths: body` (var set) or `repeat 3: body` (var empty);
// unrolled at compile time into a chain of `body` instances.
struct RepeatExpr : Expr {
  explicit RepeatExpr(SourceRange r) : Expr(ExprKind::Repeat, r) {}
  KD_EXPR_CLASSOF(Repeat)
  std::string var;
  SourceRange varRange;
  ExprPtr over; // a count or a list
  ExprPtr body;
};

// `e in collection: body`, the sole argument of sum(...) / mean(...).
struct ComprehensionExpr : Expr {
  explicit ComprehensionExpr(SourceRange r) : Expr(ExprKind::Comprehension, r) {}
  KD_EXPR_CLASSOF(Comprehension)
  std::string var;
  SourceRange varRange;
  ExprPtr collection;
  ExprPtr body;
};

#undef KD_EXPR_CLASSOF

//===----------------------------------------------------------------------===//
// Statements: verb [subject] {keyword [value]} [name: value, ...]
//===----------------------------------------------------------------------===//

struct Clause {
  std::string keyword; // "on", "epochs", "batch", "unlabeled", ...
  SourceRange range;   // the keyword
  ExprPtr value;       // null for flag clauses such as `unlabeled`
};

struct Statement {
  std::string verb; // "train", "loss", "optimizer", "evaluate", ...
  SourceRange range;
  SourceRange verbRange;
  ExprPtr subject; // may be null (`train on d.train ...`)
  std::vector<Clause> clauses;
  std::vector<Arg> namedArgs;

  // The first clause with this keyword, or null.
  const Clause *clause(std::string_view keyword) const;
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

enum class DeclKind { Import, Let, Data, Model, Teacher, Student, Stage, Statement };

struct Decl {
  Decl(DeclKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Decl() = default;
  const DeclKind kind;
  SourceRange range;
  std::string name; // empty for imports and top-level statements
  SourceRange nameRange;
};
using DeclPtr = std::unique_ptr<Decl>;

#define KD_DECL_CLASSOF(K) \
  static bool classof(const Decl *d) { return d->kind == DeclKind::K; }

struct ImportDecl : Decl {
  explicit ImportDecl(SourceRange r) : Decl(DeclKind::Import, r) {}
  KD_DECL_CLASSOF(Import)
  std::string path;
  SourceRange pathRange;
};

struct LetDecl : Decl {
  explicit LetDecl(SourceRange r) : Decl(DeclKind::Let, r) {}
  KD_DECL_CLASSOF(Let)
  ExprPtr value;
};

// `split name = source {clause}` inside a data declaration.
struct SplitDecl {
  std::string name;
  SourceRange nameRange;
  SourceRange range;
  ExprPtr source;
  std::vector<Clause> clauses; // augment [...], unlabeled
};

struct DataDecl : Decl {
  explicit DataDecl(SourceRange r) : Decl(DeclKind::Data, r) {}
  KD_DECL_CLASSOF(Data)
  ExprPtr source;                     // idx("...") | folder("...") | npz("...")
  std::vector<Statement> statements;  // image, norm, labels
  std::vector<SplitDecl> splits;
};

struct Param {
  std::string name;
  SourceRange range;
  ExprPtr defaultValue; // null: required
};

enum class ModelItemKind { Input, Value, Block, Exit, Output, If };

struct ModelItem {
  ModelItemKind kind = ModelItemKind::Value;
  SourceRange range;
  std::string name; // empty for Output and If
  SourceRange nameRange;
  // Input: the optional declared shape (a ListExpr) or null.
  // Value / Block / Exit / Output: the defining expression.
  // If: the condition.
  ExprPtr value;
  std::vector<ModelItem> thenItems, elseItems; // If only
};

struct ModelDecl : Decl {
  explicit ModelDecl(SourceRange r) : Decl(DeclKind::Model, r) {}
  KD_DECL_CLASSOF(Model)
  std::vector<Param> params;
  std::vector<ModelItem> items;
};

// `teacher T = expr { ... }` and `student S = expr { ... }`.
struct ModelUseDecl : Decl {
  ModelUseDecl(DeclKind k, SourceRange r) : Decl(k, r) {}
  static bool classof(const Decl *d) {
    return d->kind == DeclKind::Teacher || d->kind == DeclKind::Student;
  }
  bool isTeacher() const { return kind == DeclKind::Teacher; }
  ExprPtr init; // ResNet(...), ensemble([...], ...)
  bool hasBody = false;
  std::vector<Statement> body;
};

struct StageDecl : Decl {
  explicit StageDecl(SourceRange r) : Decl(DeclKind::Stage, r) {}
  KD_DECL_CLASSOF(Stage)
  std::string stageKind; // "" when not written (inferred by Sema)
  SourceRange stageKindRange;
  std::vector<Statement> body;
};

// A statement at the top level: `evaluate ...`, `export ...`.
struct StatementDecl : Decl {
  explicit StatementDecl(SourceRange r) : Decl(DeclKind::Statement, r) {}
  KD_DECL_CLASSOF(Statement)
  Statement stmt;
};

#undef KD_DECL_CLASSOF

// One parsed file.
struct Module {
  uint32_t file = 0; // SourceManager id
  std::vector<DeclPtr> decls;
};

// Prints a readable, indented dump of a module (`kdc --emit=ast`). Locations
// print as line:col using `sm`.
void dump(const Module &m, const SourceManager &sm, std::ostream &os);

} // namespace kd::ast

#endif // KD_DSL_AST_H

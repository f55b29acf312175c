//===- Transform.cpp - ANTLR parse tree to owned AST ----------------------===//
//
// One transform function per grammar rule, named after it. ANTLR types stop
// here: what leaves this file is kd::ast only.
//
//===----------------------------------------------------------------------===//
#include "Transform.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace kd::parse {
namespace {

using kdgen::KDParser;
using namespace kd::ast;

// A literal that cannot be represented; the error is already reported and the
// whole transform is abandoned.
struct LiteralError {};

class Transformer {
public:
  Transformer(uint32_t file, std::string_view text, DiagnosticEngine &diags)
      : file(file), text(text), diags(diags) {}

  std::unique_ptr<Module> transformFile(KDParser::FileContext &ctx);

private:
  // Token indexes are byte offsets because the parser was fed one code point
  // per byte (see Parser.cpp).
  SourceRange rangeOf(antlr4::Token *tok) const {
    return {{file, static_cast<uint32_t>(tok->getStartIndex())},
            static_cast<uint32_t>(tok->getStopIndex() + 1)};
  }
  SourceRange rangeOf(antlr4::ParserRuleContext *ctx) const {
    return {{file, static_cast<uint32_t>(ctx->getStart()->getStartIndex())},
            static_cast<uint32_t>(ctx->getStop()->getStopIndex() + 1)};
  }
  SourceRange rangeOf(antlr4::tree::TerminalNode *node) const { return rangeOf(node->getSymbol()); }
  // The original bytes of a token, not ANTLR's re-encoded text.
  std::string_view textOf(antlr4::Token *tok) const {
    return text.substr(tok->getStartIndex(), tok->getStopIndex() + 1 - tok->getStartIndex());
  }
  std::string textOf(KDParser::NameContext *ctx) const { return std::string(textOf(ctx->getStart())); }

  DeclPtr transformTopDecl(KDParser::TopDeclContext *ctx);
  DeclPtr transformImportDecl(KDParser::ImportDeclContext *ctx);
  DeclPtr transformLetDecl(KDParser::LetDeclContext *ctx);
  DeclPtr transformDataDecl(KDParser::DataDeclContext *ctx);
  SplitDecl transformSplitItem(KDParser::SplitItemContext *ctx);
  DeclPtr transformModelDecl(KDParser::ModelDeclContext *ctx);
  Param transformParam(KDParser::ParamContext *ctx);
  ModelItem transformModelItem(KDParser::ModelItemContext *ctx);
  DeclPtr transformModelUse(DeclKind kind, antlr4::ParserRuleContext *ctx, KDParser::NameContext *name,
                            KDParser::ExprContext *init, KDParser::BodyContext *body);
  DeclPtr transformStageDecl(KDParser::StageDeclContext *ctx);
  std::vector<Statement> transformBody(KDParser::BodyContext *ctx);
  Statement transformStatement(KDParser::StatementContext *ctx);
  Clause transformClause(KDParser::ClauseContext *ctx);
  Arg transformNamedArg(KDParser::NameContext *name, KDParser::ExprContext *value);

  ExprPtr transformExpr(KDParser::ExprContext *ctx);
  ExprPtr transformPrimary(KDParser::PrimaryContext *ctx);
  ExprPtr transformListLit(KDParser::ListLitContext *ctx);
  Arg transformArg(KDParser::ArgContext *ctx);
  ExprPtr transformIndexItem(KDParser::IndexItemContext *ctx);
  ExprPtr transformInt(antlr4::Token *tok);
  ExprPtr transformFloat(antlr4::Token *tok);
  ExprPtr transformString(antlr4::Token *tok);

  uint32_t file;
  std::string_view text;
  DiagnosticEngine &diags;
};

std::unique_ptr<Module> Transformer::transformFile(KDParser::FileContext &ctx) {
  auto module = std::make_unique<Module>();
  module->file = file;
  bool failed = false;
  // A bad literal in one declaration should not hide those in the next.
  for (KDParser::TopDeclContext *decl : ctx.topDecl()) {
    try {
      module->decls.push_back(transformTopDecl(decl));
    } catch (const LiteralError &) {
      failed = true;
    }
  }
  if (failed)
    return nullptr;
  return module;
}

DeclPtr Transformer::transformTopDecl(KDParser::TopDeclContext *ctx) {
  if (auto *d = ctx->importDecl())
    return transformImportDecl(d);
  if (auto *d = ctx->letDecl())
    return transformLetDecl(d);
  if (auto *d = ctx->dataDecl())
    return transformDataDecl(d);
  if (auto *d = ctx->modelDecl())
    return transformModelDecl(d);
  if (auto *d = ctx->teacherDecl())
    return transformModelUse(DeclKind::Teacher, d, d->name(), d->expr(), d->body());
  if (auto *d = ctx->studentDecl())
    return transformModelUse(DeclKind::Student, d, d->name(), d->expr(), d->body());
  if (auto *d = ctx->stageDecl())
    return transformStageDecl(d);
  auto decl = std::make_unique<StatementDecl>(rangeOf(ctx));
  decl->stmt = transformStatement(ctx->statement());
  return decl;
}

DeclPtr Transformer::transformImportDecl(KDParser::ImportDeclContext *ctx) {
  auto decl = std::make_unique<ImportDecl>(rangeOf(ctx));
  antlr4::Token *path = ctx->STRING()->getSymbol();
  ExprPtr lit = transformString(path);
  decl->path = static_cast<StringLit &>(*lit).value;
  decl->pathRange = rangeOf(path);
  return decl;
}

DeclPtr Transformer::transformLetDecl(KDParser::LetDeclContext *ctx) {
  auto decl = std::make_unique<LetDecl>(rangeOf(ctx));
  decl->name = textOf(ctx->name());
  decl->nameRange = rangeOf(ctx->name());
  decl->value = transformExpr(ctx->expr());
  return decl;
}

DeclPtr Transformer::transformDataDecl(KDParser::DataDeclContext *ctx) {
  auto decl = std::make_unique<DataDecl>(rangeOf(ctx));
  decl->name = textOf(ctx->name());
  decl->nameRange = rangeOf(ctx->name());
  decl->source = transformExpr(ctx->expr());
  for (KDParser::DataItemContext *item : ctx->dataItem()) {
    if (auto *split = dynamic_cast<KDParser::SplitItemContext *>(item))
      decl->splits.push_back(transformSplitItem(split));
    else
      decl->statements.push_back(
          transformStatement(static_cast<KDParser::DataStatementContext *>(item)->statement()));
  }
  return decl;
}

SplitDecl Transformer::transformSplitItem(KDParser::SplitItemContext *ctx) {
  SplitDecl split;
  split.name = textOf(ctx->name());
  split.nameRange = rangeOf(ctx->name());
  split.range = rangeOf(ctx);
  split.source = transformExpr(ctx->expr());
  for (KDParser::ClauseContext *clause : ctx->clause())
    split.clauses.push_back(transformClause(clause));
  return split;
}

DeclPtr Transformer::transformModelDecl(KDParser::ModelDeclContext *ctx) {
  auto decl = std::make_unique<ModelDecl>(rangeOf(ctx));
  decl->name = textOf(ctx->name());
  decl->nameRange = rangeOf(ctx->name());
  for (KDParser::ParamContext *param : ctx->param())
    decl->params.push_back(transformParam(param));
  for (KDParser::ModelItemContext *item : ctx->modelItem())
    decl->items.push_back(transformModelItem(item));
  return decl;
}

Param Transformer::transformParam(KDParser::ParamContext *ctx) {
  Param param;
  param.name = textOf(ctx->name());
  param.range = rangeOf(ctx->name());
  if (ctx->expr())
    param.defaultValue = transformExpr(ctx->expr());
  return param;
}

ModelItem Transformer::transformModelItem(KDParser::ModelItemContext *ctx) {
  ModelItem item;
  item.range = rangeOf(ctx);
  auto setName = [&](KDParser::NameContext *name) {
    item.name = textOf(name);
    item.nameRange = rangeOf(name);
  };
  if (auto *input = dynamic_cast<KDParser::InputItemContext *>(ctx)) {
    item.kind = ModelItemKind::Input;
    setName(input->name());
    if (input->shape)
      item.value = transformListLit(input->shape);
  } else if (auto *value = dynamic_cast<KDParser::ValueItemContext *>(ctx)) {
    item.kind = ModelItemKind::Value;
    setName(value->name());
    item.value = transformExpr(value->expr());
  } else if (auto *block = dynamic_cast<KDParser::BlockItemContext *>(ctx)) {
    item.kind = ModelItemKind::Block;
    setName(block->name());
    item.value = transformExpr(block->expr());
  } else if (auto *exit = dynamic_cast<KDParser::ExitItemContext *>(ctx)) {
    item.kind = ModelItemKind::Exit;
    setName(exit->name());
    item.value = transformExpr(exit->expr());
  } else if (auto *output = dynamic_cast<KDParser::OutputItemContext *>(ctx)) {
    item.kind = ModelItemKind::Output;
    item.value = transformExpr(output->expr());
  } else {
    auto *cond = static_cast<KDParser::IfItemContext *>(ctx);
    item.kind = ModelItemKind::If;
    item.value = transformExpr(cond->expr());
    for (KDParser::ModelItemContext *inner : cond->thenItems)
      item.thenItems.push_back(transformModelItem(inner));
    for (KDParser::ModelItemContext *inner : cond->elseItems)
      item.elseItems.push_back(transformModelItem(inner));
  }
  return item;
}

DeclPtr Transformer::transformModelUse(DeclKind kind, antlr4::ParserRuleContext *ctx,
                                       KDParser::NameContext *name, KDParser::ExprContext *init,
                                       KDParser::BodyContext *body) {
  auto decl = std::make_unique<ModelUseDecl>(kind, rangeOf(ctx));
  decl->name = textOf(name);
  decl->nameRange = rangeOf(name);
  decl->init = transformExpr(init);
  if (body) {
    decl->hasBody = true;
    decl->body = transformBody(body);
  }
  return decl;
}

DeclPtr Transformer::transformStageDecl(KDParser::StageDeclContext *ctx) {
  auto decl = std::make_unique<StageDecl>(rangeOf(ctx));
  KDParser::NameContext *name = ctx->name(0);
  decl->name = textOf(name);
  decl->nameRange = rangeOf(name);
  if (ctx->kind) {
    decl->stageKind = textOf(ctx->kind);
    decl->stageKindRange = rangeOf(ctx->kind);
  }
  decl->body = transformBody(ctx->body());
  return decl;
}

std::vector<Statement> Transformer::transformBody(KDParser::BodyContext *ctx) {
  std::vector<Statement> statements;
  for (KDParser::StatementContext *stmt : ctx->statement())
    statements.push_back(transformStatement(stmt));
  return statements;
}

Statement Transformer::transformStatement(KDParser::StatementContext *ctx) {
  Statement stmt;
  stmt.range = rangeOf(ctx);
  stmt.verb = std::string(textOf(ctx->verb()->getStart()));
  stmt.verbRange = rangeOf(ctx->verb());
  if (ctx->expr())
    stmt.subject = transformExpr(ctx->expr());
  for (KDParser::ClauseContext *clause : ctx->clause())
    stmt.clauses.push_back(transformClause(clause));
  if (KDParser::NamedArgsContext *named = ctx->namedArgs())
    for (KDParser::NamedArgContext *arg : named->namedArg())
      stmt.namedArgs.push_back(transformNamedArg(arg->name(), arg->expr()));
  return stmt;
}

Clause Transformer::transformClause(KDParser::ClauseContext *ctx) {
  Clause clause;
  clause.keyword = std::string(textOf(ctx->clauseKw()->getStart()));
  clause.range = rangeOf(ctx->clauseKw());
  if (ctx->expr())
    clause.value = transformExpr(ctx->expr());
  return clause;
}

Arg Transformer::transformNamedArg(KDParser::NameContext *name, KDParser::ExprContext *value) {
  Arg arg;
  arg.name = textOf(name);
  arg.nameRange = rangeOf(name);
  arg.value = transformExpr(value);
  return arg;
}

ExprPtr Transformer::transformExpr(KDParser::ExprContext *ctx) {
  SourceRange range = rangeOf(ctx);
  if (auto *primary = dynamic_cast<KDParser::PrimaryExprContext *>(ctx))
    return transformPrimary(primary->primary());

  if (auto *member = dynamic_cast<KDParser::MemberExprContext *>(ctx))
    return std::make_unique<MemberExpr>(range, transformExpr(member->expr()), textOf(member->name()),
                                        rangeOf(member->name()));

  if (auto *call = dynamic_cast<KDParser::CallExprContext *>(ctx)) {
    auto node = std::make_unique<CallExpr>(range, transformExpr(call->expr()));
    if (KDParser::ArgListContext *args = call->argList())
      for (KDParser::ArgContext *arg : args->arg())
        node->args.push_back(transformArg(arg));
    return node;
  }

  if (auto *index = dynamic_cast<KDParser::IndexExprContext *>(ctx)) {
    auto node = std::make_unique<IndexExpr>(range, transformExpr(index->expr()));
    for (KDParser::IndexItemContext *item : index->indexItem())
      node->indices.push_back(transformIndexItem(item));
    return node;
  }

  if (auto *unary = dynamic_cast<KDParser::UnaryExprContext *>(ctx)) {
    UnaryOp op = unary->op->getType() == KDParser::NOT ? UnaryOp::Not : UnaryOp::Neg;
    return std::make_unique<UnaryExpr>(range, op, transformExpr(unary->expr()));
  }

  if (auto *binary = dynamic_cast<KDParser::BinaryExprContext *>(ctx)) {
    static const std::pair<std::string_view, BinaryOp> ops[] = {
        {"+", BinaryOp::Add}, {"-", BinaryOp::Sub},  {"*", BinaryOp::Mul}, {"/", BinaryOp::Div},
        {"%", BinaryOp::Mod}, {"<", BinaryOp::Lt},   {"<=", BinaryOp::Le}, {">", BinaryOp::Gt},
        {">=", BinaryOp::Ge}, {"==", BinaryOp::Eq},  {"!=", BinaryOp::Ne}, {"and", BinaryOp::And},
        {"or", BinaryOp::Or}};
    std::string_view spelled = textOf(binary->op);
    BinaryOp op = BinaryOp::Add;
    for (const auto &[text, value] : ops)
      if (text == spelled)
        op = value;
    return std::make_unique<BinaryExpr>(range, op, transformExpr(binary->expr(0)),
                                        transformExpr(binary->expr(1)), rangeOf(binary->op));
  }

  if (auto *chain = dynamic_cast<KDParser::ChainExprContext *>(ctx)) {
    // children: expr '->' expr
    auto *arrow = dynamic_cast<antlr4::tree::TerminalNode *>(chain->children.at(1));
    return std::make_unique<ChainExpr>(range, transformExpr(chain->expr(0)), transformExpr(chain->expr(1)),
                                       arrow ? rangeOf(arrow) : range);
  }

  if (auto *cond = dynamic_cast<KDParser::IfExprContext *>(ctx)) {
    auto node = std::make_unique<IfExpr>(range);
    node->cond = transformExpr(cond->expr(0));
    node->thenExpr = transformExpr(cond->expr(1));
    node->elseExpr = transformExpr(cond->expr(2));
    return node;
  }

  auto *repeat = static_cast<KDParser::RepeatExprContext *>(ctx);
  auto node = std::make_unique<RepeatExpr>(range);
  if (KDParser::NameContext *var = repeat->name()) {
    node->var = textOf(var);
    node->varRange = rangeOf(var);
  }
  node->over = transformExpr(repeat->expr(0));
  node->body = transformExpr(repeat->expr(1));
  return node;
}

ExprPtr Transformer::transformPrimary(KDParser::PrimaryContext *ctx) {
  SourceRange range = rangeOf(ctx);
  if (auto *lit = dynamic_cast<KDParser::IntLitContext *>(ctx))
    return transformInt(lit->INT()->getSymbol());
  if (auto *lit = dynamic_cast<KDParser::FloatLitContext *>(ctx))
    return transformFloat(lit->FLOAT()->getSymbol());
  if (auto *lit = dynamic_cast<KDParser::StringLitContext *>(ctx))
    return transformString(lit->STRING()->getSymbol());
  if (auto *lit = dynamic_cast<KDParser::BoolLitContext *>(ctx))
    return std::make_unique<BoolLit>(range, lit->TRUE() != nullptr);
  if (auto *list = dynamic_cast<KDParser::ListPrimaryContext *>(ctx))
    return transformListLit(list->listLit());
  if (auto *paren = dynamic_cast<KDParser::ParenExprContext *>(ctx))
    return transformExpr(paren->expr());
  return std::make_unique<NameExpr>(range, std::string(textOf(ctx->getStart())));
}

ExprPtr Transformer::transformListLit(KDParser::ListLitContext *ctx) {
  auto list = std::make_unique<ListExpr>(rangeOf(ctx));
  for (KDParser::ExprContext *element : ctx->expr())
    list->elements.push_back(transformExpr(element));
  return list;
}

Arg Transformer::transformArg(KDParser::ArgContext *ctx) {
  if (auto *named = dynamic_cast<KDParser::NamedCallArgContext *>(ctx))
    return transformNamedArg(named->name(), named->expr());
  Arg arg;
  if (auto *comp = dynamic_cast<KDParser::ComprehensionArgContext *>(ctx)) {
    auto node = std::make_unique<ComprehensionExpr>(rangeOf(ctx));
    node->var = textOf(comp->name());
    node->varRange = rangeOf(comp->name());
    node->collection = transformExpr(comp->expr(0));
    node->body = transformExpr(comp->expr(1));
    arg.value = std::move(node);
    return arg;
  }
  arg.value = transformExpr(static_cast<KDParser::PositionalArgContext *>(ctx)->expr());
  return arg;
}

ExprPtr Transformer::transformIndexItem(KDParser::IndexItemContext *ctx) {
  if (auto *slice = dynamic_cast<KDParser::SliceIndexContext *>(ctx)) {
    auto node = std::make_unique<SliceExpr>(rangeOf(ctx));
    if (slice->lo)
      node->lo = transformExpr(slice->lo);
    if (slice->hi)
      node->hi = transformExpr(slice->hi);
    return node;
  }
  return transformExpr(static_cast<KDParser::PlainIndexContext *>(ctx)->expr());
}

ExprPtr Transformer::transformInt(antlr4::Token *tok) {
  std::string_view spelled = textOf(tok);
  uint64_t value = 0;
  const uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (char c : spelled) {
    if (c == '_')
      continue;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) {
      diags.error(rangeOf(tok), "integer literal '" + std::string(spelled) +
                                    "' is too large (the largest integer is " + std::to_string(max) + ")");
      throw LiteralError{};
    }
    value = value * 10 + digit;
  }
  return std::make_unique<IntLit>(rangeOf(tok), static_cast<int64_t>(value));
}

ExprPtr Transformer::transformFloat(antlr4::Token *tok) {
  std::string spelled(textOf(tok));
  errno = 0;
  double value = std::strtod(spelled.c_str(), nullptr);
  // Underflow to a denormal or zero is harmless; overflow to infinity is not.
  if (errno == ERANGE && std::isinf(value)) {
    diags.error(rangeOf(tok), "floating-point literal '" + spelled + "' is too large");
    throw LiteralError{};
  }
  return std::make_unique<FloatLit>(rangeOf(tok), value);
}

ExprPtr Transformer::transformString(antlr4::Token *tok) {
  std::string_view spelled = textOf(tok);
  // The lexer guarantees the surrounding quotes.
  std::string_view body = spelled.substr(1, spelled.size() - 2);
  std::string value;
  value.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      value += body[i];
      continue;
    }
    char escaped = body[++i]; // a backslash is always followed by a character
    switch (escaped) {
    case 'n': value += '\n'; break;
    case 't': value += '\t'; break;
    case 'r': value += '\r'; break;
    case '0': value += '\0'; break;
    case '\\': value += '\\'; break;
    case '"': value += '"'; break;
    case '\'': value += '\''; break;
    default: {
      uint32_t at = static_cast<uint32_t>(tok->getStartIndex() + 1 + i - 1);
      std::string shown = static_cast<unsigned char>(escaped) < 0x20 || static_cast<unsigned char>(escaped) >= 0x7f
                              ? std::string("a control or non-ASCII byte")
                              : "'\\" + std::string(1, escaped) + "'";
      diags.error({{file, at}, at + 2}, "unknown escape sequence " + shown +
                                            " in string (known: \\n \\t \\r \\0 \\\\ \\\" \\')");
      throw LiteralError{};
    }
    }
  }
  return std::make_unique<StringLit>(rangeOf(tok), std::move(value));
}

} // namespace

std::unique_ptr<ast::Module> transformFile(kdgen::KDParser::FileContext &tree, uint32_t file,
                                           std::string_view text, DiagnosticEngine &diags) {
  return Transformer(file, text, diags).transformFile(tree);
}

} // namespace kd::parse

//===- SyntaxErrors.cpp - Friendly diagnostics for syntax errors ----------===//
#include "SyntaxErrors.h"

#include "KDParser.h"

#include <string>
#include <vector>

namespace kd::parse {

using kdgen::KDParser;

namespace {

bool has(const antlr4::misc::IntervalSet &set, size_t type) { return set.contains(type); }

bool isKeyword(size_t type) { return type >= KDParser::IMPORT && type <= KDParser::EVERY; }

// Punctuation has no named token type in the generated parser (T__3 etc.
// shift when the grammar changes), so look it up by its spelling.
size_t punctuation(const antlr4::dfa::Vocabulary &vocab, std::string_view spelled) {
  std::string quoted = "'" + std::string(spelled) + "'";
  for (size_t t = 1; t <= vocab.getMaxTokenType(); ++t)
    if (vocab.getLiteralName(t) == quoted)
      return t;
  return 0;
}

// What the innermost open bracket of `ctx` is, worded for a closing message,
// and the token that opened it, for a "to match this" note.
struct OpenConstruct {
  size_t closer = 0; // token type of the closing bracket, 0 if none
  const char *what = "";
  antlr4::Token *opener = nullptr;
};

// The last `spelled` token among the children parsed so far of `ctx`: the
// bracket still open (an `if` item's `else {` comes after its first `{`).
antlr4::Token *lastChildToken(antlr4::ParserRuleContext *ctx, std::string_view spelled) {
  if (!ctx)
    return nullptr;
  for (auto it = ctx->children.rbegin(); it != ctx->children.rend(); ++it)
    if (auto *terminal = dynamic_cast<antlr4::tree::TerminalNode *>(*it))
      if (terminal->getSymbol() && terminal->getSymbol()->getText() == spelled)
        return terminal->getSymbol();
  return nullptr;
}

OpenConstruct innermostOpen(antlr4::RuleContext *ctx, const antlr4::dfa::Vocabulary &vocab) {
  const size_t bracket = punctuation(vocab, "]"), paren = punctuation(vocab, ")"),
               brace = punctuation(vocab, "}");
  for (; ctx; ctx = dynamic_cast<antlr4::RuleContext *>(ctx->parent)) {
    auto *rule = dynamic_cast<antlr4::ParserRuleContext *>(ctx);
    if (dynamic_cast<KDParser::ListLitContext *>(ctx))
      return {bracket, "the list", lastChildToken(rule, "[")};
    if (dynamic_cast<KDParser::IndexExprContext *>(ctx))
      return {bracket, "the index", lastChildToken(rule, "[")};
    if (dynamic_cast<KDParser::CallExprContext *>(ctx))
      return {paren, "the argument list", lastChildToken(rule, "(")};
    if (dynamic_cast<KDParser::ArgListContext *>(ctx))
      return {paren, "the argument list",
              lastChildToken(dynamic_cast<antlr4::ParserRuleContext *>(ctx->parent), "(")};
    if (dynamic_cast<KDParser::ParenExprContext *>(ctx))
      return {paren, "the parenthesis", lastChildToken(rule, "(")};
    if (dynamic_cast<KDParser::ModelDeclContext *>(ctx) || dynamic_cast<KDParser::BodyContext *>(ctx) ||
        dynamic_cast<KDParser::DataDeclContext *>(ctx) || dynamic_cast<KDParser::IfItemContext *>(ctx))
      return {brace, "the block", lastChildToken(rule, "{")};
  }
  return {};
}

// Names one expected token for a person: "'='", "a name", "a string".
std::string describeExpected(const antlr4::dfa::Vocabulary &vocab, size_t type) {
  switch (type) {
  case antlr4::Token::EOF: return "end of file";
  case KDParser::ID: return "a name";
  case KDParser::INT: return "an integer";
  case KDParser::FLOAT: return "a number";
  case KDParser::STRING: return "a string";
  default: break;
  }
  std::string literal = vocab.getLiteralName(type);
  return literal.empty() ? vocab.getDisplayName(type) : literal;
}

// "an expression", "a declaration ...": the construct a set of expected
// tokens stands for, or "" when the set is not one of those.
std::string describeExpectedConstruct(const antlr4::misc::IntervalSet &expected,
                                      const antlr4::dfa::Vocabulary &vocab) {
  // Where a name is declared every keyword is expected too, so the sets
  // below are told apart by what a name cannot be: '}' ends a body, and
  // 'input' is a name everywhere except at the top level and in data.
  bool endsBody = has(expected, punctuation(vocab, "}"));
  if (has(expected, KDParser::INT) && has(expected, KDParser::ID))
    return "an expression";
  if (has(expected, KDParser::INPUT) && has(expected, KDParser::OUTPUT) && endsBody)
    return "a model item ('input', 'name = ...', 'block', 'exit', 'output', 'if') or '}'";
  if (has(expected, KDParser::SPLIT) && !has(expected, KDParser::INPUT))
    return "'split', a data statement such as 'image' or 'norm', or '}'";
  if (has(expected, KDParser::DATA) && has(expected, KDParser::MODEL) && !has(expected, KDParser::INPUT))
    return "a declaration (import, let, data, model, teacher, student, stage) or a statement such as 'evaluate'";
  if (has(expected, KDParser::TRAIN) && has(expected, KDParser::LOSS) && endsBody && !has(expected, KDParser::INPUT))
    return "a statement such as 'train' or 'loss'";
  if (has(expected, KDParser::ID) && has(expected, KDParser::IMPORT))
    return "a name";
  return "";
}

// "'=' or ':'": up to three expected tokens by name, or "" if there are more.
std::string describeExpectedTokens(const antlr4::misc::IntervalSet &expected, const antlr4::dfa::Vocabulary &vocab) {
  std::vector<size_t> types;
  for (const antlr4::misc::Interval &interval : expected.getIntervals())
    for (ssize_t t = interval.a; t <= interval.b && types.size() <= 4; ++t)
      types.push_back(static_cast<size_t>(t));
  if (types.empty() || types.size() > 3)
    return "";
  std::string out;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i)
      out += i + 1 == types.size() ? " or " : ", ";
    out += describeExpected(vocab, types[i]);
  }
  return out;
}

// Keywords that begin a declaration or a statement: met where an operand
// was expected, they mean the operand is missing, not misnamed.
bool startsDeclarationOrStatement(size_t type) {
  switch (type) {
  case KDParser::IMPORT: case KDParser::LET: case KDParser::DATA: case KDParser::MODEL:
  case KDParser::TEACHER: case KDParser::STUDENT: case KDParser::STAGE: case KDParser::TRAIN:
  case KDParser::GRAFT: case KDParser::OPTIMIZER: case KDParser::SCHEDULE: case KDParser::LOSS:
  case KDParser::GROUP: case KDParser::FREEZE: case KDParser::TRANSFORM: case KDParser::LOAD:
  case KDParser::IMAGE: case KDParser::NORM: case KDParser::LABELS: case KDParser::EVALUATE:
  case KDParser::EXPORT: case KDParser::SPLIT: case KDParser::INPUT: case KDParser::BLOCK:
  case KDParser::EXIT: case KDParser::OUTPUT:
    return true;
  default:
    return false;
  }
}

// Length of the UTF-8 sequence that starts with `lead`, or 1 if it is not a
// valid lead byte (then the byte is reported on its own).
size_t utf8Length(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF)
    return 2;
  if (lead >= 0xE0 && lead <= 0xEF)
    return 3;
  if (lead >= 0xF0 && lead <= 0xF4)
    return 4;
  return 1;
}

std::string hexByte(unsigned char c) {
  static const char digits[] = "0123456789ABCDEF";
  return std::string("0x") + digits[c >> 4] + digits[c & 15];
}

} // namespace

SourceRange SyntaxErrorReporter::rangeOf(antlr4::Token *tok) const {
  size_t start = tok->getStartIndex();
  size_t stop = tok->getStopIndex();
  if (tok->getType() == antlr4::Token::EOF || start > text.size()) {
    // Point just past the last byte so the caret lands at the end of the file.
    uint32_t at = static_cast<uint32_t>(text.size());
    return {{file, at}, at};
  }
  return {{file, static_cast<uint32_t>(start)}, static_cast<uint32_t>(std::max(stop + 1, start + 1))};
}

std::string SyntaxErrorReporter::describeToken(antlr4::Token *tok) const {
  if (tok->getType() == antlr4::Token::EOF)
    return "end of file";
  SourceRange r = rangeOf(tok);
  std::string_view spelled = text.substr(r.begin.offset, r.end - r.begin.offset);
  std::string shown;
  for (char c : spelled.substr(0, 32)) {
    unsigned char byte = static_cast<unsigned char>(c);
    shown += byte < 0x20 || byte == 0x7f ? '?' : c;
  }
  if (spelled.size() > 32)
    shown += "...";
  return "'" + shown + "'";
}

void SyntaxErrorReporter::emit(SourceRange range, std::string message, antlr4::Token *opener) {
  diags.error(range, std::move(message));
  if (opener)
    diags.note(rangeOf(opener), "to match this '" + opener->getText() + "'");
  if (++errors >= kMaxSyntaxErrors)
    throw TooManySyntaxErrors{};
}

void SyntaxErrorReporter::reportAt(antlr4::Parser *parser, antlr4::Token *offending,
                                   const antlr4::misc::IntervalSet &expected, bool extraneous) {
  const antlr4::dfa::Vocabulary &vocab = parser->getVocabulary();
  size_t type = offending->getType();
  SourceRange range = rangeOf(offending);
  if (type == antlr4::Token::EOF) {
    // Point just after the last token: that is where something is missing,
    // not past the comments and blank lines that may follow it.
    antlr4::Token *last = parser->getTokenStream()->LT(-1);
    if (last && last->getType() != antlr4::Token::EOF) {
      uint32_t at = static_cast<uint32_t>(last->getStopIndex() + 1);
      range = {{file, at}, at};
    }
  }

  if (isKeyword(type) && has(expected, KDParser::ID) && !has(expected, type) &&
      !startsDeclarationOrStatement(type)) {
    // Recovery should step over the keyword rather than read it as the
    // start of the next item.
    keywordToSkip = offending;
    emit(range, describeToken(offending) + " is a keyword and cannot be used as a name here");
    return;
  }

  std::string found = describeToken(offending);
  // A named construct ("a statement such as ...") says most; failing that,
  // the bracket to close; failing that, the few tokens that would do.
  std::string wanted = type == antlr4::Token::EOF ? "" : describeExpectedConstruct(expected, vocab);
  antlr4::Token *opener = nullptr; // the unclosed bracket, as clang points at it
  if (wanted.empty() && !(has(expected, KDParser::INT) && has(expected, KDParser::ID))) {
    OpenConstruct open = innermostOpen(parser->getContext(), vocab);
    if (open.closer && has(expected, open.closer)) {
      wanted = describeExpected(vocab, open.closer) + " to close " + open.what;
      opener = open.opener;
    }
  }
  if (wanted.empty())
    wanted = describeExpectedConstruct(expected, vocab);
  if (wanted.empty())
    wanted = describeExpectedTokens(expected, vocab);

  // An extraneous token is one ANTLR will skip; at the end of the file there
  // is nothing to skip, something is missing.
  if (extraneous && type != antlr4::Token::EOF)
    emit(range, "unexpected " + found + (wanted.empty() ? "" : "; expected " + wanted), opener);
  else if (wanted.empty())
    emit(range, "unexpected " + found);
  else
    emit(range, "expected " + wanted + ", found " + found, opener);
}

void SyntaxErrorReporter::reportAfter(antlr4::Token *offending, antlr4::Token *previous) {
  emit(rangeOf(offending), "unexpected " + describeToken(offending) + " after " + describeToken(previous));
}

void SyntaxErrorReporter::reportLexerError(size_t offset) {
  uint32_t at = static_cast<uint32_t>(std::min(offset, text.size()));
  unsigned char c = at < text.size() ? static_cast<unsigned char>(text[at]) : 0;
  std::string what = c >= 0x20 && c < 0x7f ? "'" + std::string(1, static_cast<char>(c)) + "'" : hexByte(c);
  emit({{file, at}, at + 1}, "unexpected character " + what);
}

void SyntaxErrorStrategy::reportNoViableAlternative(antlr4::Parser *parser, const antlr4::NoViableAltException &e) {
  antlr4::Token *start = e.getStartToken();
  antlr4::Token *offending = e.getOffendingToken();
  if (start && offending && start != offending && offending->getType() != antlr4::Token::EOF) {
    // The expected set belongs to where the decision began, not to where it
    // failed, so it would name the wrong things; say what came before.
    reporter.reportAfter(offending, start);
    return;
  }
  reporter.reportAt(parser, offending, e.getExpectedTokens(), false);
}

void SyntaxErrorStrategy::reportInputMismatch(antlr4::Parser *parser, const antlr4::InputMismatchException &e) {
  reporter.reportAt(parser, e.getOffendingToken(), e.getExpectedTokens(), false);
}

void SyntaxErrorStrategy::reportFailedPredicate(antlr4::Parser *parser, const antlr4::FailedPredicateException &e) {
  // The grammar has no semantic predicates of its own; precedence predicates
  // of left-recursive rules fail only where another token was expected.
  reporter.reportAt(parser, e.getOffendingToken(), parser->getExpectedTokens(), false);
}

void SyntaxErrorStrategy::recover(antlr4::Parser *parser, std::exception_ptr e) {
  if (antlr4::Token *keyword = reporter.takeKeywordToSkip(); keyword && parser->getCurrentToken() == keyword)
    parser->consume();
  DefaultErrorStrategy::recover(parser, e);
}

antlr4::Token *SyntaxErrorStrategy::singleTokenDeletion(antlr4::Parser *parser) {
  // `let b = 1 +` followed by `let c = 2`: deleting `let` would glue the two
  // lines together; better report the missing operand and resume at `let`.
  if (startsDeclarationOrStatement(parser->getCurrentToken()->getType()))
    return nullptr;
  return DefaultErrorStrategy::singleTokenDeletion(parser);
}

void SyntaxErrorStrategy::reportUnwantedToken(antlr4::Parser *parser) {
  if (inErrorRecoveryMode(parser))
    return;
  beginErrorCondition(parser);
  reporter.reportAt(parser, parser->getCurrentToken(), getExpectedTokens(parser), true);
}

void SyntaxErrorStrategy::reportMissingToken(antlr4::Parser *parser) {
  if (inErrorRecoveryMode(parser))
    return;
  beginErrorCondition(parser);
  reporter.reportAt(parser, parser->getCurrentToken(), getExpectedTokens(parser), false);
}

void LexerErrorListener::syntaxError(antlr4::Recognizer *recognizer, antlr4::Token *, size_t, size_t,
                                     const std::string &, std::exception_ptr) {
  auto *lexer = dynamic_cast<antlr4::Lexer *>(recognizer);
  reporter.reportLexerError(lexer ? lexer->tokenStartCharIndex : 0);
}

std::string describeStrayBytes(std::string_view bytes) {
  unsigned char c = static_cast<unsigned char>(bytes[0]);
  if (c >= 0x80)
    return utf8Length(c) > 1 && bytes.size() >= utf8Length(c)
               ? "unexpected non-ASCII character '" + std::string(bytes.substr(0, utf8Length(c))) + "'"
               : "unexpected byte " + hexByte(c) + " (not valid UTF-8 text)";
  if (c < 0x20 || c == 0x7f)
    return "unexpected control character " + hexByte(c);
  return "unexpected character '" + std::string(1, static_cast<char>(c)) + "'";
}

} // namespace kd::parse

//===- SyntaxErrors.h - Friendly diagnostics for syntax errors --*- C++ -*-===//
//
// ANTLR's own messages ("mismatched input 'x' expecting {'(', ID, INT, ...}")
// name every token the parser could accept. SyntaxErrorStrategy keeps ANTLR's
// recovery but words each error for a person: it names the construct that was
// expected ("an expression", "']' to close the list"), recognises keywords
// used as names and stray characters, and reports at the offending token.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_PARSE_SYNTAXERRORS_H
#define KD_DSL_PARSE_SYNTAXERRORS_H

#include "kd/dsl/Diagnostics.h"

#include "antlr4-runtime.h"

#include <string_view>
#include <utility>

namespace kd::parse {

// Thrown (and caught by parseModule) once a file has produced this many
// syntax errors: further ones are mostly echoes of the first.
constexpr unsigned kMaxSyntaxErrors = 20;
struct TooManySyntaxErrors {};

// Formats and reports syntax errors of one file.
class SyntaxErrorReporter {
public:
  SyntaxErrorReporter(uint32_t file, std::string_view text, DiagnosticEngine &diags)
      : file(file), text(text), diags(diags) {}

  // `expected` is empty when unknown.
  void reportAt(antlr4::Parser *parser, antlr4::Token *offending, const antlr4::misc::IntervalSet &expected,
                bool extraneous);
  // For an error found some tokens after the construct began.
  void reportAfter(antlr4::Token *offending, antlr4::Token *previous);
  void reportLexerError(size_t offset);
  unsigned count() const { return errors; }
  // The keyword just reported as misused as a name, once.
  antlr4::Token *takeKeywordToSkip() { return std::exchange(keywordToSkip, nullptr); }

private:
  // Reports an error, with a note at `opener` when it is the bracket the
  // error expected to be closed.
  void emit(SourceRange range, std::string message, antlr4::Token *opener = nullptr);
  std::string describeToken(antlr4::Token *tok) const;
  SourceRange rangeOf(antlr4::Token *tok) const;

  uint32_t file;
  std::string_view text;
  DiagnosticEngine &diags;
  unsigned errors = 0;
  antlr4::Token *keywordToSkip = nullptr;
};

// The message for a run of bytes the lexer could not make a token of:
// "unexpected character '@'", a non-ASCII character, a control byte.
std::string describeStrayBytes(std::string_view bytes);

// The error strategy of the second (LL) parsing stage.
class SyntaxErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  explicit SyntaxErrorStrategy(SyntaxErrorReporter &reporter) : reporter(reporter) {}

  void recover(antlr4::Parser *parser, std::exception_ptr e) override;

protected:
  void reportNoViableAlternative(antlr4::Parser *parser, const antlr4::NoViableAltException &e) override;
  void reportInputMismatch(antlr4::Parser *parser, const antlr4::InputMismatchException &e) override;
  void reportFailedPredicate(antlr4::Parser *parser, const antlr4::FailedPredicateException &e) override;
  void reportUnwantedToken(antlr4::Parser *parser) override;
  void reportMissingToken(antlr4::Parser *parser) override;
  antlr4::Token *singleTokenDeletion(antlr4::Parser *parser) override;

private:
  SyntaxErrorReporter &reporter;
};

// Lexer errors. The grammar turns any stray character into an UNKNOWN_CHAR
// token, so this fires only if that safety net is ever removed.
class LexerErrorListener : public antlr4::BaseErrorListener {
public:
  explicit LexerErrorListener(SyntaxErrorReporter &reporter) : reporter(reporter) {}
  void syntaxError(antlr4::Recognizer *recognizer, antlr4::Token *offendingSymbol, size_t line,
                   size_t charPositionInLine, const std::string &msg, std::exception_ptr e) override;

private:
  SyntaxErrorReporter &reporter;
};

} // namespace kd::parse

#endif // KD_DSL_PARSE_SYNTAXERRORS_H

//===- Parser.cpp - parseModule: bytes to AST -----------------------------===//
//
// The steps, each guarding the next:
//   1. a byte pre-scan rejects nesting the recursive parser cannot survive;
//   2. the lexer runs over the bytes, each byte fed as one code point, so that
//      ANTLR's character indexes are byte offsets whatever the encoding;
//   3. stray characters are reported once each and hidden from the parser;
//   4. a fast SLL parse that gives up at the first error, then, only if it
//      failed, a full LL parse with friendly error reporting and recovery;
//   5. a depth check of the tree, then the transform into the owned AST.
// ANTLR reports some failures by throwing; nothing escapes this file.
//
//===----------------------------------------------------------------------===//
#include "LargeStack.h"
#include "PreScan.h"
#include "SyntaxErrors.h"
#include "Transform.h"

#include "kd/dsl/Frontend.h"

#include "KDLexer.h"
#include "KDParser.h"
#include "antlr4-runtime.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace kd {

namespace {

using kdgen::KDLexer;
using kdgen::KDParser;

// A parse tree deeper than this is rejected before the recursive transform
// (and everything that walks the AST afterwards) sees it.
constexpr size_t kMaxTreeDepth = 4000;

// Re-encodes bytes as UTF-8 of the code points U+0000..U+00FF, which ANTLR
// decodes back to exactly one code point per original byte.
std::string widenBytes(std::string_view bytes) {
  std::string wide;
  wide.reserve(bytes.size() + bytes.size() / 8);
  for (char c : bytes) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      wide += c;
    } else {
      wide += static_cast<char>(0xC0 | (byte >> 6));
      wide += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
  return wide;
}

// Reports every UNKNOWN_CHAR token and takes it off the parser's channel so
// that one stray character gives one error, not a cascade. An unterminated
// string (a lone '"') swallows the rest of its line as a string would have.
void reportStrayCharacters(antlr4::CommonTokenStream &tokens, std::string_view text, uint32_t file,
                           parse::SyntaxErrorReporter &reporter, DiagnosticEngine &diags) {
  std::vector<antlr4::Token *> all = tokens.getTokens();
  for (size_t i = 0; i < all.size(); ++i) {
    antlr4::Token *tok = all[i];
    if (tok->getType() != KDLexer::UNKNOWN_CHAR)
      continue;
    auto *writable = dynamic_cast<antlr4::WritableToken *>(tok);
    size_t start = tok->getStartIndex();
    if (text[start] == '"') {
      size_t lineEnd = text.find('\n', start);
      if (lineEnd == std::string_view::npos)
        lineEnd = text.size();
      if (lineEnd > start + 1 && text[lineEnd - 1] == '\r')
        --lineEnd;
      diags.error({{file, static_cast<uint32_t>(start)}, static_cast<uint32_t>(lineEnd)},
                  "unterminated string: missing '\"' before the end of the line");
      if (auto *common = dynamic_cast<antlr4::CommonToken *>(tok)) {
        common->setType(KDLexer::STRING);
        common->setStopIndex(lineEnd > start ? lineEnd - 1 : start);
      }
      while (i + 1 < all.size() && all[i + 1]->getType() != antlr4::Token::EOF &&
             all[i + 1]->getStartIndex() < lineEnd)
        if (auto *next = dynamic_cast<antlr4::WritableToken *>(all[++i]))
          next->setChannel(antlr4::Token::HIDDEN_CHANNEL);
      continue;
    }
    // Adjacent stray bytes (a UTF-8 sequence, "@@") make one error.
    size_t stop = tok->getStopIndex();
    if (writable)
      writable->setChannel(antlr4::Token::HIDDEN_CHANNEL);
    while (i + 1 < all.size() && all[i + 1]->getType() == KDLexer::UNKNOWN_CHAR &&
           all[i + 1]->getStartIndex() == stop + 1 && text[stop + 1] != '"') {
      ++i;
      stop = all[i]->getStopIndex();
      if (auto *next = dynamic_cast<antlr4::WritableToken *>(all[i]))
        next->setChannel(antlr4::Token::HIDDEN_CHANNEL);
    }
    diags.error({{file, static_cast<uint32_t>(start)}, static_cast<uint32_t>(stop + 1)},
                parse::describeStrayBytes(text.substr(start, stop + 1 - start)));
  }
  tokens.seek(0);
}

// The first node deeper than `limit`, found without recursion, or null.
antlr4::tree::ParseTree *firstNodeDeeperThan(antlr4::tree::ParseTree *root, size_t limit) {
  std::vector<std::pair<antlr4::tree::ParseTree *, size_t>> pending{{root, 1}};
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (depth > limit)
      return node;
    for (antlr4::tree::ParseTree *child : node->children)
      pending.push_back({child, depth + 1});
  }
  return nullptr;
}

std::unique_ptr<ast::Module> parseOnThisThread(uint32_t file, std::string_view text, DiagnosticEngine &diags) {
  unsigned errorsBefore = diags.errorCount();
  parse::SyntaxErrorReporter reporter(file, text, diags);
  parse::LexerErrorListener lexerErrors(reporter);

  antlr4::ANTLRInputStream input(widenBytes(text));
  input.name = std::string(diags.sources().name(file));
  KDLexer lexer(&input);
  lexer.removeErrorListeners();
  lexer.addErrorListener(&lexerErrors);
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  reportStrayCharacters(tokens, text, file, reporter, diags);

  KDParser parser(&tokens);
  parser.removeErrorListeners();
  KDParser::FileContext *tree = nullptr;

  // Stage 1: SLL prediction, bail out at the first error.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  try {
    tree = parser.file();
  } catch (const antlr4::ParseCancellationException &) {
    tree = nullptr;
  }

  // Stage 2: full LL prediction with recovery, so that every error is found
  // and reported in our words.
  if (!tree) {
    tokens.seek(0);
    parser.reset();
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
    parser.setErrorHandler(std::make_shared<parse::SyntaxErrorStrategy>(reporter));
    try {
      tree = parser.file();
    } catch (const parse::TooManySyntaxErrors &) {
      return nullptr;
    }
  }
  if (diags.errorCount() != errorsBefore || reporter.count() != 0 || !tree)
    return nullptr;

  if (antlr4::tree::ParseTree *deep = firstNodeDeeperThan(tree, kMaxTreeDepth)) {
    antlr4::misc::Interval span = deep->getSourceInterval();
    antlr4::Token *at = tokens.get(span.a < 0 ? 0 : static_cast<size_t>(span.a));
    uint32_t offset = static_cast<uint32_t>(std::min<size_t>(at->getStartIndex(), text.size()));
    diags.error({{file, offset}, offset + 1}, "nesting too deep: expressions nest more than " +
                                                  std::to_string(kMaxTreeDepth) + " levels here");
    return nullptr;
  }
  return parse::transformFile(*tree, file, text, diags);
}

} // namespace

std::unique_ptr<ast::Module> parseModule(uint32_t file, SourceManager &sm, DiagnosticEngine &diags) {
  std::string_view text = sm.text(file);
  if (text.size() > kMaxSourceBytes) {
    diags.error({{file, 0}, 0}, "file is too large for a .kd specification (" + std::to_string(text.size()) +
                                    " bytes; the limit is " + std::to_string(kMaxSourceBytes) + ")");
    return nullptr;
  }
  if (!parse::preScan(file, text, diags))
    return nullptr;

  std::unique_ptr<ast::Module> module;
  std::string internalError;
  parse::runWithLargeStack([&] {
    try {
      module = parseOnThisThread(file, text, diags);
    } catch (const std::exception &e) {
      internalError = e.what();
    } catch (...) {
      internalError = "unknown exception";
    }
  });
  if (!internalError.empty()) {
    diags.error({{file, 0}, 0}, "the parser failed on this file: " + internalError);
    return nullptr;
  }
  return module;
}

} // namespace kd

//===- PreScan.cpp - Checks made on raw bytes before parsing --------------===//
#include "PreScan.h"

#include <cctype>
#include <string>

namespace kd::parse {

namespace {
bool isWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Keywords after which the parser recurses into another expression before
// it has consumed an operand.
bool isPrefixKeyword(std::string_view word) {
  return word == "not" || word == "if" || word == "then" || word == "else" || word == "repeat";
}
} // namespace

bool preScan(uint32_t file, std::string_view text, DiagnosticEngine &diags) {
  unsigned bracketDepth = 0;
  // Prefix operators seen since the last operand; each is a parser frame.
  unsigned prefixRun = 0;
  auto tooDeep = [&](size_t at, size_t length) {
    diags.error({{file, static_cast<uint32_t>(at)}, static_cast<uint32_t>(at + length)},
                "nesting too deep: more than " + std::to_string(kMaxNestingDepth) +
                    " levels of brackets or prefix operators");
    return false;
  };

  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n')
        ++i;
      continue;
    }
    if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      size_t close = text.find("*/", i + 2);
      if (close == std::string_view::npos) {
        diags.error({{file, static_cast<uint32_t>(i)}, static_cast<uint32_t>(i + 2)},
                    "unterminated block comment");
        return false;
      }
      i = close + 2;
      continue;
    }
    if (c == '"') {
      // Strings never span lines; the parser reports an unterminated one.
      ++i;
      while (i < text.size() && text[i] != '"' && text[i] != '\n')
        i += text[i] == '\\' && i + 1 < text.size() && text[i + 1] != '\n' ? 2 : 1;
      ++i;
      prefixRun = 0;
      continue;
    }
    if (isWordChar(c)) {
      size_t start = i;
      while (i < text.size() && isWordChar(text[i]))
        ++i;
      if (isPrefixKeyword(text.substr(start, i - start))) {
        if (bracketDepth + ++prefixRun > kMaxNestingDepth)
          return tooDeep(start, i - start);
      } else {
        prefixRun = 0;
      }
      continue;
    }
    if (c == '(' || c == '[' || c == '{') {
      if (++bracketDepth + prefixRun > kMaxNestingDepth)
        return tooDeep(i, 1);
    } else if (c == ')' || c == ']' || c == '}') {
      if (bracketDepth)
        --bracketDepth;
      prefixRun = 0;
    } else if (c == '-' && !(i + 1 < text.size() && text[i + 1] == '>')) {
      if (bracketDepth + ++prefixRun > kMaxNestingDepth)
        return tooDeep(i, 1);
    }
    ++i;
  }
  return true;
}

} // namespace kd::parse

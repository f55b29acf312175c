//===- VerifyDiagnostics.cpp - -verify-diagnostics ------------------------===//
#include "VerifyDiagnostics.h"

#include <regex>
#include <string>

namespace kdc {

using kd::Severity;

namespace {
const char *label(Severity s) {
  switch (s) {
  case Severity::Error: return "error";
  case Severity::Warning: return "warning";
  case Severity::Note: return "note";
  }
  return "error";
}
} // namespace

DiagnosticVerifier::DiagnosticVerifier(kd::DiagnosticEngine &diags) : diags(diags) {
  diags.setConsumer([this](const kd::Diagnostic &d) { produced.push_back(d); });
  // Every diagnostic must be seen to be checked.
  diags.setErrorLimit(~0u);
}

bool DiagnosticVerifier::collectExpectations(uint32_t file, std::vector<Expectation> &out,
                                             std::ostream &os) const {
  static const std::regex pattern(R"(expected-(error|warning|note)(@([+-]?)([0-9]+))?\s*\{\{(.*?)\}\})");
  const kd::SourceManager &sm = diags.sources();
  std::string_view text = sm.text(file);
  bool ok = true;
  unsigned line = 1;
  size_t lineStart = 0;
  while (lineStart <= text.size()) {
    size_t lineEnd = text.find('\n', lineStart);
    if (lineEnd == std::string_view::npos)
      lineEnd = text.size();
    std::string lineText(text.substr(lineStart, lineEnd - lineStart));
    if (lineText.find("expected-") != std::string::npos) {
      auto begin = std::sregex_iterator(lineText.begin(), lineText.end(), pattern);
      size_t found = 0;
      for (auto it = begin; it != std::sregex_iterator(); ++it, ++found) {
        const std::smatch &m = *it;
        Expectation e;
        e.severity = m[1] == "error" ? Severity::Error : m[1] == "warning" ? Severity::Warning : Severity::Note;
        e.file = file;
        e.commentLine = line;
        e.line = line;
        if (m[2].matched) {
          long n = std::stol(m[4].str());
          if (m[3] == "+")
            e.line = line + static_cast<unsigned>(n);
          else if (m[3] == "-")
            e.line = n < static_cast<long>(line) ? line - static_cast<unsigned>(n) : 0;
          else
            e.line = static_cast<unsigned>(n);
        }
        e.text = m[5];
        out.push_back(e);
      }
      // An `expected-...` that the pattern did not accept is a typo in the
      // test, not something to skip silently.
      size_t mentions = 0;
      for (size_t at = lineText.find("expected-"); at != std::string::npos; at = lineText.find("expected-", at + 1))
        ++mentions;
      if (mentions != found) {
        os << sm.name(file) << ':' << line << ": error: malformed expected-* comment (write `expected-error"
           << " {{text}}`, optionally with @+N, @-N or @N)\n";
        ok = false;
      }
    }
    lineStart = lineEnd + 1;
    ++line;
  }
  return ok;
}

bool DiagnosticVerifier::verify(uint32_t firstFile, std::ostream &os) {
  const kd::SourceManager &sm = diags.sources();
  std::vector<Expectation> expected;
  bool ok = true;
  for (uint32_t file = firstFile; file <= sm.size(); ++file)
    ok &= collectExpectations(file, expected, os);

  for (const kd::Diagnostic &d : produced) {
    bool matched = false;
    if (d.range.valid()) {
      unsigned line = sm.lineCol(d.range.begin).line;
      for (Expectation &e : expected) {
        if (!e.matched && e.severity == d.severity && e.file == d.range.begin.file && e.line == line &&
            d.message.find(e.text) != std::string::npos) {
          e.matched = matched = true;
          break;
        }
      }
    }
    if (!matched) {
      ok = false;
      if (d.range.valid()) {
        kd::LineCol lc = sm.lineCol(d.range.begin);
        os << sm.name(d.range.begin.file) << ':' << lc.line << ':' << lc.column << ": error: unexpected "
           << label(d.severity) << ": " << d.message << '\n';
      } else {
        os << "kdc: error: unexpected " << label(d.severity) << " without a location: " << d.message << '\n';
      }
    }
  }
  for (const Expectation &e : expected) {
    if (e.matched)
      continue;
    ok = false;
    os << sm.name(e.file) << ':' << e.commentLine << ": error: expected " << label(e.severity) << " {{" << e.text
       << "}} on line " << e.line << " was not produced\n";
  }
  return ok;
}

} // namespace kdc

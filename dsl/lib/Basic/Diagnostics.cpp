//===- Diagnostics.cpp ----------------------------------------------------===//
#include "kd/dsl/Diagnostics.h"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <sstream>

namespace kd {

namespace {
const char *label(Severity s) {
  switch (s) {
  case Severity::Error: return "error";
  case Severity::Warning: return "warning";
  case Severity::Note: return "note";
  }
  return "error";
}

// Source lines may hold arbitrary bytes: print tabs as one space and control
// bytes as '?', byte for byte, so the caret line stays aligned with the
// 1-based byte columns of the location.
std::string printable(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (char ch : line) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\t')
      out += ' ';
    else if (c < 0x20 || c == 0x7f)
      out += '?';
    else
      out += ch;
  }
  return out;
}
} // namespace

std::string DiagnosticEngine::render(const Diagnostic &d) const {
  std::ostringstream os;
  if (d.range.valid()) {
    LineCol lc = sm.lineCol(d.range.begin);
    os << sm.name(d.range.begin.file) << ':' << lc.line << ':' << lc.column << ": ";
    os << label(d.severity) << ": " << d.message << '\n';
    std::string_view line = sm.lineText(d.range.begin.file, lc.line);
    if (line.size() > 500) // huge generated lines: show only the part around the column
      line = line.substr(0, 500);
    std::string shown = printable(line);
    os << "  " << shown << '\n';
    size_t col = lc.column ? lc.column - 1 : 0;
    size_t len = 1;
    if (d.range.end > d.range.begin.offset)
      len = d.range.end - d.range.begin.offset;
    if (col > shown.size())
      col = shown.size();
    len = std::max<size_t>(1, std::min(len, shown.size() > col ? shown.size() - col : 1));
    os << "  " << std::string(col, ' ') << '^' << std::string(len - 1, '~') << '\n';
  } else {
    os << "kdc: " << label(d.severity) << ": " << d.message << '\n';
  }
  return os.str();
}

void DiagnosticEngine::report(Severity s, SourceRange r, std::string msg) {
  if (s == Severity::Error)
    ++errors;
  if (s != Severity::Note)
    suppressNotes = s == Severity::Error && errors > errorLimit;
  if (suppressNotes)
    return;
  Diagnostic d{s, r, std::move(msg)};
  if (consumer)
    consumer(d);
  else
    (out ? *out : std::cerr) << render(d);
  diags.push_back(std::move(d));
  if (s == Severity::Error && errors == errorLimit && !consumer)
    (out ? *out : std::cerr) << "kdc: note: too many errors; further errors are not shown\n";
}

std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  size_t bestDist = std::string::npos;
  for (const std::string &c : candidates) {
    if (c == name || c.empty())
      continue;
    // Levenshtein distance, two rows.
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j)
      prev[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        size_t sub = prev[j - 1] + (std::tolower(name[i - 1]) == std::tolower(c[j - 1]) ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    size_t d = prev[c.size()];
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  // Plausible misspelling: at most a third of the name's length, at least 1.
  size_t limit = std::max<size_t>(1, (name.size() + 2) / 3);
  return bestDist <= limit ? best : std::string();
}

} // namespace kd

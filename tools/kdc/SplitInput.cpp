//===- SplitInput.cpp - -split-input-file ---------------------------------===//
#include "SplitInput.h"

namespace kdc {

namespace {
bool isSeparator(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
    line.remove_prefix(1);
  return line == "// -----";
}
} // namespace

std::vector<std::string> splitInputFile(std::string_view text) {
  std::vector<std::string> chunks;
  std::string current;
  unsigned linesBefore = 0; // lines of the file before the current chunk
  unsigned line = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    bool last = end == std::string_view::npos;
    std::string_view lineText = text.substr(start, (last ? text.size() : end) - start);
    ++line;
    if (isSeparator(lineText)) {
      chunks.push_back(std::move(current));
      // The separator line itself stays blank in the next chunk.
      linesBefore = line;
      current.assign(linesBefore, '\n');
    } else {
      current.append(lineText);
      if (!last)
        current += '\n';
    }
    if (last)
      break;
    start = end + 1;
  }
  chunks.push_back(std::move(current));
  return chunks;
}

} // namespace kdc

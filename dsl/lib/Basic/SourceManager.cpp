//===- SourceManager.cpp --------------------------------------------------===//
#include "kd/dsl/SourceLocation.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kd {

uint32_t SourceManager::addBuffer(std::string name, std::string text) {
  Buffer b;
  b.name = std::move(name);
  b.text = std::move(text);
  b.lineStarts.push_back(0);
  for (uint32_t i = 0; i < b.text.size(); ++i)
    if (b.text[i] == '\n')
      b.lineStarts.push_back(i + 1);
  buffers.push_back(std::move(b));
  return static_cast<uint32_t>(buffers.size());
}

uint32_t SourceManager::addFile(const std::string &path, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return 0;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = "cannot read '" + path + "'";
    return 0;
  }
  return addBuffer(path, ss.str());
}

std::string_view SourceManager::name(uint32_t file) const {
  if (file == 0 || file > buffers.size())
    return "<unknown>";
  return buffers[file - 1].name;
}

std::string_view SourceManager::text(uint32_t file) const {
  if (file == 0 || file > buffers.size())
    return {};
  return buffers[file - 1].text;
}

LineCol SourceManager::lineCol(SourceLoc loc) const {
  if (!loc.valid() || loc.file > buffers.size())
    return {};
  const Buffer &b = buffers[loc.file - 1];
  uint32_t off = std::min<uint32_t>(loc.offset, b.text.size());
  auto it = std::upper_bound(b.lineStarts.begin(), b.lineStarts.end(), off);
  unsigned line = static_cast<unsigned>(it - b.lineStarts.begin());
  return {line, off - b.lineStarts[line - 1] + 1};
}

std::string_view SourceManager::lineText(uint32_t file, unsigned line) const {
  if (file == 0 || file > buffers.size())
    return {};
  const Buffer &b = buffers[file - 1];
  if (line == 0 || line > b.lineStarts.size())
    return {};
  uint32_t start = b.lineStarts[line - 1];
  uint32_t end = line < b.lineStarts.size() ? b.lineStarts[line] - 1 : b.text.size();
  std::string_view s(b.text.data() + start, end - start);
  if (!s.empty() && s.back() == '\r')
    s.remove_suffix(1);
  return s;
}

uint32_t SourceManager::findByName(std::string_view n) const {
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].name == n)
      return static_cast<uint32_t>(i + 1);
  return 0;
}

} // namespace kd

//===- SourceLocation.h - Positions in .kd source files ---------*- C++ -*-===//
//
// A SourceManager owns the text of every file the front end reads; locations
// are (file id, byte offset) pairs that it turns into line and column on
// demand, so AST nodes stay small.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_SOURCELOCATION_H
#define KD_DSL_SOURCELOCATION_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kd {

struct SourceLoc {
  uint32_t file = 0;   // 0 = no location; ids start at 1
  uint32_t offset = 0; // byte offset into the file's buffer
  bool valid() const { return file != 0; }
};

// A half-open byte range [begin, end) in one file.
struct SourceRange {
  SourceLoc begin;
  uint32_t end = 0;
  bool valid() const { return begin.valid(); }
};

struct LineCol {
  unsigned line = 0;   // 1-based
  unsigned column = 0; // 1-based, in bytes
};

class SourceManager {
public:
  // Adds a buffer and returns its id. `name` is what diagnostics print.
  uint32_t addBuffer(std::string name, std::string text);
  // Reads a file from disk; returns 0 and sets `error` if it cannot be read.
  uint32_t addFile(const std::string &path, std::string &error);

  std::string_view name(uint32_t file) const;
  std::string_view text(uint32_t file) const;
  LineCol lineCol(SourceLoc loc) const;
  // The text of the 1-based line `line` of `file`, without its newline.
  std::string_view lineText(uint32_t file, unsigned line) const;
  // The id of an already loaded file with this canonical path, or 0.
  uint32_t findByName(std::string_view name) const;
  size_t size() const { return buffers.size(); }

private:
  struct Buffer {
    std::string name;
    std::string text;
    std::vector<uint32_t> lineStarts;
  };
  std::vector<Buffer> buffers;
};

} // namespace kd

#endif // KD_DSL_SOURCELOCATION_H

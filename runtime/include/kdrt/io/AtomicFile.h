//===- AtomicFile.h - All-or-nothing file replacement ----------*- C++ -*-===//
//
// Writes go to a temporary file in the destination's directory, which is
// flushed to disk (fsync) and then renamed over the destination; the
// directory is synced so the rename itself survives a crash. A reader sees
// either the old file or the complete new one, and a failed write leaves the
// old file untouched.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_IO_ATOMICFILE_H
#define KDRT_IO_ATOMICFILE_H

#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::io {

void writeFileAtomically(const std::string &path, const void *data,
                         size_t size);

inline void writeFileAtomically(const std::string &path,
                                const std::string &contents) {
  writeFileAtomically(path, contents.data(), contents.size());
}

inline void writeFileAtomically(const std::string &path,
                                const std::vector<uint8_t> &contents) {
  writeFileAtomically(path, contents.data(), contents.size());
}

} // namespace kdrt::io

#endif // KDRT_IO_ATOMICFILE_H

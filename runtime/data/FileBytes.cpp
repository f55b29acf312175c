//===- FileBytes.cpp - Whole-file reads for the data sources --------------===//

#include "FileBytes.h"

#include "kdrt/data/DataError.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <zlib.h>

namespace kdrt::data {

std::vector<uint8_t> readFileBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw DataError("cannot open file " + path + ": " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0)
    throw DataError("cannot determine the size of file " + path);
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 &&
      !in.read(reinterpret_cast<char *>(bytes.data()), size))
    throw DataError("cannot read file " + path);
  return bytes;
}

namespace {
/// Closes a gzFile on every path out of the reader.
struct GzCloser {
  gzFile file;
  ~GzCloser() {
    if (file)
      gzclose(file);
  }
};
} // namespace

std::vector<uint8_t> readMaybeGzippedFile(const std::string &path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    throw DataError("cannot open file " + path + ": " +
                    (errno ? std::strerror(errno) : "out of memory"));
  GzCloser closer{file};
  gzbuffer(file, 1 << 17);
  std::vector<uint8_t> bytes;
  constexpr unsigned kChunk = 1 << 20;
  for (;;) {
    size_t old = bytes.size();
    bytes.resize(old + kChunk);
    int got = gzread(file, bytes.data() + old, kChunk);
    if (got < 0) {
      int code = 0;
      const char *message = gzerror(file, &code);
      throw DataError("cannot decompress file " + path + ": " +
                      (message ? message : "unknown zlib error"));
    }
    bytes.resize(old + static_cast<size_t>(got));
    if (got == 0)
      break;
  }
  // zlib reports a gzip stream cut short only through gzerror after EOF.
  int code = 0;
  const char *message = gzerror(file, &code);
  if (code != Z_OK && code != Z_STREAM_END)
    throw DataError("file " + path + " is truncated or corrupt: " +
                    (message ? message : "unknown zlib error"));
  return bytes;
}

} // namespace kdrt::data

//===- TestFiles.h - Writing small data files for the runtime tests -*- C++ -*-//
//
// The tests build their inputs themselves (IDX, PNG, JPEG, BMP, NPZ) in a
// fresh temporary folder, so they depend on no fixture files.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TEST_DATA_TESTFILES_H
#define KDRT_TEST_DATA_TESTFILES_H

#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::test {

/// A temporary folder removed with its contents on destruction.
class TemporaryFolder {
public:
  TemporaryFolder();
  ~TemporaryFolder();
  const std::string &path() const { return root; }
  /// `name` inside the folder (parent folders created).
  std::string file(const std::string &name) const;

private:
  std::string root;
};

void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes);
std::vector<uint8_t> readBytes(const std::string &path);

/// An IDX array of unsigned bytes with the given dimensions.
std::vector<uint8_t> idxBytes(const std::vector<uint32_t> &dims,
                              const std::vector<uint8_t> &data);
void writeGzip(const std::string &path, const std::vector<uint8_t> &bytes);

/// `pixels` interleaved, `channels` 1 (gray) or 3 (RGB), 8-bit.
void writePng(const std::string &path, int width, int height, int channels,
              const std::vector<uint8_t> &pixels);
/// A palettized PNG: `indices` into `paletteRgb` (3 bytes per entry).
void writePalettePng(const std::string &path, int width, int height,
                     const std::vector<uint8_t> &paletteRgb,
                     const std::vector<uint8_t> &indices);
void writeJpeg(const std::string &path, int width, int height, int channels,
               const std::vector<uint8_t> &pixels, int quality = 100);
/// 24-bit bottom-up BMP of interleaved RGB pixels.
void writeBmp24(const std::string &path, int width, int height,
                const std::vector<uint8_t> &rgb);

/// A .npy array of '|u1' or '<i8' elements (bytes already little-endian).
std::vector<uint8_t> npyBytes(const std::string &dtype,
                              const std::vector<int64_t> &shape,
                              const std::vector<uint8_t> &data);
std::vector<uint8_t> int64Bytes(const std::vector<int64_t> &values);

struct ZipEntryToWrite {
  std::string name;
  std::vector<uint8_t> data;
  bool deflate = false;
};
void writeZip(const std::string &path,
              const std::vector<ZipEntryToWrite> &entries);

} // namespace kdrt::test

#endif // KDRT_TEST_DATA_TESTFILES_H

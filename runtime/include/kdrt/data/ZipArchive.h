//===- ZipArchive.h - Reading entries of a zip file ------------*- C++ -*-===//
//
// Just enough of the zip format to read .npz files: the central directory,
// stored and deflated entries, CRC-32 checks. Zip64 archives (needed only
// past 4 GiB) are recognised and rejected with a clear message.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_ZIPARCHIVE_H
#define KDRT_DATA_ZIPARCHIVE_H

#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::data {

class ZipArchive {
public:
  /// Reads the archive's central directory. Throws DataError naming `path`.
  explicit ZipArchive(const std::string &path);

  /// Entry names in the order of the central directory.
  std::vector<std::string> entryNames() const;
  bool contains(const std::string &name) const;
  /// The uncompressed bytes of an entry, checked against its CRC-32.
  std::vector<uint8_t> read(const std::string &name) const;

  const std::string &path() const { return archivePath; }

private:
  struct Entry {
    std::string name;
    uint16_t method = 0;
    uint32_t crc32 = 0;
    uint32_t compressedSize = 0;
    uint32_t uncompressedSize = 0;
    uint32_t localHeaderOffset = 0;
  };

  const Entry &find(const std::string &name) const;

  std::string archivePath;
  std::vector<uint8_t> bytes;
  std::vector<Entry> entries;
};

} // namespace kdrt::data

#endif // KDRT_DATA_ZIPARCHIVE_H

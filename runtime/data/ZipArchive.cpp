//===- ZipArchive.cpp - Reading entries of a zip file ---------------------===//

#include "kdrt/data/ZipArchive.h"

#include "FileBytes.h"
#include "kdrt/data/DataError.h"

#include <zlib.h>

namespace kdrt::data {
namespace {

constexpr uint32_t kEndOfDirectorySignature = 0x06054b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint32_t kDirectoryEntrySignature = 0x02014b50;
constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr size_t kEndOfDirectoryBytes = 22;
constexpr size_t kZip64LocatorBytes = 20;
constexpr size_t kDirectoryEntryBytes = 46;
constexpr size_t kLocalHeaderBytes = 30;
constexpr uint16_t kStored = 0;
constexpr uint16_t kDeflated = 8;

uint16_t read16(const std::vector<uint8_t> &bytes, size_t offset) {
  return uint16_t(bytes[offset] | (bytes[offset + 1] << 8));
}

uint32_t read32(const std::vector<uint8_t> &bytes, size_t offset) {
  return uint32_t(bytes[offset]) | (uint32_t(bytes[offset + 1]) << 8) |
         (uint32_t(bytes[offset + 2]) << 16) |
         (uint32_t(bytes[offset + 3]) << 24);
}

} // namespace

ZipArchive::ZipArchive(const std::string &path)
    : archivePath(path), bytes(readFileBytes(path)) {
  auto fail = [&](const std::string &problem) {
    return DataError("zip archive " + path + ": " + problem);
  };
  if (bytes.size() < kEndOfDirectoryBytes)
    throw fail("file is too small to be a zip archive");
  // The end record sits at the end, followed by a comment of up to 64 KiB.
  size_t endRecord = bytes.size() - kEndOfDirectoryBytes;
  size_t lowest = bytes.size() > kEndOfDirectoryBytes + 0xFFFF
                      ? bytes.size() - kEndOfDirectoryBytes - 0xFFFF
                      : 0;
  while (read32(bytes, endRecord) != kEndOfDirectorySignature) {
    if (endRecord == lowest)
      throw fail("no end of central directory record (not a zip file, or "
                 "truncated)");
    --endRecord;
  }
  uint16_t entryCount = read16(bytes, endRecord + 10);
  uint32_t directorySize = read32(bytes, endRecord + 12);
  uint32_t directoryOffset = read32(bytes, endRecord + 16);
  bool zip64Locator =
      endRecord >= kZip64LocatorBytes &&
      read32(bytes, endRecord - kZip64LocatorBytes) == kZip64LocatorSignature;
  if (zip64Locator || entryCount == 0xFFFF || directorySize == 0xFFFFFFFF ||
      directoryOffset == 0xFFFFFFFF)
    throw fail("zip64 archives are not supported (re-save the arrays in a "
               "smaller archive)");
  if (uint64_t(directoryOffset) + directorySize > endRecord)
    throw fail("central directory lies outside the file");

  size_t cursor = directoryOffset;
  for (uint16_t i = 0; i < entryCount; ++i) {
    if (cursor + kDirectoryEntryBytes > endRecord ||
        read32(bytes, cursor) != kDirectoryEntrySignature)
      throw fail("central directory entry " + std::to_string(i) +
                 " is corrupt");
    Entry entry;
    uint16_t flags = read16(bytes, cursor + 8);
    entry.method = read16(bytes, cursor + 10);
    entry.crc32 = read32(bytes, cursor + 16);
    entry.compressedSize = read32(bytes, cursor + 20);
    entry.uncompressedSize = read32(bytes, cursor + 24);
    uint16_t nameLength = read16(bytes, cursor + 28);
    uint16_t extraLength = read16(bytes, cursor + 30);
    uint16_t commentLength = read16(bytes, cursor + 32);
    entry.localHeaderOffset = read32(bytes, cursor + 42);
    size_t next = cursor + kDirectoryEntryBytes + nameLength + extraLength +
                  commentLength;
    if (next > endRecord)
      throw fail("central directory entry " + std::to_string(i) +
                 " is truncated");
    entry.name.assign(bytes.begin() + cursor + kDirectoryEntryBytes,
                      bytes.begin() + cursor + kDirectoryEntryBytes +
                          nameLength);
    if (flags & 1)
      throw fail("entry " + entry.name + " is encrypted");
    if (entry.compressedSize == 0xFFFFFFFF ||
        entry.uncompressedSize == 0xFFFFFFFF ||
        entry.localHeaderOffset == 0xFFFFFFFF)
      throw fail("entry " + entry.name +
                 " uses zip64 sizes, which are not supported");
    entries.push_back(std::move(entry));
    cursor = next;
  }
}

std::vector<std::string> ZipArchive::entryNames() const {
  std::vector<std::string> names;
  for (const Entry &entry : entries)
    names.push_back(entry.name);
  return names;
}

bool ZipArchive::contains(const std::string &name) const {
  for (const Entry &entry : entries)
    if (entry.name == name)
      return true;
  return false;
}

const ZipArchive::Entry &ZipArchive::find(const std::string &name) const {
  for (const Entry &entry : entries)
    if (entry.name == name)
      return entry;
  throw DataError("zip archive " + archivePath + " has no entry " + name);
}

std::vector<uint8_t> ZipArchive::read(const std::string &name) const {
  const Entry &entry = find(name);
  auto fail = [&](const std::string &problem) {
    return DataError("zip archive " + archivePath + ", entry " + name + ": " +
                     problem);
  };
  size_t local = entry.localHeaderOffset;
  if (local + kLocalHeaderBytes > bytes.size() ||
      read32(bytes, local) != kLocalHeaderSignature)
    throw fail("local header is missing or corrupt");
  // Sizes come from the central directory; the local header may carry
  // placeholders when a data descriptor follows the data.
  size_t dataStart = local + kLocalHeaderBytes + read16(bytes, local + 26) +
                     read16(bytes, local + 28);
  if (dataStart > bytes.size() ||
      bytes.size() - dataStart < entry.compressedSize)
    throw fail("data is truncated");
  const uint8_t *data = bytes.data() + dataStart;

  std::vector<uint8_t> out(entry.uncompressedSize);
  if (entry.method == kStored) {
    if (entry.compressedSize != entry.uncompressedSize)
      throw fail("stored entry has different compressed and uncompressed "
                 "sizes");
    std::copy(data, data + entry.compressedSize, out.begin());
  } else if (entry.method == kDeflated) {
    z_stream stream{};
    if (inflateInit2(&stream, -MAX_WBITS) != Z_OK)
      throw fail("cannot initialise zlib");
    stream.next_in = const_cast<Bytef *>(data);
    stream.avail_in = entry.compressedSize;
    stream.next_out = out.data();
    stream.avail_out = entry.uncompressedSize;
    int status = inflate(&stream, Z_FINISH);
    uLong produced = stream.total_out;
    inflateEnd(&stream);
    if (status != Z_STREAM_END || produced != entry.uncompressedSize)
      throw fail("deflate data is corrupt or truncated");
  } else {
    throw fail("compression method " + std::to_string(entry.method) +
               " is not supported (only stored and deflate)");
  }
  uint32_t crc = uint32_t(::crc32(0L, out.data(), uInt(out.size())));
  if (crc != entry.crc32)
    throw fail("CRC-32 mismatch (the archive is corrupt)");
  return out;
}

} // namespace kdrt::data

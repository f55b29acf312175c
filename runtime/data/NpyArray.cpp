//===- NpyArray.cpp - NumPy .npy arrays -----------------------------------===//

#include "kdrt/data/NpyArray.h"

#include "kdrt/data/DataError.h"

#include <cctype>
#include <cstring>
#include <limits>

namespace kdrt::data {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;

size_t elementBytes(const std::string &dtype) {
  if (dtype == "|u1")
    return 1;
  if (dtype == "<i4")
    return 4;
  if (dtype == "<i8")
    return 8;
  return 0;
}

/// The text after `'key':` in the header dictionary, with spaces skipped.
size_t findValue(const std::string &header, const std::string &key,
                 const std::string &source) {
  size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    throw DataError("npy array " + source + ": header has no '" + key +
                    "' field");
  at = header.find(':', at);
  if (at == std::string::npos)
    throw DataError("npy array " + source + ": malformed '" + key + "' field");
  ++at;
  while (at < header.size() && header[at] == ' ')
    ++at;
  return at;
}

} // namespace

int64_t NpyArray::elementCount() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

int64_t NpyArray::integerAt(int64_t index) const {
  const uint8_t *element = data.data() + index * elementBytes(dtype);
  if (dtype == "|u1")
    return element[0];
  if (dtype == "<i4") {
    uint32_t bits = uint32_t(element[0]) | (uint32_t(element[1]) << 8) |
                    (uint32_t(element[2]) << 16) | (uint32_t(element[3]) << 24);
    return int32_t(bits);
  }
  uint64_t bits = 0;
  for (int b = 7; b >= 0; --b)
    bits = (bits << 8) | element[b];
  return int64_t(bits);
}

NpyArray parseNpy(const std::vector<uint8_t> &bytes,
                  const std::string &source) {
  auto fail = [&](const std::string &problem) {
    return DataError("npy array " + source + ": " + problem);
  };
  if (bytes.size() < kMagicBytes + 4 ||
      std::memcmp(bytes.data(), kMagic, kMagicBytes) != 0)
    throw fail("not a .npy array (bad magic)");
  uint8_t major = bytes[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = bytes[8] | (bytes[9] << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      throw fail("header is truncated");
    headerLength = size_t(bytes[8]) | (size_t(bytes[9]) << 8) |
                   (size_t(bytes[10]) << 16) | (size_t(bytes[11]) << 24);
    headerStart = 12;
  } else {
    throw fail("unsupported format version " + std::to_string(major));
  }
  if (bytes.size() - headerStart < headerLength)
    throw fail("header is truncated");
  std::string header(bytes.begin() + headerStart,
                     bytes.begin() + headerStart + headerLength);

  NpyArray array;
  size_t at = findValue(header, "descr", source);
  if (at >= header.size() || (header[at] != '\'' && header[at] != '"'))
    throw fail("malformed 'descr' field");
  size_t close = header.find(header[at], at + 1);
  if (close == std::string::npos)
    throw fail("malformed 'descr' field");
  array.dtype = header.substr(at + 1, close - at - 1);
  // NumPy writes single bytes as '|u1' but accept the equivalent spellings.
  if (array.dtype == "<u1" || array.dtype == "u1")
    array.dtype = "|u1";
  if (elementBytes(array.dtype) == 0)
    throw fail("dtype '" + array.dtype +
               "' is not supported (use '|u1', '<i4' or '<i8')");

  at = findValue(header, "fortran_order", source);
  if (header.compare(at, 5, "False") != 0) {
    if (header.compare(at, 4, "True") == 0)
      throw fail("Fortran-ordered arrays are not supported");
    throw fail("malformed 'fortran_order' field");
  }

  at = findValue(header, "shape", source);
  if (at >= header.size() || header[at] != '(')
    throw fail("malformed 'shape' field");
  close = header.find(')', at);
  if (close == std::string::npos)
    throw fail("malformed 'shape' field");
  std::string dims = header.substr(at + 1, close - at - 1);
  size_t pos = 0;
  while (pos < dims.size()) {
    while (pos < dims.size() && (dims[pos] == ' ' || dims[pos] == ','))
      ++pos;
    if (pos == dims.size())
      break;
    if (!std::isdigit(static_cast<unsigned char>(dims[pos])))
      throw fail("malformed 'shape' field: " + dims);
    int64_t dim = 0;
    while (pos < dims.size() &&
           std::isdigit(static_cast<unsigned char>(dims[pos]))) {
      if (dim > std::numeric_limits<int64_t>::max() / 10 - 10)
        throw fail("shape dimension is too large");
      dim = dim * 10 + (dims[pos++] - '0');
    }
    array.shape.push_back(dim);
  }

  size_t dataStart = headerStart + headerLength;
  uint64_t expected = elementBytes(array.dtype);
  for (int64_t dim : array.shape) {
    if (dim != 0 && expected > bytes.size() / uint64_t(dim))
      throw fail("is truncated: shape needs more bytes than the file holds");
    expected *= uint64_t(dim);
  }
  uint64_t available = bytes.size() - dataStart;
  if (available < expected)
    throw fail("is truncated: expected " + std::to_string(expected) +
               " bytes of data, found " + std::to_string(available));
  array.data.assign(bytes.begin() + dataStart,
                    bytes.begin() + dataStart + expected);
  return array;
}

} // namespace kdrt::data

//===- FileBytes.h - Whole-file reads for the data sources -----*- C++ -*-===//
//
// Internal to kdrt_data. Data files are small enough to read whole, and
// parsing from memory makes every bounds check explicit.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_FILEBYTES_H
#define KDRT_DATA_FILEBYTES_H

#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::data {

/// Reads a file as it is stored. Throws DataError naming the file.
std::vector<uint8_t> readFileBytes(const std::string &path);

/// Reads a file through zlib's gz reader, which inflates gzip files and
/// passes other files through unchanged. A gzip stream that ends early is
/// reported as a truncated file.
std::vector<uint8_t> readMaybeGzippedFile(const std::string &path);

} // namespace kdrt::data

#endif // KDRT_DATA_FILEBYTES_H

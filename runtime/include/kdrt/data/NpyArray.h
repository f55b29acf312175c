//===- NpyArray.h - NumPy .npy arrays --------------------------*- C++ -*-===//
//
// Parses the .npy format (versions 1 to 3) for the dtypes datasets use:
// '|u1' images and '<i8' / '<i4' / '|u1' labels, C order only.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_NPYARRAY_H
#define KDRT_DATA_NPYARRAY_H

#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::data {

struct NpyArray {
  /// The NumPy dtype string, e.g. "|u1" or "<i8".
  std::string dtype;
  std::vector<int64_t> shape;
  /// Raw little-endian element bytes in C order.
  std::vector<uint8_t> data;

  int64_t elementCount() const;
  /// Element `index` widened to int64 (any supported dtype).
  int64_t integerAt(int64_t index) const;
};

/// `source` names the file (or archive entry) in error messages.
NpyArray parseNpy(const std::vector<uint8_t> &bytes, const std::string &source);

} // namespace kdrt::data

#endif // KDRT_DATA_NPYARRAY_H

//===- Safetensors.h - Reading and writing .safetensors files --*- C++ -*-===//
//
// The safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON (padded with spaces to a multiple of 8 bytes) mapping each tensor
// name to {dtype, shape, data_offsets} plus an optional string-to-string
// "__metadata__", then the tensor bytes with no gaps. Tensor bytes are
// little-endian, as on every host the runtime targets.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_IO_SAFETENSORS_H
#define KDRT_IO_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kdrt::io {

enum class TensorDtype {
  Bool, U8, I8, U16, I16, F16, BF16, U32, I32, F32, F64, U64, I64,
};

size_t dtypeBytes(TensorDtype dtype);
/// The spelling used in safetensors headers, e.g. "F32".
const char *dtypeName(TensorDtype dtype);
std::optional<TensorDtype> parseDtypeName(const std::string &name);

struct NamedTensor {
  std::string name;
  TensorDtype dtype = TensorDtype::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t elementCount() const;
  static NamedTensor fromFloats(std::string name, std::vector<int64_t> shape,
                                const std::vector<float> &values);
  static NamedTensor fromInt64s(std::string name, std::vector<int64_t> shape,
                                const std::vector<int64_t> &values);
  /// The values of an F32 tensor; throws IoError for another dtype.
  std::vector<float> toFloats() const;
  /// The values of an I64 tensor; throws IoError for another dtype.
  std::vector<int64_t> toInt64s() const;
};

struct SafetensorsFile {
  std::vector<NamedTensor> tensors;
  std::map<std::string, std::string> metadata;

  /// The tensor called `name`, or null.
  const NamedTensor *find(const std::string &name) const;
};

/// The complete file contents. Throws IoError for inconsistent tensors
/// (byte count not matching shape and dtype, duplicate names).
std::vector<uint8_t> serializeSafetensors(const SafetensorsFile &file);

/// Parses and validates file contents; `source` names the file in errors.
SafetensorsFile parseSafetensors(const std::vector<uint8_t> &bytes,
                                 const std::string &source);

/// Writes atomically: a failed write leaves an existing file intact.
void writeSafetensors(const std::string &path, const SafetensorsFile &file);
SafetensorsFile readSafetensors(const std::string &path);

} // namespace kdrt::io

#endif // KDRT_IO_SAFETENSORS_H

//===- Safetensors.cpp - Reading and writing .safetensors files -----------===//

#include "kdrt/io/Safetensors.h"

#include "kdrt/io/AtomicFile.h"
#include "kdrt/io/IoError.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>

namespace kdrt::io {
namespace {

/// The reference implementation refuses headers above 100 MB; so do we, so
/// that a corrupt length cannot make us allocate gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr size_t kLengthBytes = 8;
constexpr size_t kAlignment = 8;

struct DtypeInfo {
  TensorDtype dtype;
  const char *name;
  size_t bytes;
};

constexpr DtypeInfo kDtypes[] = {
    {TensorDtype::Bool, "BOOL", 1}, {TensorDtype::U8, "U8", 1},
    {TensorDtype::I8, "I8", 1},     {TensorDtype::U16, "U16", 2},
    {TensorDtype::I16, "I16", 2},   {TensorDtype::F16, "F16", 2},
    {TensorDtype::BF16, "BF16", 2}, {TensorDtype::U32, "U32", 4},
    {TensorDtype::I32, "I32", 4},   {TensorDtype::F32, "F32", 4},
    {TensorDtype::F64, "F64", 8},   {TensorDtype::U64, "U64", 8},
    {TensorDtype::I64, "I64", 8},
};

const DtypeInfo &infoOf(TensorDtype dtype) {
  for (const DtypeInfo &info : kDtypes)
    if (info.dtype == dtype)
      return info;
  throw IoError("unknown tensor dtype");
}

/// Element count of a shape, or nothing when it is negative or overflows.
std::optional<uint64_t> checkedElements(const std::vector<int64_t> &shape) {
  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0)
      return std::nullopt;
    if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 16 / uint64_t(dim))
      return std::nullopt;
    count *= uint64_t(dim);
  }
  return count;
}

/// memcpy that accepts the null data pointers of empty vectors.
void copyBytes(void *to, const void *from, size_t size) {
  if (size > 0)
    std::memcpy(to, from, size);
}

} // namespace

size_t dtypeBytes(TensorDtype dtype) { return infoOf(dtype).bytes; }
const char *dtypeName(TensorDtype dtype) { return infoOf(dtype).name; }

std::optional<TensorDtype> parseDtypeName(const std::string &name) {
  for (const DtypeInfo &info : kDtypes)
    if (name == info.name)
      return info.dtype;
  return std::nullopt;
}

int64_t NamedTensor::elementCount() const {
  return int64_t(checkedElements(shape).value_or(0));
}

NamedTensor NamedTensor::fromFloats(std::string name,
                                    std::vector<int64_t> shape,
                                    const std::vector<float> &values) {
  NamedTensor tensor{std::move(name), TensorDtype::F32, std::move(shape), {}};
  tensor.bytes.resize(values.size() * sizeof(float));
  copyBytes(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}

NamedTensor NamedTensor::fromInt64s(std::string name,
                                    std::vector<int64_t> shape,
                                    const std::vector<int64_t> &values) {
  NamedTensor tensor{std::move(name), TensorDtype::I64, std::move(shape), {}};
  tensor.bytes.resize(values.size() * sizeof(int64_t));
  copyBytes(tensor.bytes.data(), values.data(), tensor.bytes.size());
  return tensor;
}

std::vector<float> NamedTensor::toFloats() const {
  if (dtype != TensorDtype::F32)
    throw IoError("tensor " + name + " has dtype " + dtypeName(dtype) +
                  ", expected F32");
  std::vector<float> values(bytes.size() / sizeof(float));
  copyBytes(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

std::vector<int64_t> NamedTensor::toInt64s() const {
  if (dtype != TensorDtype::I64)
    throw IoError("tensor " + name + " has dtype " + dtypeName(dtype) +
                  ", expected I64");
  std::vector<int64_t> values(bytes.size() / sizeof(int64_t));
  copyBytes(values.data(), bytes.data(), values.size() * sizeof(int64_t));
  return values;
}

const NamedTensor *SafetensorsFile::find(const std::string &name) const {
  for (const NamedTensor &tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

std::vector<uint8_t> serializeSafetensors(const SafetensorsFile &file) {
  // Lay out wider dtypes first, so that every tensor starts at an offset
  // aligned to its element size (the data section itself is 8-aligned).
  std::vector<size_t> layout(file.tensors.size());
  std::iota(layout.begin(), layout.end(), 0);
  std::stable_sort(layout.begin(), layout.end(), [&](size_t a, size_t b) {
    return dtypeBytes(file.tensors[a].dtype) > dtypeBytes(file.tensors[b].dtype);
  });

  nlohmann::json header = nlohmann::json::object();
  std::set<std::string> names;
  uint64_t offset = 0;
  for (size_t index : layout) {
    const NamedTensor &tensor = file.tensors[index];
    if (tensor.name.empty() || tensor.name == "__metadata__")
      throw IoError("invalid tensor name '" + tensor.name + "'");
    if (!names.insert(tensor.name).second)
      throw IoError("two tensors are named " + tensor.name);
    std::optional<uint64_t> elements = checkedElements(tensor.shape);
    if (!elements || *elements * dtypeBytes(tensor.dtype) != tensor.bytes.size())
      throw IoError("tensor " + tensor.name + " holds " +
                    std::to_string(tensor.bytes.size()) +
                    " bytes, which does not match its shape and dtype");
    header[tensor.name] = {
        {"dtype", dtypeName(tensor.dtype)},
        {"shape", tensor.shape},
        {"data_offsets", {offset, offset + tensor.bytes.size()}}};
    offset += tensor.bytes.size();
  }
  if (!file.metadata.empty())
    header["__metadata__"] = file.metadata;

  std::string text = header.dump();
  text.append((kAlignment - text.size() % kAlignment) % kAlignment, ' ');
  uint64_t length = text.size();
  std::vector<uint8_t> bytes(kLengthBytes + text.size() + offset);
  for (size_t b = 0; b < kLengthBytes; ++b)
    bytes[b] = uint8_t(length >> (8 * b));
  std::memcpy(bytes.data() + kLengthBytes, text.data(), text.size());
  size_t cursor = kLengthBytes + text.size();
  for (size_t index : layout) {
    const std::vector<uint8_t> &data = file.tensors[index].bytes;
    if (!data.empty())
      std::memcpy(bytes.data() + cursor, data.data(), data.size());
    cursor += data.size();
  }
  return bytes;
}

SafetensorsFile parseSafetensors(const std::vector<uint8_t> &bytes,
                                 const std::string &source) {
  auto fail = [&](const std::string &problem) {
    return IoError("safetensors file " + source + ": " + problem);
  };
  if (bytes.size() < kLengthBytes)
    throw fail("is truncated: " + std::to_string(bytes.size()) +
               " bytes, too short for the header length");
  uint64_t length = 0;
  for (size_t b = 0; b < kLengthBytes; ++b)
    length |= uint64_t(bytes[b]) << (8 * b);
  if (length > kMaxHeaderBytes)
    throw fail("header length " + std::to_string(length) +
               " exceeds the limit of 100 MB (corrupt file?)");
  if (length > bytes.size() - kLengthBytes)
    throw fail("is truncated: header of " + std::to_string(length) +
               " bytes, but only " +
               std::to_string(bytes.size() - kLengthBytes) + " bytes follow");
  if (length == 0 || bytes[kLengthBytes] != '{')
    throw fail("header is not a JSON object");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + kLengthBytes,
                                   bytes.begin() + kLengthBytes + length);
  } catch (const nlohmann::json::exception &error) {
    throw fail(std::string("header is not valid JSON: ") + error.what());
  }
  if (!header.is_object())
    throw fail("header is not a JSON object");

  size_t dataStart = kLengthBytes + length;
  uint64_t dataSize = bytes.size() - dataStart;
  SafetensorsFile file;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto &[name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        throw fail("__metadata__ is not an object");
      for (auto &[key, value] : entry.items()) {
        if (!value.is_string())
          throw fail("metadata value of " + key + " is not a string");
        file.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    auto bad = [&](const std::string &problem) {
      return fail("tensor " + name + ": " + problem);
    };
    if (!entry.is_object())
      throw bad("entry is not an object");
    auto dtypeField = entry.find("dtype");
    auto shapeField = entry.find("shape");
    auto offsetsField = entry.find("data_offsets");
    if (dtypeField == entry.end() || shapeField == entry.end() ||
        offsetsField == entry.end())
      throw bad("entry needs dtype, shape and data_offsets");
    if (!dtypeField->is_string())
      throw bad("dtype is not a string");
    std::optional<TensorDtype> dtype =
        parseDtypeName(dtypeField->get<std::string>());
    if (!dtype)
      throw bad("unknown dtype " + dtypeField->get<std::string>());
    NamedTensor tensor;
    tensor.name = name;
    tensor.dtype = *dtype;
    if (!shapeField->is_array())
      throw bad("shape is not an array");
    for (const nlohmann::json &dim : *shapeField) {
      if (!dim.is_number_unsigned())
        throw bad("shape holds a value that is not a non-negative integer");
      tensor.shape.push_back(int64_t(dim.get<uint64_t>()));
    }
    if (!offsetsField->is_array() || offsetsField->size() != 2 ||
        !(*offsetsField)[0].is_number_unsigned() ||
        !(*offsetsField)[1].is_number_unsigned())
      throw bad("data_offsets is not a pair of non-negative integers");
    uint64_t begin = (*offsetsField)[0].get<uint64_t>();
    uint64_t end = (*offsetsField)[1].get<uint64_t>();
    if (begin > end || end > dataSize)
      throw bad("data_offsets [" + std::to_string(begin) + ", " +
                std::to_string(end) + "] lie outside the " +
                std::to_string(dataSize) + " bytes of tensor data (truncated "
                "file?)");
    std::optional<uint64_t> elements = checkedElements(tensor.shape);
    if (!elements || *elements * dtypeBytes(tensor.dtype) != end - begin)
      throw bad("data_offsets span " + std::to_string(end - begin) +
                " bytes, which does not match its shape and dtype");
    tensor.bytes.assign(bytes.begin() + dataStart + begin,
                        bytes.begin() + dataStart + end);
    ranges.emplace_back(begin, end);
    file.tensors.push_back(std::move(tensor));
  }
  // The format forbids overlapping tensors and unindexed bytes.
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto &[begin, end] : ranges) {
    if (begin != covered)
      throw fail("tensor data overlaps or has a gap at byte " +
                 std::to_string(std::min(begin, covered)));
    covered = end;
  }
  if (covered != dataSize)
    throw fail(std::to_string(dataSize - covered) +
               " bytes after the last tensor are not indexed by the header");
  return file;
}

void writeSafetensors(const std::string &path, const SafetensorsFile &file) {
  writeFileAtomically(path, serializeSafetensors(file));
}

SafetensorsFile readSafetensors(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw IoError("cannot open safetensors file " + path + ": " +
                  std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad())
    throw IoError("cannot read safetensors file " + path);
  return parseSafetensors(bytes, path);
}

} // namespace kdrt::io

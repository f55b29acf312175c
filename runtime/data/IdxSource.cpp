//===- IdxSource.cpp - MNIST-style IDX files ------------------------------===//

#include "kdrt/data/IdxSource.h"

#include "FileBytes.h"
#include "kdrt/data/DataError.h"

#include <algorithm>
#include <filesystem>
#include <vector>

namespace kdrt::data {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr size_t kIdxHeaderBytes = 4;

struct IdxArray {
  std::vector<uint32_t> dims;
  size_t dataOffset = 0;
};

uint32_t readBigEndian32(const uint8_t *bytes) {
  return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) |
         (uint32_t(bytes[2]) << 8) | uint32_t(bytes[3]);
}

/// Parses the magic number and dimensions, checking them against what the
/// caller expects (rank and element type) and that the data that follows is
/// complete.
IdxArray parseIdxHeader(const std::vector<uint8_t> &bytes,
                        const std::string &path, uint8_t expectedRank,
                        const char *what) {
  if (bytes.size() < kIdxHeaderBytes)
    throw DataError("file " + path + " is truncated: expected an IDX header "
                    "of 4 bytes, found " + std::to_string(bytes.size()));
  if (bytes[0] != 0 || bytes[1] != 0)
    throw DataError("file " + path + " is not an IDX file: bad magic number");
  if (bytes[2] != kUnsignedByteType)
    throw DataError("file " + path + " holds IDX element type " +
                    std::to_string(bytes[2]) +
                    "; only unsigned bytes (type 8) are supported");
  if (bytes[3] != expectedRank)
    throw DataError("file " + path + " has " + std::to_string(bytes[3]) +
                    " dimensions; " + what + " need " +
                    std::to_string(expectedRank));
  IdxArray array;
  array.dataOffset = kIdxHeaderBytes + 4 * size_t(expectedRank);
  if (bytes.size() < array.dataOffset)
    throw DataError("file " + path + " is truncated: expected " +
                    std::to_string(array.dataOffset) +
                    " bytes of header, found " + std::to_string(bytes.size()));
  uint64_t elements = 1;
  for (size_t d = 0; d < expectedRank; ++d) {
    uint32_t dim = readBigEndian32(bytes.data() + kIdxHeaderBytes + 4 * d);
    if (dim == 0 && d > 0)
      throw DataError("file " + path + " has an empty dimension " +
                      std::to_string(d));
    array.dims.push_back(dim);
    elements *= dim;
  }
  uint64_t available = bytes.size() - array.dataOffset;
  if (available < elements)
    throw DataError("file " + path + " is truncated: expected " +
                    std::to_string(elements) + " bytes of " + what +
                    " data, found " + std::to_string(available));
  return array;
}

std::string findIdxFile(const std::string &root, const std::string &stem) {
  namespace fs = std::filesystem;
  for (const char *suffix : {".gz", ""}) {
    fs::path candidate = fs::path(root) / (stem + suffix);
    std::error_code error;
    if (fs::is_regular_file(candidate, error))
      return candidate.string();
  }
  throw DataError("no IDX file " + stem + " or " + stem + ".gz in " + root);
}

} // namespace

ImageDataset loadIdxImages(const std::string &imagesPath) {
  std::vector<uint8_t> bytes = readMaybeGzippedFile(imagesPath);
  IdxArray array = parseIdxHeader(bytes, imagesPath, 3, "image");
  ImageDataset dataset;
  dataset.count = array.dims[0];
  dataset.channels = 1;
  dataset.height = array.dims[1];
  dataset.width = array.dims[2];
  size_t total = dataset.count * dataset.imageBytes();
  dataset.pixels.assign(bytes.begin() + array.dataOffset,
                        bytes.begin() + array.dataOffset + total);
  return dataset;
}

ImageDataset loadIdx(const std::string &imagesPath,
                     const std::string &labelsPath, int32_t numClasses) {
  if (numClasses < 0)
    throw DataError("the number of classes must not be negative");
  ImageDataset dataset = loadIdxImages(imagesPath);
  std::vector<uint8_t> bytes = readMaybeGzippedFile(labelsPath);
  IdxArray array = parseIdxHeader(bytes, labelsPath, 1, "label");
  if (int64_t(array.dims[0]) != dataset.count)
    throw DataError("labels file " + labelsPath + " has " +
                    std::to_string(array.dims[0]) + " labels but images file " +
                    imagesPath + " has " + std::to_string(dataset.count) +
                    " images");
  dataset.labels.reserve(dataset.count);
  int32_t largest = -1;
  for (int64_t i = 0; i < dataset.count; ++i) {
    int32_t label = bytes[array.dataOffset + i];
    if (numClasses > 0 && label >= numClasses)
      throw DataError("labels file " + labelsPath + ": label " +
                      std::to_string(label) + " of image " + std::to_string(i) +
                      " is out of range for " + std::to_string(numClasses) +
                      " classes");
    largest = std::max(largest, label);
    dataset.labels.push_back(label);
  }
  dataset.numClasses = numClasses > 0 ? numClasses : largest + 1;
  return dataset;
}

ImageDataset loadIdxSplit(const std::string &root, const std::string &split,
                          int32_t numClasses) {
  std::string images = findIdxFile(root, split + "-images-idx3-ubyte");
  std::string labels = findIdxFile(root, split + "-labels-idx1-ubyte");
  return loadIdx(images, labels, numClasses);
}

} // namespace kdrt::data

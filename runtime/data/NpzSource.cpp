//===- NpzSource.cpp - MedMNIST-style .npz archives -----------------------===//

#include "kdrt/data/NpzSource.h"

#include "kdrt/data/DataError.h"
#include "kdrt/data/NpyArray.h"
#include "kdrt/data/ZipArchive.h"

#include <algorithm>

namespace kdrt::data {
namespace {

std::string describeShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

} // namespace

ImageDataset loadNpzSplit(const std::string &path, const std::string &split,
                          int32_t numClasses) {
  if (numClasses < 0)
    throw DataError("the number of classes must not be negative");
  ZipArchive archive(path);
  std::string imagesEntry = split + "_images.npy";
  std::string labelsEntry = split + "_labels.npy";
  if (!archive.contains(imagesEntry))
    throw DataError("npz archive " + path + " has no array " + split +
                    "_images (split '" + split + "')");

  std::string imagesSource = path + ":" + imagesEntry;
  NpyArray images = parseNpy(archive.read(imagesEntry), imagesSource);
  if (images.dtype != "|u1")
    throw DataError("npy array " + imagesSource + " has dtype " +
                    images.dtype + "; images must be uint8 ('|u1')");
  const std::vector<int64_t> &shape = images.shape;
  bool gray = shape.size() == 3;
  bool rgb = shape.size() == 4 && shape[3] == 3;
  if (!gray && !rgb)
    throw DataError("npy array " + imagesSource + " has shape " +
                    describeShape(shape) + "; expected [N,H,W] or [N,H,W,3]");

  ImageDataset dataset;
  dataset.count = shape[0];
  dataset.height = shape[1];
  dataset.width = shape[2];
  dataset.channels = gray ? 1 : 3;
  if (gray) {
    dataset.pixels = std::move(images.data);
  } else {
    // Interleaved NHWC to planar NCHW.
    dataset.pixels.resize(images.data.size());
    int64_t plane = dataset.height * dataset.width;
    for (int64_t n = 0; n < dataset.count; ++n) {
      const uint8_t *in = images.data.data() + n * plane * 3;
      uint8_t *out = dataset.pixels.data() + n * plane * 3;
      for (int64_t p = 0; p < plane; ++p)
        for (int64_t c = 0; c < 3; ++c)
          out[c * plane + p] = in[p * 3 + c];
    }
  }

  if (!archive.contains(labelsEntry))
    return dataset;
  std::string labelsSource = path + ":" + labelsEntry;
  NpyArray labels = parseNpy(archive.read(labelsEntry), labelsSource);
  bool columnOfLabels = labels.shape.size() == 2 && labels.shape[1] == 1;
  if (labels.shape.size() != 1 && !columnOfLabels)
    throw DataError("npy array " + labelsSource + " has shape " +
                    describeShape(labels.shape) +
                    "; expected [N] or [N,1] (multi-label data is not "
                    "supported)");
  if (labels.shape[0] != dataset.count)
    throw DataError("npz archive " + path + ": " + split + "_labels has " +
                    std::to_string(labels.shape[0]) + " labels but " + split +
                    "_images has " + std::to_string(dataset.count) +
                    " images");
  int64_t largest = -1;
  dataset.labels.reserve(dataset.count);
  for (int64_t i = 0; i < dataset.count; ++i) {
    int64_t label = labels.integerAt(i);
    if (label < 0 || (numClasses > 0 && label >= numClasses) ||
        label > INT32_MAX)
      throw DataError("npy array " + labelsSource + ": label " +
                      std::to_string(label) + " of image " + std::to_string(i) +
                      " is out of range" +
                      (numClasses > 0
                           ? " for " + std::to_string(numClasses) + " classes"
                           : std::string()));
    largest = std::max(largest, label);
    dataset.labels.push_back(int32_t(label));
  }
  dataset.numClasses = numClasses > 0 ? numClasses : int32_t(largest + 1);
  return dataset;
}

} // namespace kdrt::data

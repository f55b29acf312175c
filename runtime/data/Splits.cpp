//===- Splits.cpp - Parts of a dataset ------------------------------------===//

#include "kdrt/data/Splits.h"

#include "kdrt/data/DataError.h"
#include "kdrt/data/DecodedImage.h"
#include "kdrt/data/ImageResize.h"
#include "kdrt/data/SampleRng.h"

#include <algorithm>

namespace kdrt::data {
namespace {

ImageDataset emptyLike(const ImageDataset &dataset) {
  ImageDataset result;
  result.channels = dataset.channels;
  result.height = dataset.height;
  result.width = dataset.width;
  result.numClasses = dataset.numClasses;
  result.classNames = dataset.classNames;
  return result;
}

} // namespace

ImageDataset selectImages(const ImageDataset &dataset,
                          const std::vector<int64_t> &indices) {
  ImageDataset result = emptyLike(dataset);
  size_t imageBytes = dataset.imageBytes();
  result.pixels.reserve(indices.size() * imageBytes);
  for (int64_t index : indices) {
    if (index < 0 || index >= dataset.count)
      throw DataError("image index " + std::to_string(index) +
                      " is out of range for a split of " +
                      std::to_string(dataset.count) + " images");
    const uint8_t *image = dataset.image(index);
    result.pixels.insert(result.pixels.end(), image, image + imageBytes);
    if (dataset.isLabeled())
      result.labels.push_back(dataset.labels[index]);
  }
  result.count = int64_t(indices.size());
  return result;
}

ImageDataset sliceDataset(const ImageDataset &dataset, int64_t begin,
                          std::optional<int64_t> end) {
  int64_t last = end.value_or(dataset.count);
  if (begin < 0 || last > dataset.count || begin > last)
    throw DataError("slice [" + std::to_string(begin) + ".." +
                    (end ? std::to_string(*end) : std::string()) +
                    ") is out of range for a split of " +
                    std::to_string(dataset.count) + " images");
  std::vector<int64_t> indices(size_t(last - begin));
  for (int64_t i = begin; i < last; ++i)
    indices[size_t(i - begin)] = i;
  return selectImages(dataset, indices);
}

ImageDataset fewShotSubset(const ImageDataset &dataset, int64_t shotsPerClass,
                           uint64_t seed) {
  if (!dataset.isLabeled())
    throw DataError("a few-shot subset needs a labeled split");
  if (shotsPerClass <= 0)
    throw DataError("a few-shot subset needs at least one image per class, "
                    "not " + std::to_string(shotsPerClass));
  int32_t classes = dataset.numClasses;
  for (int32_t label : dataset.labels) {
    if (label < 0)
      throw DataError("label " + std::to_string(label) + " is negative");
    classes = std::max(classes, label + 1);
  }
  std::vector<std::vector<int64_t>> byClass(static_cast<size_t>(classes));
  for (int64_t i = 0; i < dataset.count; ++i)
    byClass[size_t(dataset.labels[i])].push_back(i);

  std::vector<int64_t> chosen;
  for (int32_t label = 0; label < classes; ++label) {
    std::vector<int64_t> &members = byClass[size_t(label)];
    if (int64_t(members.size()) < shotsPerClass)
      throw DataError("class " + std::to_string(label) + " has only " +
                      std::to_string(members.size()) + " images; " +
                      std::to_string(shotsPerClass) + " shots were asked for");
    // A partial Fisher-Yates shuffle keyed by class, so adding a class to the
    // data does not change the images drawn for the others.
    SampleRng rng(seed, RandomStream::FewShot, 0, uint64_t(label));
    for (int64_t k = 0; k < shotsPerClass; ++k) {
      int64_t pick = k + int64_t(rng.below(uint64_t(members.size() - k)));
      std::swap(members[size_t(k)], members[size_t(pick)]);
      chosen.push_back(members[size_t(k)]);
    }
  }
  std::sort(chosen.begin(), chosen.end());
  return selectImages(dataset, chosen);
}

ImageDataset joinDatasets(const std::vector<const ImageDataset *> &parts) {
  if (parts.empty())
    throw DataError("a union of splits needs at least one split");
  ImageDataset result = emptyLike(*parts.front());
  bool labeled = true;
  for (const ImageDataset *part : parts) {
    if (part->channels != result.channels || part->height != result.height ||
        part->width != result.width)
      throw DataError("a union joins images of one size, not " +
                      std::to_string(result.channels) + "x" +
                      std::to_string(result.height) + "x" +
                      std::to_string(result.width) + " and " +
                      std::to_string(part->channels) + "x" +
                      std::to_string(part->height) + "x" +
                      std::to_string(part->width));
    labeled = labeled && part->isLabeled();
    result.numClasses = std::max(result.numClasses, part->numClasses);
  }
  for (const ImageDataset *part : parts) {
    result.pixels.insert(result.pixels.end(), part->pixels.begin(),
                         part->pixels.end());
    if (labeled)
      result.labels.insert(result.labels.end(), part->labels.begin(),
                           part->labels.end());
    result.count += part->count;
  }
  return result;
}

ImageDataset withoutLabels(const ImageDataset &dataset) {
  ImageDataset result = dataset;
  result.labels.clear();
  return result;
}

ImageDataset conformImages(const ImageDataset &dataset, int64_t channels,
                           int64_t height, int64_t width) {
  if (channels != 1 && channels != 3)
    throw DataError("images can be converted to 1 or 3 channels, not " +
                    std::to_string(channels));
  ImageDataset result = emptyLike(dataset);
  result.labels = dataset.labels;
  result.count = dataset.count;
  result.channels = channels;
  result.height = height;
  result.width = width;
  result.pixels.reserve(size_t(dataset.count) * result.imageBytes());
  int64_t plane = dataset.height * dataset.width;
  for (int64_t n = 0; n < dataset.count; ++n) {
    // Through the interleaved form the decoders share.
    DecodedImage image;
    image.width = dataset.width;
    image.height = dataset.height;
    image.channels = dataset.channels;
    image.pixels.resize(dataset.imageBytes());
    const uint8_t *planar = dataset.image(n);
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < dataset.channels; ++c)
        image.pixels[p * dataset.channels + c] = planar[c * plane + p];
    DecodedImage converted = convertChannels(image, channels);
    std::vector<uint8_t> back(converted.pixels.size());
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < channels; ++c)
        back[c * plane + p] = converted.pixels[p * channels + c];
    std::vector<uint8_t> resized = resizePlanes(
        back, channels, dataset.height, dataset.width, height, width);
    result.pixels.insert(result.pixels.end(), resized.begin(), resized.end());
  }
  return result;
}

} // namespace kdrt::data

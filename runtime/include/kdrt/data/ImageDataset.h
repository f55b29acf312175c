//===- ImageDataset.h - Images and labels held in memory -------*- C++ -*-===//
//
// The common result of every data source: N images of C x H x W bytes stored
// contiguously (NCHW), and either one int32 label per image or none at all
// (an unlabeled split).
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_IMAGEDATASET_H
#define KDRT_DATA_IMAGEDATASET_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::data {

struct ImageDataset {
  int64_t count = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  /// count * channels * height * width bytes, image-major, then channel,
  /// then row.
  std::vector<uint8_t> pixels;
  /// One label per image, or empty for an unlabeled dataset.
  std::vector<int32_t> labels;
  /// Number of classes labels are drawn from (0 when unknown or unlabeled).
  int32_t numClasses = 0;
  /// Names of the classes when the source has them (image folders).
  std::vector<std::string> classNames;

  bool isLabeled() const { return !labels.empty(); }
  size_t imageBytes() const {
    return static_cast<size_t>(channels * height * width);
  }
  const uint8_t *image(int64_t index) const {
    return pixels.data() + static_cast<size_t>(index) * imageBytes();
  }
  uint8_t *image(int64_t index) {
    return pixels.data() + static_cast<size_t>(index) * imageBytes();
  }
};

} // namespace kdrt::data

#endif // KDRT_DATA_IMAGEDATASET_H

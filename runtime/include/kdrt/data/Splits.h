//===- Splits.h - Parts of a dataset ---------------------------*- C++ -*-===//
//
// Hold-out slices, few-shot subsets, unions and unlabeled views of splits,
// plus conversion of a dataset to the declared channels and size.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_SPLITS_H
#define KDRT_DATA_SPLITS_H

#include "kdrt/data/ImageDataset.h"

#include <optional>

namespace kdrt::data {

/// The images at `indices`, in that order (with their labels).
ImageDataset selectImages(const ImageDataset &dataset,
                          const std::vector<int64_t> &indices);

/// Images [begin, end); no end means up to the last image.
ImageDataset sliceDataset(const ImageDataset &dataset, int64_t begin,
                          std::optional<int64_t> end = std::nullopt);

/// `shotsPerClass` images of every class, chosen by `seed` (the same seed
/// always chooses the same images), kept in their original order.
ImageDataset fewShotSubset(const ImageDataset &dataset, int64_t shotsPerClass,
                           uint64_t seed);

/// The images of every part in order, all of one size; labelled only when
/// every part is (a union with an unlabeled part is unlabeled).
ImageDataset joinDatasets(const std::vector<const ImageDataset *> &parts);

/// The same images with the labels dropped.
ImageDataset withoutLabels(const ImageDataset &dataset);

/// Converts every image to `channels` (1 or 3) and resizes it to
/// height x width.
ImageDataset conformImages(const ImageDataset &dataset, int64_t channels,
                           int64_t height, int64_t width);

} // namespace kdrt::data

#endif // KDRT_DATA_SPLITS_H

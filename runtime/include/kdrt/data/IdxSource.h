//===- IdxSource.h - MNIST-style IDX files ---------------------*- C++ -*-===//
//
// Reads the IDX format of MNIST and Fashion-MNIST: images as a rank-3 ubyte
// array [N, H, W] and labels as a rank-1 ubyte array [N], each either raw or
// gzip-compressed.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_IDXSOURCE_H
#define KDRT_DATA_IDXSOURCE_H

#include "kdrt/data/ImageDataset.h"

#include <string>

namespace kdrt::data {

/// Reads an images file alone, giving an unlabeled dataset of 1-channel
/// images.
ImageDataset loadIdxImages(const std::string &imagesPath);

/// Reads an images file and its labels file. `numClasses` is the declared
/// number of classes; a label >= numClasses is an error. With numClasses = 0
/// the number of classes is the largest label plus one.
ImageDataset loadIdx(const std::string &imagesPath,
                     const std::string &labelsPath, int32_t numClasses = 0);

/// Finds `<root>/<split>-images-idx3-ubyte[.gz]` and the matching labels
/// file (e.g. split "train" or "t10k") and reads both.
ImageDataset loadIdxSplit(const std::string &root, const std::string &split,
                          int32_t numClasses = 0);

} // namespace kdrt::data

#endif // KDRT_DATA_IDXSOURCE_H

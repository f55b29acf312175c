//===- NpzSource.h - MedMNIST-style .npz archives --------------*- C++ -*-===//
//
// A MedMNIST .npz holds `<split>_images` (uint8 [N,H,W] or [N,H,W,3]) and
// `<split>_labels` ([N,1] or [N]) for the splits train, val and test.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_NPZSOURCE_H
#define KDRT_DATA_NPZSOURCE_H

#include "kdrt/data/ImageDataset.h"

#include <string>

namespace kdrt::data {

/// Reads one split ("train", "val", "test", or any prefix present in the
/// archive). When the archive has no `<split>_labels` array the dataset is
/// unlabeled. Labels must lie in [0, numClasses) when numClasses > 0.
ImageDataset loadNpzSplit(const std::string &path, const std::string &split,
                          int32_t numClasses = 0);

} // namespace kdrt::data

#endif // KDRT_DATA_NPZSOURCE_H

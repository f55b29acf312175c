//===- ImageFolderSource.h - Datasets from folders of images ---*- C++ -*-===//
//
// `root/<class>/*.png|jpg|jpeg|bmp` gives a labeled dataset whose classes
// are the sorted subfolder names; a folder with images and no subfolders
// gives an unlabeled dataset. Every image is converted to the declared
// channel count and resized to the declared size.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_IMAGEFOLDERSOURCE_H
#define KDRT_DATA_IMAGEFOLDERSOURCE_H

#include "kdrt/data/ImageDataset.h"

#include <string>

namespace kdrt::data {

struct ImageFolderOptions {
  /// 1 (gray) or 3 (RGB).
  int64_t channels = 3;
  /// Size every image is resized to.
  int64_t height = 0;
  int64_t width = 0;
};

ImageDataset loadImageFolder(const std::string &root,
                             const ImageFolderOptions &options);

} // namespace kdrt::data

#endif // KDRT_DATA_IMAGEFOLDERSOURCE_H

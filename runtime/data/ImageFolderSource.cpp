//===- ImageFolderSource.cpp - Datasets from folders of images ------------===//

#include "kdrt/data/ImageFolderSource.h"

#include "kdrt/data/DataError.h"
#include "kdrt/data/DecodedImage.h"
#include "kdrt/data/ImageResize.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace kdrt::data {
namespace {

namespace fs = std::filesystem;

bool hasImageExtension(const fs::path &path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" ||
         extension == ".bmp";
}

/// Sorted so that the order of images (and thus shuffles and slices) does
/// not depend on the file system's directory order.
std::vector<fs::path> sortedEntries(const fs::path &folder, bool wantFolders) {
  std::vector<fs::path> entries;
  std::error_code error;
  fs::directory_iterator it(folder, error), end;
  if (error)
    throw DataError("cannot list folder " + folder.string() + ": " +
                    error.message());
  for (; it != end; it.increment(error)) {
    if (error)
      throw DataError("cannot list folder " + folder.string() + ": " +
                      error.message());
    std::error_code typeError;
    if (wantFolders ? it->is_directory(typeError)
                    : (it->is_regular_file(typeError) &&
                       hasImageExtension(it->path())))
      entries.push_back(it->path());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

void appendImage(ImageDataset &dataset, const fs::path &file,
                 const ImageFolderOptions &options) {
  DecodedImage decoded =
      convertChannels(decodeImageFile(file.string()), options.channels);
  // Interleaved HWC to planar CHW.
  int64_t planeSize = decoded.height * decoded.width;
  std::vector<uint8_t> planar(decoded.pixels.size());
  for (int64_t p = 0; p < planeSize; ++p)
    for (int64_t c = 0; c < decoded.channels; ++c)
      planar[c * planeSize + p] = decoded.pixels[p * decoded.channels + c];
  std::vector<uint8_t> resized =
      resizePlanes(planar, decoded.channels, decoded.height, decoded.width,
                   options.height, options.width);
  dataset.pixels.insert(dataset.pixels.end(), resized.begin(), resized.end());
  ++dataset.count;
}

} // namespace

ImageDataset loadImageFolder(const std::string &root,
                             const ImageFolderOptions &options) {
  if (options.channels != 1 && options.channels != 3)
    throw DataError("image folder " + root + ": channels must be 1 or 3, not " +
                    std::to_string(options.channels));
  if (options.height <= 0 || options.width <= 0)
    throw DataError("image folder " + root + ": the image size must be "
                    "declared (got " + std::to_string(options.height) + "x" +
                    std::to_string(options.width) + ")");
  std::error_code error;
  if (!fs::is_directory(root, error))
    throw DataError("image folder " + root + " does not exist or is not a "
                    "folder");

  ImageDataset dataset;
  dataset.channels = options.channels;
  dataset.height = options.height;
  dataset.width = options.width;

  std::vector<fs::path> classFolders = sortedEntries(root, true);
  if (classFolders.empty()) {
    for (const fs::path &file : sortedEntries(root, false))
      appendImage(dataset, file, options);
    if (dataset.count == 0)
      throw DataError("image folder " + root + " holds no .png, .jpg, .jpeg "
                      "or .bmp images");
    return dataset;
  }

  for (const fs::path &folder : classFolders) {
    int32_t label = int32_t(dataset.classNames.size());
    dataset.classNames.push_back(folder.filename().string());
    std::vector<fs::path> files = sortedEntries(folder, false);
    if (files.empty())
      throw DataError("class folder " + folder.string() + " holds no images");
    for (const fs::path &file : files) {
      appendImage(dataset, file, options);
      dataset.labels.push_back(label);
    }
  }
  dataset.numClasses = int32_t(dataset.classNames.size());
  return dataset;
}

} // namespace kdrt::data

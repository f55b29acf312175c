//===- DecodedImage.h - One image decoded from PNG, JPEG or BMP -*- C++ -*-===//
//
// Decoders for the image formats of image folders. Each returns 8-bit pixels
// with one (gray) or three (RGB) interleaved channels; palettes, alpha and
// 16-bit samples are converted on the way. Corrupt input raises DataError
// naming the file.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_DECODEDIMAGE_H
#define KDRT_DATA_DECODEDIMAGE_H

#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::data {

struct DecodedImage {
  int64_t width = 0;
  int64_t height = 0;
  /// 1 for gray, 3 for RGB.
  int64_t channels = 0;
  /// height * width * channels bytes, row-major, channels interleaved.
  std::vector<uint8_t> pixels;
};

/// `source` names the file in error messages.
DecodedImage decodePng(const std::vector<uint8_t> &bytes,
                       const std::string &source);
DecodedImage decodeJpeg(const std::vector<uint8_t> &bytes,
                        const std::string &source);
DecodedImage decodeBmp(const std::vector<uint8_t> &bytes,
                       const std::string &source);

/// Reads a file and picks the decoder from its leading bytes.
DecodedImage decodeImageFile(const std::string &path);

/// Converts to 1 channel (ITU-R BT.601 luma) or 3 channels (gray
/// replicated).
DecodedImage convertChannels(const DecodedImage &image, int64_t channels);

} // namespace kdrt::data

#endif // KDRT_DATA_DECODEDIMAGE_H

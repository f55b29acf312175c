//===- DecodeImageFile.cpp - Pick a decoder, convert channels -------------===//

#include "FileBytes.h"
#include "kdrt/data/DataError.h"
#include "kdrt/data/DecodedImage.h"

namespace kdrt::data {

DecodedImage decodeImageFile(const std::string &path) {
  std::vector<uint8_t> bytes = readFileBytes(path);
  // Formats are recognised by content, not by extension, so that a
  // misnamed file still decodes and a corrupt one gets the right message.
  if (bytes.size() >= 8 && bytes[0] == 0x89 && bytes[1] == 'P' &&
      bytes[2] == 'N' && bytes[3] == 'G')
    return decodePng(bytes, path);
  if (bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8)
    return decodeJpeg(bytes, path);
  if (bytes.size() >= 2 && bytes[0] == 'B' && bytes[1] == 'M')
    return decodeBmp(bytes, path);
  throw DataError("file " + path +
                  " is not a PNG, JPEG or BMP image (unrecognised signature)");
}

DecodedImage convertChannels(const DecodedImage &image, int64_t channels) {
  if (channels != 1 && channels != 3)
    throw DataError("images can be converted to 1 or 3 channels, not " +
                    std::to_string(channels));
  if (image.channels == channels)
    return image;
  DecodedImage converted;
  converted.width = image.width;
  converted.height = image.height;
  converted.channels = channels;
  size_t pixels = size_t(image.width) * image.height;
  converted.pixels.resize(pixels * channels);
  if (channels == 3) {
    for (size_t p = 0; p < pixels; ++p)
      for (int c = 0; c < 3; ++c)
        converted.pixels[3 * p + c] = image.pixels[p];
    return converted;
  }
  for (size_t p = 0; p < pixels; ++p) {
    const uint8_t *rgb = image.pixels.data() + 3 * p;
    // Integer BT.601 luma weights (sum 1000) with rounding.
    unsigned luma = (299u * rgb[0] + 587u * rgb[1] + 114u * rgb[2] + 500u) / 1000u;
    converted.pixels[p] = static_cast<uint8_t>(luma);
  }
  return converted;
}

} // namespace kdrt::data

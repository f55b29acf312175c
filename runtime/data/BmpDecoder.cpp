//===- BmpDecoder.cpp - Uncompressed 24-bit and 8-bit BMP -----------------===//
//
// A hand-written reader for the two BMP variants image datasets use:
// uncompressed 24-bit BGR and 8-bit palettized. Every offset read from the
// file is checked against the file size before use.
//
//===----------------------------------------------------------------------===//

#include "kdrt/data/DataError.h"
#include "kdrt/data/DecodedImage.h"

namespace kdrt::data {
namespace {

constexpr size_t kFileHeaderBytes = 14;
constexpr uint32_t kInfoHeaderBytes = 40;
constexpr uint32_t kUncompressed = 0;
constexpr int64_t kMaxDimension = 1 << 15;

uint32_t readLittle32(const std::vector<uint8_t> &bytes, size_t offset) {
  return uint32_t(bytes[offset]) | (uint32_t(bytes[offset + 1]) << 8) |
         (uint32_t(bytes[offset + 2]) << 16) |
         (uint32_t(bytes[offset + 3]) << 24);
}

uint16_t readLittle16(const std::vector<uint8_t> &bytes, size_t offset) {
  return uint16_t(bytes[offset] | (bytes[offset + 1] << 8));
}

} // namespace

DecodedImage decodeBmp(const std::vector<uint8_t> &bytes,
                       const std::string &source) {
  auto fail = [&](const std::string &problem) {
    return DataError("corrupt BMP image " + source + ": " + problem);
  };
  if (bytes.size() < 2 || bytes[0] != 'B' || bytes[1] != 'M')
    throw DataError("file " + source + " is not a BMP image: bad signature");
  if (bytes.size() < kFileHeaderBytes + kInfoHeaderBytes)
    throw fail("file is truncated inside its headers");
  uint32_t pixelOffset = readLittle32(bytes, 10);
  uint32_t infoBytes = readLittle32(bytes, 14);
  if (infoBytes < kInfoHeaderBytes)
    throw fail("unsupported BMP header of " + std::to_string(infoBytes) +
               " bytes (OS/2 bitmaps are not supported)");
  int32_t width = int32_t(readLittle32(bytes, 18));
  int32_t signedHeight = int32_t(readLittle32(bytes, 22));
  uint16_t planes = readLittle16(bytes, 26);
  uint16_t bitsPerPixel = readLittle16(bytes, 28);
  uint32_t compression = readLittle32(bytes, 30);
  uint32_t paletteColors = readLittle32(bytes, 46);

  // A negative height marks rows stored top-down instead of bottom-up.
  bool topDown = signedHeight < 0;
  int64_t height = topDown ? -int64_t(signedHeight) : int64_t(signedHeight);
  if (width <= 0 || height <= 0 || width > kMaxDimension ||
      height > kMaxDimension)
    throw fail("invalid size " + std::to_string(width) + "x" +
               std::to_string(height));
  if (planes != 1)
    throw fail("invalid plane count " + std::to_string(planes));
  if (compression != kUncompressed)
    throw fail("compressed BMP (method " + std::to_string(compression) +
               ") is not supported");
  if (bitsPerPixel != 24 && bitsPerPixel != 8)
    throw fail(std::to_string(bitsPerPixel) +
               "-bit BMP is not supported; use 24-bit or 8-bit");

  DecodedImage image;
  image.width = width;
  image.height = height;
  size_t stride = (size_t(bitsPerPixel) * width + 31) / 32 * 4;
  if (pixelOffset > bytes.size() ||
      bytes.size() - pixelOffset < stride * size_t(height))
    throw fail("pixel data is truncated: expected " +
               std::to_string(stride * height) + " bytes at offset " +
               std::to_string(pixelOffset) + ", file has " +
               std::to_string(bytes.size()) + " bytes");

  auto sourceRow = [&](int64_t y) {
    int64_t stored = topDown ? y : height - 1 - y;
    return bytes.data() + pixelOffset + size_t(stored) * stride;
  };

  if (bitsPerPixel == 24) {
    image.channels = 3;
    image.pixels.resize(size_t(width) * height * 3);
    for (int64_t y = 0; y < height; ++y) {
      const uint8_t *in = sourceRow(y);
      uint8_t *out = image.pixels.data() + size_t(y) * width * 3;
      for (int32_t x = 0; x < width; ++x) {
        out[3 * x + 0] = in[3 * x + 2];
        out[3 * x + 1] = in[3 * x + 1];
        out[3 * x + 2] = in[3 * x + 0];
      }
    }
    return image;
  }

  // 8-bit: a palette of BGRx entries follows the info header.
  if (paletteColors == 0)
    paletteColors = 256;
  if (paletteColors > 256)
    throw fail("palette of " + std::to_string(paletteColors) +
               " colors is larger than 256");
  size_t paletteOffset = kFileHeaderBytes + infoBytes;
  if (paletteOffset > bytes.size() ||
      (bytes.size() - paletteOffset) / 4 < paletteColors ||
      paletteOffset + 4 * size_t(paletteColors) > pixelOffset)
    throw fail("palette is truncated or overlaps the pixel data");
  const uint8_t *palette = bytes.data() + paletteOffset;
  bool gray = true;
  for (uint32_t c = 0; c < paletteColors; ++c)
    gray = gray && palette[4 * c] == palette[4 * c + 1] &&
           palette[4 * c + 1] == palette[4 * c + 2];
  image.channels = gray ? 1 : 3;
  image.pixels.resize(size_t(width) * height * image.channels);
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t *in = sourceRow(y);
    uint8_t *out = image.pixels.data() + size_t(y) * width * image.channels;
    for (int32_t x = 0; x < width; ++x) {
      uint8_t index = in[x];
      if (index >= paletteColors)
        throw fail("pixel (" + std::to_string(x) + ", " + std::to_string(y) +
                   ") uses color " + std::to_string(index) +
                   " outside the palette of " +
                   std::to_string(paletteColors));
      const uint8_t *entry = palette + 4 * size_t(index);
      if (gray) {
        out[x] = entry[0];
      } else {
        out[3 * x + 0] = entry[2];
        out[3 * x + 1] = entry[1];
        out[3 * x + 2] = entry[0];
      }
    }
  }
  return image;
}

} // namespace kdrt::data

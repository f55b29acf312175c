//===- PngDecoder.cpp - PNG through libpng --------------------------------===//
//
// libpng reports errors by longjmp. The decoding function below keeps only
// trivially destructible locals alive across setjmp so that the jump skips no
// destructor; the pixel buffer is sized before setjmp is armed.
//
//===----------------------------------------------------------------------===//

#include "kdrt/data/DataError.h"
#include "kdrt/data/DecodedImage.h"

#include <csetjmp>
#include <cstring>
#include <png.h>

namespace kdrt::data {
namespace {

struct PngReadState {
  const uint8_t *data;
  size_t size;
  size_t offset;
  char error[256];
};

void readFromMemory(png_structp png, png_bytep out, png_size_t length) {
  auto *state = static_cast<PngReadState *>(png_get_io_ptr(png));
  if (length > state->size - state->offset)
    png_error(png, "unexpected end of data");
  std::memcpy(out, state->data + state->offset, length);
  state->offset += length;
}

void recordError(png_structp png, png_const_charp message) {
  auto *state = static_cast<PngReadState *>(png_get_error_ptr(png));
  std::strncpy(state->error, message ? message : "unknown libpng error",
               sizeof(state->error) - 1);
  state->error[sizeof(state->error) - 1] = '\0';
  png_longjmp(png, 1);
}

void ignoreWarning(png_structp, png_const_charp) {}

struct PngHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngHandles() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

/// Reads the header and sets up the conversions to 8-bit gray or RGB.
/// Returns false when libpng raised an error (message in state.error).
bool readHeader(PngHandles &handles, PngReadState &state, uint32_t &width,
                uint32_t &height, int &channels) {
  png_structp png = handles.png;
  png_infop info = handles.info;
  if (setjmp(png_jmpbuf(png)))
    return false;
  png_set_read_fn(png, &state, readFromMemory);
  // Bound the size of the image so that a forged header cannot ask for
  // gigabytes.
  png_set_user_limits(png, 1u << 15, 1u << 15);
  png_read_info(png, info);
  width = png_get_image_width(png, info);
  height = png_get_image_height(png, info);
  int colorType = png_get_color_type(png, info);
  png_set_expand(png); // palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha
  png_set_strip_16(png);
  if (colorType & PNG_COLOR_MASK_ALPHA || png_get_valid(png, info, PNG_INFO_tRNS))
    png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  channels = png_get_channels(png, info);
  return true;
}

bool readRows(PngHandles &handles, png_bytep *rows) {
  if (setjmp(png_jmpbuf(handles.png)))
    return false;
  png_read_image(handles.png, rows);
  png_read_end(handles.png, nullptr);
  return true;
}

} // namespace

DecodedImage decodePng(const std::vector<uint8_t> &bytes,
                       const std::string &source) {
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0)
    throw DataError("file " + source + " is not a PNG image: bad signature");
  PngReadState state{bytes.data(), bytes.size(), 0, {0}};
  PngHandles handles;
  handles.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state,
                                       recordError, ignoreWarning);
  if (!handles.png)
    throw DataError("cannot decode PNG " + source + ": out of memory");
  handles.info = png_create_info_struct(handles.png);
  if (!handles.info)
    throw DataError("cannot decode PNG " + source + ": out of memory");

  uint32_t width = 0, height = 0;
  int channels = 0;
  if (!readHeader(handles, state, width, height, channels))
    throw DataError("corrupt PNG image " + source + ": " + state.error);
  if (channels != 1 && channels != 3)
    throw DataError("PNG image " + source + " has " + std::to_string(channels) +
                    " channels after conversion; expected 1 or 3");

  DecodedImage image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.pixels.resize(size_t(width) * height * channels);
  std::vector<png_bytep> rows(height);
  for (uint32_t y = 0; y < height; ++y)
    rows[y] = image.pixels.data() + size_t(y) * width * channels;
  if (!readRows(handles, rows.data()))
    throw DataError("corrupt PNG image " + source + ": " + state.error);
  return image;
}

} // namespace kdrt::data

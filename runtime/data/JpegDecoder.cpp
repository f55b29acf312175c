//===- JpegDecoder.cpp - JPEG through libjpeg -----------------------------===//
//
// libjpeg's default error handler calls exit(). We install an error_exit that
// records the message and longjmps back, and keep only trivially destructible
// locals alive across setjmp.
//
//===----------------------------------------------------------------------===//

#include "kdrt/data/DataError.h"
#include "kdrt/data/DecodedImage.h"

#include <csetjmp>
#include <cstdio>
#include <jpeglib.h>

namespace kdrt::data {
namespace {

struct JpegErrorManager {
  jpeg_error_mgr base; // first member: libjpeg hands us a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jumpOnError(j_common_ptr info) {
  auto *manager = reinterpret_cast<JpegErrorManager *>(info->err);
  info->err->format_message(info, manager->message);
  std::longjmp(manager->jump, 1);
}

void ignoreMessage(j_common_ptr, int) {}

struct JpegDecompressor {
  jpeg_decompress_struct info;
  JpegErrorManager errors;
  bool created = false;
  ~JpegDecompressor() {
    if (created)
      jpeg_destroy_decompress(&info);
  }
};

/// Returns false when libjpeg raised an error (message in errors.message).
bool readHeader(JpegDecompressor &jpeg, const std::vector<uint8_t> &bytes) {
  jpeg.info.err = jpeg_std_error(&jpeg.errors.base);
  jpeg.errors.base.error_exit = jumpOnError;
  jpeg.errors.base.emit_message = ignoreMessage;
  if (setjmp(jpeg.errors.jump))
    return false;
  jpeg_create_decompress(&jpeg.info);
  jpeg.created = true;
  jpeg_mem_src(&jpeg.info, const_cast<unsigned char *>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&jpeg.info, TRUE);
  return true;
}

bool startDecompress(JpegDecompressor &jpeg) {
  if (setjmp(jpeg.errors.jump))
    return false;
  jpeg.info.out_color_space =
      jpeg.info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&jpeg.info);
  return true;
}

bool readScanlines(JpegDecompressor &jpeg, uint8_t *pixels, size_t stride) {
  if (setjmp(jpeg.errors.jump))
    return false;
  while (jpeg.info.output_scanline < jpeg.info.output_height) {
    JSAMPROW row = pixels + size_t(jpeg.info.output_scanline) * stride;
    jpeg_read_scanlines(&jpeg.info, &row, 1);
  }
  jpeg_finish_decompress(&jpeg.info);
  return true;
}

} // namespace

DecodedImage decodeJpeg(const std::vector<uint8_t> &bytes,
                        const std::string &source) {
  if (bytes.size() < 3 || bytes[0] != 0xFF || bytes[1] != 0xD8)
    throw DataError("file " + source + " is not a JPEG image: bad signature");
  JpegDecompressor jpeg;
  if (!readHeader(jpeg, bytes))
    throw DataError("corrupt JPEG image " + source + ": " +
                    jpeg.errors.message);
  if (jpeg.info.num_components != 1 && jpeg.info.num_components != 3)
    throw DataError("JPEG image " + source + " has " +
                    std::to_string(jpeg.info.num_components) +
                    " components; only gray and RGB/YCbCr are supported");
  if (jpeg.info.image_width > (1u << 15) || jpeg.info.image_height > (1u << 15))
    throw DataError("JPEG image " + source + " is too large");
  if (!startDecompress(jpeg))
    throw DataError("corrupt JPEG image " + source + ": " +
                    jpeg.errors.message);

  DecodedImage image;
  image.width = jpeg.info.output_width;
  image.height = jpeg.info.output_height;
  image.channels = jpeg.info.output_components;
  size_t stride = size_t(image.width) * image.channels;
  image.pixels.resize(stride * image.height);
  if (!readScanlines(jpeg, image.pixels.data(), stride))
    throw DataError("corrupt JPEG image " + source + ": " +
                    jpeg.errors.message);
  return image;
}

} // namespace kdrt::data

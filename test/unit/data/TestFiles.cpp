//===- TestFiles.cpp - Writing small data files for the runtime tests -----===//

#include "TestFiles.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <jpeglib.h>
#include <png.h>
#include <stdexcept>
#include <unistd.h>
#include <zlib.h>

namespace kdrt::test {
namespace fs = std::filesystem;

TemporaryFolder::TemporaryFolder() {
  std::string pattern =
      (fs::temp_directory_path() / "kdrt-data-test-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!::mkdtemp(buffer.data()))
    throw std::runtime_error("cannot create a temporary folder");
  root = buffer.data();
}

TemporaryFolder::~TemporaryFolder() {
  std::error_code ignored;
  fs::remove_all(root, ignored);
}

std::string TemporaryFolder::file(const std::string &name) const {
  fs::path path = fs::path(root) / name;
  fs::create_directories(path.parent_path());
  return path.string();
}

void writeBytes(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            std::streamsize(bytes.size()));
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

std::vector<uint8_t> idxBytes(const std::vector<uint32_t> &dims,
                              const std::vector<uint8_t> &data) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t dim : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(uint8_t(dim >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void writeGzip(const std::string &path, const std::vector<uint8_t> &bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  if (!file || gzwrite(file, bytes.data(), unsigned(bytes.size())) !=
                   int(bytes.size()))
    throw std::runtime_error("cannot write " + path);
  gzclose(file);
}

namespace {

void writePngWith(const std::string &path, int width, int height,
                  int colorType, const std::vector<uint8_t> &rowsData,
                  int bytesPerPixel, const std::vector<png_color> &palette) {
  std::FILE *out = std::fopen(path.c_str(), "wb");
  if (!out)
    throw std::runtime_error("cannot write " + path);
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(out);
    throw std::runtime_error("libpng failed writing " + path);
  }
  png_init_io(png, out);
  png_set_IHDR(png, info, width, height, 8, colorType, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty())
    png_set_PLTE(png, info, palette.data(), int(palette.size()));
  png_write_info(png, info);
  for (int y = 0; y < height; ++y)
    png_write_row(png, const_cast<png_bytep>(rowsData.data() +
                                             size_t(y) * width * bytesPerPixel));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(out);
}

} // namespace

void writePng(const std::string &path, int width, int height, int channels,
              const std::vector<uint8_t> &pixels) {
  writePngWith(path, width, height,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, pixels,
               channels, {});
}

void writePalettePng(const std::string &path, int width, int height,
                     const std::vector<uint8_t> &paletteRgb,
                     const std::vector<uint8_t> &indices) {
  std::vector<png_color> palette;
  for (size_t i = 0; i + 2 < paletteRgb.size(); i += 3)
    palette.push_back({paletteRgb[i], paletteRgb[i + 1], paletteRgb[i + 2]});
  writePngWith(path, width, height, PNG_COLOR_TYPE_PALETTE, indices, 1,
               palette);
}

void writeJpeg(const std::string &path, int width, int height, int channels,
               const std::vector<uint8_t> &pixels, int quality) {
  std::FILE *out = std::fopen(path.c_str(), "wb");
  if (!out)
    throw std::runtime_error("cannot write " + path);
  jpeg_compress_struct info;
  jpeg_error_mgr errors;
  info.err = jpeg_std_error(&errors);
  jpeg_create_compress(&info);
  jpeg_stdio_dest(&info, out);
  info.image_width = width;
  info.image_height = height;
  info.input_components = channels;
  info.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(
        pixels.data() + size_t(info.next_scanline) * width * channels);
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::fclose(out);
}

namespace {
void put16(std::vector<uint8_t> &bytes, uint32_t value) {
  bytes.push_back(uint8_t(value));
  bytes.push_back(uint8_t(value >> 8));
}
void put32(std::vector<uint8_t> &bytes, uint32_t value) {
  put16(bytes, value & 0xFFFF);
  put16(bytes, value >> 16);
}
} // namespace

void writeBmp24(const std::string &path, int width, int height,
                const std::vector<uint8_t> &rgb) {
  uint32_t stride = (24u * width + 31) / 32 * 4;
  uint32_t pixelBytes = stride * height;
  std::vector<uint8_t> bytes = {'B', 'M'};
  put32(bytes, 54 + pixelBytes);
  put32(bytes, 0);
  put32(bytes, 54);
  put32(bytes, 40);
  put32(bytes, uint32_t(width));
  put32(bytes, uint32_t(height));
  put16(bytes, 1);
  put16(bytes, 24);
  for (int i = 0; i < 6; ++i)
    put32(bytes, 0); // compression, size, resolution, palette counts
  for (int y = height - 1; y >= 0; --y) {
    size_t rowStart = bytes.size();
    for (int x = 0; x < width; ++x) {
      const uint8_t *pixel = rgb.data() + (size_t(y) * width + x) * 3;
      bytes.push_back(pixel[2]);
      bytes.push_back(pixel[1]);
      bytes.push_back(pixel[0]);
    }
    bytes.resize(rowStart + stride, 0);
  }
  writeBytes(path, bytes);
}

std::vector<uint8_t> npyBytes(const std::string &dtype,
                              const std::vector<int64_t> &shape,
                              const std::vector<uint8_t> &data) {
  std::string dims;
  for (int64_t dim : shape)
    dims += std::to_string(dim) + ", ";
  if (shape.size() > 1)
    dims.resize(dims.size() - 2);
  else if (shape.size() == 1)
    dims.resize(dims.size() - 1); // "(5,)" as NumPy writes it
  std::string header = "{'descr': '" + dtype +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // NumPy pads the header with spaces and a newline to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::vector<uint8_t> bytes = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  bytes.push_back(uint8_t(header.size()));
  bytes.push_back(uint8_t(header.size() >> 8));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

std::vector<uint8_t> int64Bytes(const std::vector<int64_t> &values) {
  std::vector<uint8_t> bytes(values.size() * 8);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

void writeZip(const std::string &path,
              const std::vector<ZipEntryToWrite> &entries) {
  std::vector<uint8_t> out, directory;
  for (const ZipEntryToWrite &entry : entries) {
    std::vector<uint8_t> stored = entry.data;
    if (entry.deflate) {
      z_stream stream{};
      deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY);
      stored.resize(deflateBound(&stream, uLong(entry.data.size())));
      stream.next_in = const_cast<Bytef *>(entry.data.data());
      stream.avail_in = uInt(entry.data.size());
      stream.next_out = stored.data();
      stream.avail_out = uInt(stored.size());
      deflate(&stream, Z_FINISH);
      stored.resize(stream.total_out);
      deflateEnd(&stream);
    }
    uint32_t crc = uint32_t(crc32(0, entry.data.data(), uInt(entry.data.size())));
    uint16_t method = entry.deflate ? 8 : 0;
    uint32_t offset = uint32_t(out.size());
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, method);
    put32(out, 0); // time and date
    put32(out, crc);
    put32(out, uint32_t(stored.size()));
    put32(out, uint32_t(entry.data.size()));
    put16(out, uint16_t(entry.name.size()));
    put16(out, 0);
    out.insert(out.end(), entry.name.begin(), entry.name.end());
    out.insert(out.end(), stored.begin(), stored.end());

    put32(directory, 0x02014b50);
    put16(directory, 20);
    put16(directory, 20);
    put16(directory, 0);
    put16(directory, method);
    put32(directory, 0);
    put32(directory, crc);
    put32(directory, uint32_t(stored.size()));
    put32(directory, uint32_t(entry.data.size()));
    put16(directory, uint16_t(entry.name.size()));
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, 0);
    put32(directory, offset);
    directory.insert(directory.end(), entry.name.begin(), entry.name.end());
  }
  uint32_t directoryOffset = uint32_t(out.size());
  out.insert(out.end(), directory.begin(), directory.end());
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, uint16_t(entries.size()));
  put16(out, uint16_t(entries.size()));
  put32(out, uint32_t(directory.size()));
  put32(out, directoryOffset);
  put16(out, 0);
  writeBytes(path, out);
}

} // namespace kdrt::test

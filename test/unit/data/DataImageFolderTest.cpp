//===- DataImageFolderTest.cpp - PNG, JPEG and BMP folders ----------------===//

#include "TestFiles.h"
#include "kdrt/data/DataError.h"
#include "kdrt/data/DecodedImage.h"
#include "kdrt/data/ImageFolderSource.h"
#include "kdrt/data/ImageResize.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace kdrt::data;
using namespace kdrt::test;

namespace {

std::vector<uint8_t> solidRgb(int width, int height, uint8_t r, uint8_t g,
                              uint8_t b) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < width * height; ++i)
    pixels.insert(pixels.end(), {r, g, b});
  return pixels;
}

} // namespace

TEST(ImageDecodeTest, PngGrayRgbAndPaletteDecodeExactly) {
  TemporaryFolder folder;
  std::vector<uint8_t> gray = {0, 50, 100, 150, 200, 250};
  writePng(folder.file("gray.png"), 3, 2, 1, gray);
  DecodedImage decodedGray = decodeImageFile(folder.file("gray.png"));
  EXPECT_EQ(decodedGray.channels, 1);
  EXPECT_EQ(decodedGray.width, 3);
  EXPECT_EQ(decodedGray.pixels, gray);

  std::vector<uint8_t> rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 8, 7};
  writePng(folder.file("rgb.png"), 2, 2, 3, rgb);
  EXPECT_EQ(decodeImageFile(folder.file("rgb.png")).pixels, rgb);

  writePalettePng(folder.file("palette.png"), 2, 1, {10, 20, 30, 40, 50, 60},
                  {1, 0});
  DecodedImage palette = decodeImageFile(folder.file("palette.png"));
  EXPECT_EQ(palette.channels, 3);
  EXPECT_EQ(palette.pixels, (std::vector<uint8_t>{40, 50, 60, 10, 20, 30}));
}

TEST(ImageDecodeTest, CorruptPngNamesTheFile) {
  TemporaryFolder folder;
  std::string path = folder.file("broken.png");
  writePng(path, 8, 8, 3, solidRgb(8, 8, 1, 2, 3));
  std::vector<uint8_t> bytes = readBytes(path);
  // Keep the signature and header, damage the compressed data.
  for (size_t i = 40; i < bytes.size() - 12; ++i)
    bytes[i] ^= 0x5A;
  writeBytes(path, bytes);
  try {
    decodeImageFile(path);
    FAIL() << "corrupt PNG decoded";
  } catch (const DataError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("corrupt PNG"), std::string::npos) << message;
  }
  // Cut short after the signature.
  bytes.resize(20);
  writeBytes(path, bytes);
  EXPECT_THROW(decodeImageFile(path), DataError);
}

TEST(ImageDecodeTest, JpegDecodesCloseToTheSource) {
  TemporaryFolder folder;
  writeJpeg(folder.file("a.jpg"), 16, 16, 3, solidRgb(16, 16, 200, 100, 50));
  DecodedImage image = decodeImageFile(folder.file("a.jpg"));
  ASSERT_EQ(image.channels, 3);
  ASSERT_EQ(image.width, 16);
  for (size_t i = 0; i < image.pixels.size(); i += 3) {
    EXPECT_NEAR(image.pixels[i], 200, 3);
    EXPECT_NEAR(image.pixels[i + 1], 100, 3);
    EXPECT_NEAR(image.pixels[i + 2], 50, 3);
  }
  std::string truncated = folder.file("cut.jpg");
  std::vector<uint8_t> bytes = readBytes(folder.file("a.jpg"));
  // libjpeg pads a truncated scan with a warning; a truncated header is an
  // error.
  bytes.resize(4);
  writeBytes(truncated, bytes);
  try {
    decodeImageFile(truncated);
    FAIL() << "truncated JPEG decoded";
  } catch (const DataError &error) {
    EXPECT_NE(std::string(error.what()).find(truncated), std::string::npos);
  }
}

TEST(ImageDecodeTest, BmpDecodesAndRejectsTruncation) {
  TemporaryFolder folder;
  std::vector<uint8_t> rgb = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
  writeBmp24(folder.file("a.bmp"), 3, 2, rgb);
  DecodedImage image = decodeImageFile(folder.file("a.bmp"));
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.pixels, rgb);

  std::vector<uint8_t> bytes = readBytes(folder.file("a.bmp"));
  bytes.resize(bytes.size() - 5);
  writeBytes(folder.file("cut.bmp"), bytes);
  try {
    decodeImageFile(folder.file("cut.bmp"));
    FAIL() << "truncated BMP decoded";
  } catch (const DataError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find("cut.bmp"), std::string::npos);
    EXPECT_NE(message.find("truncated"), std::string::npos);
  }
}

// An 8-bit top-down BMP (negative height) with a gray palette decodes to
// one channel; an index outside the palette is reported.
TEST(ImageDecodeTest, PalettizedBmpDecodes) {
  auto little = [](std::vector<uint8_t> &bytes, uint32_t value, int size) {
    for (int b = 0; b < size; ++b)
      bytes.push_back(uint8_t(value >> (8 * b)));
  };
  std::vector<uint8_t> bytes = {'B', 'M'};
  uint32_t pixelOffset = 14 + 40 + 3 * 4;
  little(bytes, pixelOffset + 2 * 4, 4);
  little(bytes, 0, 4);
  little(bytes, pixelOffset, 4);
  little(bytes, 40, 4);
  little(bytes, 2, 4);                   // width
  little(bytes, uint32_t(-2), 4);        // height: top-down
  little(bytes, 1, 2);
  little(bytes, 8, 2);
  little(bytes, 0, 4);                   // uncompressed
  little(bytes, 0, 4);
  little(bytes, 0, 4);
  little(bytes, 0, 4);
  little(bytes, 3, 4);                   // palette colours
  little(bytes, 0, 4);
  for (uint8_t level : {0, 100, 200})
    bytes.insert(bytes.end(), {level, level, level, 0});
  bytes.insert(bytes.end(), {2, 1, 0, 0, 0, 2, 0, 0}); // rows padded to 4
  DecodedImage image = decodeBmp(bytes, "palette.bmp");
  EXPECT_EQ(image.channels, 1);
  EXPECT_EQ(image.height, 2);
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{200, 100, 0, 200}));
  bytes[pixelOffset] = 7;
  try {
    decodeBmp(bytes, "palette.bmp");
    FAIL() << "index outside the palette accepted";
  } catch (const DataError &error) {
    EXPECT_NE(std::string(error.what()).find("outside the palette"),
              std::string::npos);
  }
}

TEST(ImageFolderTest, ClassesAreSortedSubfoldersAndImagesAreResized) {
  TemporaryFolder folder;
  // Class "b" written first: labels must follow sorted names, not creation.
  writeBmp24(folder.file("b/x.bmp"), 4, 4, solidRgb(4, 4, 0, 0, 255));
  writePng(folder.file("a/1.png"), 8, 8, 3, solidRgb(8, 8, 255, 0, 0));
  writeJpeg(folder.file("a/2.JPG"), 2, 2, 1, {128, 128, 128, 128});
  writeBytes(folder.file("a/notes.txt"), {'h', 'i'});

  ImageFolderOptions options;
  options.channels = 3;
  options.height = options.width = 4;
  ImageDataset dataset = loadImageFolder(folder.path(), options);
  ASSERT_EQ(dataset.count, 3);
  EXPECT_EQ(dataset.classNames, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(dataset.labels, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(dataset.numClasses, 2);
  // Image 0 is red (planar: the R plane full, G and B empty).
  EXPECT_EQ(dataset.image(0)[0], 255);
  EXPECT_EQ(dataset.image(0)[16], 0);
  // Image 1 is gray replicated to RGB and upsampled.
  EXPECT_NEAR(dataset.image(1)[5], 128, 2);
  EXPECT_NEAR(dataset.image(1)[16 + 5], 128, 2);
  EXPECT_EQ(dataset.image(2)[32], 255);

  options.channels = 1;
  ImageDataset gray = loadImageFolder(folder.path(), options);
  // BT.601 luma of pure blue: 0.114 * 255 = 29.
  EXPECT_EQ(gray.image(2)[0], 29);
}

TEST(ImageFolderTest, FlatFolderIsUnlabeled) {
  TemporaryFolder folder;
  writePng(folder.file("a.png"), 2, 2, 1, {1, 2, 3, 4});
  writePng(folder.file("b.png"), 2, 2, 1, {5, 6, 7, 8});
  ImageFolderOptions options{1, 2, 2};
  ImageDataset dataset = loadImageFolder(folder.path(), options);
  EXPECT_EQ(dataset.count, 2);
  EXPECT_FALSE(dataset.isLabeled());
  EXPECT_EQ(dataset.pixels, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(ImageFolderTest, CorruptImageInFolderNamesIt) {
  TemporaryFolder folder;
  writePng(folder.file("cls/good.png"), 2, 2, 1, {1, 2, 3, 4});
  writeBytes(folder.file("cls/bad.png"), {0x89, 'P', 'N', 'G', 1, 2, 3});
  try {
    loadImageFolder(folder.path(), {1, 2, 2});
    FAIL() << "corrupt image accepted";
  } catch (const DataError &error) {
    EXPECT_NE(std::string(error.what()).find("bad.png"), std::string::npos);
  }
  EXPECT_THROW(loadImageFolder(folder.file("nowhere"), {1, 2, 2}), DataError);
}

// Area downsampling averages blocks; bilinear upsampling reproduces a
// constant and interpolates between two samples.
TEST(ImageResizeTest, AreaDownsamplingAndBilinearUpsampling) {
  std::vector<uint8_t> checker = {0, 255, 0, 255, 0, 255, 0, 255,
                                  0, 255, 0, 255, 0, 255, 0, 255};
  std::vector<uint8_t> small = resizePlanes(checker, 1, 4, 4, 2, 2);
  EXPECT_EQ(small, (std::vector<uint8_t>{128, 128, 128, 128}));

  float pair[2] = {0.0f, 1.0f};
  float wide[4];
  resizePlanes(pair, 1, 1, 2, wide, 1, 4);
  EXPECT_FLOAT_EQ(wide[0], 0.0f);
  EXPECT_FLOAT_EQ(wide[1], 0.25f);
  EXPECT_FLOAT_EQ(wide[2], 0.75f);
  EXPECT_FLOAT_EQ(wide[3], 1.0f);
  EXPECT_THROW(resizePlanes(checker, 1, 4, 4, 0, 2), DataError);
}

// A model's `transform resize(..., mode:)` resizes with the resize layer's
// taps. 6 -> 4 along a row of 0..5 (scale 1.5), derived by hand: bilinear
// samples (o + 0.5) * 1.5 - 0.5; nearest takes floor(o * 1.5); area averages
// adaptive-pooling bins [o * 6 / 4, ceil((o + 1) * 6 / 4)); the automatic
// filter averages the exact covered span [1.5 o, 1.5 (o + 1)).
TEST(ImageResizeTest, NamedFiltersUseTheResizeLayersTaps) {
  const float row[6] = {0, 1, 2, 3, 4, 5};
  auto resized = [&](ResizeFilter filter) {
    std::vector<float> out(4);
    resizePlanes(row, 1, 1, 6, out.data(), 1, 4, filter);
    return out;
  };
  auto expectNear = [](const std::vector<float> &got,
                       const std::vector<float> &want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-6) << "at " << i;
  };
  expectNear(resized(ResizeFilter::Bilinear), {0.25f, 1.75f, 3.25f, 4.75f});
  expectNear(resized(ResizeFilter::Nearest), {0, 1, 3, 4});
  expectNear(resized(ResizeFilter::Area), {0.5f, 1.5f, 3.5f, 4.5f});
  expectNear(resized(ResizeFilter::Auto),
             {0.5f / 1.5f, 2.5f / 1.5f, 5.0f / 1.5f, 7.0f / 1.5f});
}

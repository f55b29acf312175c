//===- DataIdxTest.cpp - IDX files, raw and gzip --------------------------===//

#include "TestFiles.h"
#include "kdrt/data/DataError.h"
#include "kdrt/data/IdxSource.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace kdrt::data;
using namespace kdrt::test;

namespace {

/// Expects `body` to throw a DataError whose message contains every part.
template <class Body>
void expectDataError(Body body, const std::vector<std::string> &parts) {
  try {
    body();
    FAIL() << "no DataError was thrown";
  } catch (const DataError &error) {
    std::string message = error.what();
    for (const std::string &part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "message '" << message << "' lacks '" << part << "'";
  }
}

std::vector<uint8_t> rampImages(int count, int height, int width) {
  std::vector<uint8_t> pixels(size_t(count) * height * width);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = uint8_t(i * 7);
  return pixels;
}

} // namespace

TEST(IdxTest, ReadsGzipAndRawFilesAlike) {
  TemporaryFolder folder;
  std::vector<uint8_t> pixels = rampImages(3, 4, 5);
  std::vector<uint8_t> images = idxBytes({3, 4, 5}, pixels);
  std::vector<uint8_t> labels = idxBytes({3}, {2, 0, 1});
  writeGzip(folder.file("train-images-idx3-ubyte.gz"), images);
  writeGzip(folder.file("train-labels-idx1-ubyte.gz"), labels);
  writeBytes(folder.file("raw/t10k-images-idx3-ubyte"), images);
  writeBytes(folder.file("raw/t10k-labels-idx1-ubyte"), labels);

  ImageDataset gz = loadIdxSplit(folder.path(), "train", 3);
  ImageDataset raw = loadIdxSplit(folder.path() + "/raw", "t10k", 3);
  for (const ImageDataset *dataset : {&gz, &raw}) {
    EXPECT_EQ(dataset->count, 3);
    EXPECT_EQ(dataset->channels, 1);
    EXPECT_EQ(dataset->height, 4);
    EXPECT_EQ(dataset->width, 5);
    EXPECT_EQ(dataset->pixels, pixels);
    EXPECT_EQ(dataset->labels, (std::vector<int32_t>{2, 0, 1}));
    EXPECT_EQ(dataset->numClasses, 3);
  }
}

TEST(IdxTest, TruncatedImagesNameTheFileAndTheShortfall) {
  TemporaryFolder folder;
  std::vector<uint8_t> images = idxBytes({3, 4, 5}, rampImages(3, 4, 5));
  images.resize(images.size() - 10);
  std::string path = folder.file("train-images-idx3-ubyte");
  writeBytes(path, images);
  expectDataError([&] { loadIdxImages(path); },
                  {path, "is truncated", "expected 60 bytes of image data",
                   "found 50"});
}

TEST(IdxTest, TruncatedGzipStreamIsReported) {
  TemporaryFolder folder;
  std::string whole = folder.file("whole.gz");
  writeGzip(whole, idxBytes({2, 8, 8}, rampImages(2, 8, 8)));
  std::vector<uint8_t> bytes = readBytes(whole);
  bytes.resize(bytes.size() / 2);
  std::string cut = folder.file("cut-images-idx3-ubyte.gz");
  writeBytes(cut, bytes);
  expectDataError([&] { loadIdxImages(cut); }, {cut, "truncated"});
}

TEST(IdxTest, LabelOutOfRangeNamesFileLabelAndClasses) {
  TemporaryFolder folder;
  std::string images = folder.file("i");
  std::string labels = folder.file("l");
  writeBytes(images, idxBytes({2, 2, 2}, rampImages(2, 2, 2)));
  writeBytes(labels, idxBytes({2}, {1, 10}));
  expectDataError([&] { loadIdx(images, labels, 10); },
                  {labels, "label 10", "image 1", "out of range", "10 classes"});
}

TEST(IdxTest, MismatchedCountsAndBadHeadersAreErrors) {
  TemporaryFolder folder;
  std::string images = folder.file("i");
  std::string labels = folder.file("l");
  writeBytes(images, idxBytes({2, 2, 2}, rampImages(2, 2, 2)));
  writeBytes(labels, idxBytes({3}, {0, 1, 2}));
  expectDataError([&] { loadIdx(images, labels); },
                  {labels, "3 labels", images, "2 images"});

  std::string garbage = folder.file("g");
  writeBytes(garbage, {1, 2, 3, 4, 5, 6, 7, 8});
  expectDataError([&] { loadIdxImages(garbage); }, {garbage, "magic"});
  expectDataError([&] { loadIdxImages(labels); }, {labels, "1 dimensions"});
  expectDataError([&] { loadIdxImages(folder.file("missing")); },
                  {"missing", "cannot open"});
  expectDataError([&] { loadIdxSplit(folder.path(), "train"); },
                  {"train-images-idx3-ubyte"});
}

TEST(IdxTest, InstalledFashionMnistLoads) {
  const std::string root = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(root + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST is not installed";
  ImageDataset train = loadIdxSplit(root, "train", 10);
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(train.height, 28);
  EXPECT_EQ(train.width, 28);
  EXPECT_EQ(train.labels.size(), 60000u);
  for (int32_t label : train.labels)
    ASSERT_LT(label, 10);
}

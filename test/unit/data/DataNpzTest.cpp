//===- DataNpzTest.cpp - MedMNIST-style npz archives ----------------------===//

#include "TestFiles.h"
#include "kdrt/data/DataError.h"
#include "kdrt/data/NpyArray.h"
#include "kdrt/data/NpzSource.h"
#include "kdrt/data/ZipArchive.h"

#include <gtest/gtest.h>

using namespace kdrt::data;
using namespace kdrt::test;

namespace {

/// A MedMNIST-like archive: 2 RGB train images 2x2 with labels [N,1]
/// (int64), 3 gray val images with labels [N] (uint8), test images only.
std::vector<ZipEntryToWrite> medMnistEntries(bool deflate) {
  std::vector<uint8_t> rgb(2 * 2 * 2 * 3);
  for (size_t i = 0; i < rgb.size(); ++i)
    rgb[i] = uint8_t(i);
  return {
      {"train_images.npy", npyBytes("|u1", {2, 2, 2, 3}, rgb), deflate},
      {"train_labels.npy", npyBytes("<i8", {2, 1}, int64Bytes({4, 1})),
       deflate},
      {"val_images.npy",
       npyBytes("|u1", {3, 1, 2}, {10, 11, 20, 21, 30, 31}), deflate},
      {"val_labels.npy", npyBytes("|u1", {3}, {0, 1, 2}), deflate},
      {"test_images.npy", npyBytes("|u1", {1, 1, 1}, {7}), deflate},
  };
}

} // namespace

class NpzTest : public ::testing::TestWithParam<bool> {};

TEST_P(NpzTest, ReadsSplitsOfStoredAndDeflatedArchives) {
  TemporaryFolder folder;
  std::string path = folder.file("medmnist.npz");
  writeZip(path, medMnistEntries(GetParam()));

  ImageDataset train = loadNpzSplit(path, "train", 5);
  EXPECT_EQ(train.count, 2);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.height, 2);
  EXPECT_EQ(train.width, 2);
  EXPECT_EQ(train.labels, (std::vector<int32_t>{4, 1}));
  // NHWC to NCHW: image 0's red plane holds bytes 0, 3, 6, 9.
  EXPECT_EQ(train.image(0)[0], 0);
  EXPECT_EQ(train.image(0)[1], 3);
  EXPECT_EQ(train.image(0)[4], 1); // green plane starts at byte 1
  EXPECT_EQ(train.image(1)[0], 12);

  ImageDataset val = loadNpzSplit(path, "val");
  EXPECT_EQ(val.channels, 1);
  EXPECT_EQ(val.labels, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(val.numClasses, 3);

  ImageDataset test = loadNpzSplit(path, "test");
  EXPECT_FALSE(test.isLabeled());
  EXPECT_EQ(test.pixels, (std::vector<uint8_t>{7}));
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, NpzTest, ::testing::Bool());

TEST(NpzErrorsTest, LabelOutOfRangeAndMissingSplit) {
  TemporaryFolder folder;
  std::string path = folder.file("m.npz");
  writeZip(path, medMnistEntries(true));
  try {
    loadNpzSplit(path, "train", 3);
    FAIL() << "label 4 accepted for 3 classes";
  } catch (const DataError &error) {
    std::string message = error.what();
    EXPECT_NE(message.find("train_labels"), std::string::npos) << message;
    EXPECT_NE(message.find("label 4"), std::string::npos) << message;
    EXPECT_NE(message.find("3 classes"), std::string::npos) << message;
  }
  EXPECT_THROW(loadNpzSplit(path, "holdout"), DataError);
}

TEST(NpzErrorsTest, CorruptArchivesAreClearErrors) {
  TemporaryFolder folder;
  std::string path = folder.file("m.npz");
  writeZip(path, medMnistEntries(true));
  std::vector<uint8_t> bytes = readBytes(path);

  // Flipping a byte of compressed data breaks the CRC or the deflate stream.
  std::vector<uint8_t> damaged = bytes;
  damaged[60] ^= 0xFF;
  writeBytes(path, damaged);
  EXPECT_THROW(loadNpzSplit(path, "train"), DataError);

  // Without its end record the file is not a zip archive.
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 30);
  writeBytes(path, cut);
  try {
    ZipArchive archive(path);
    FAIL() << "truncated zip accepted";
  } catch (const DataError &error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos);
  }

  // A zip64 end-of-directory locator right before the end record.
  std::vector<uint8_t> zip64(bytes.begin(), bytes.end() - 22);
  std::vector<uint8_t> locator = {0x50, 0x4b, 0x06, 0x07};
  locator.resize(20, 0);
  zip64.insert(zip64.end(), locator.begin(), locator.end());
  zip64.insert(zip64.end(), bytes.end() - 22, bytes.end());
  writeBytes(path, zip64);
  try {
    ZipArchive archive(path);
    FAIL() << "zip64 accepted";
  } catch (const DataError &error) {
    EXPECT_NE(std::string(error.what()).find("zip64"), std::string::npos);
  }
}

TEST(NpyTest, ParsesHeadersAndRejectsUnsupportedArrays) {
  NpyArray array = parseNpy(npyBytes("<i4", {2}, {1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF}), "x");
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(array.integerAt(0), 1);
  EXPECT_EQ(array.integerAt(1), -1);
  EXPECT_THROW(parseNpy(npyBytes("<f4", {1}, {0, 0, 0, 0}), "x"), DataError);
  EXPECT_THROW(parseNpy(npyBytes("|u1", {4}, {1, 2}), "x"), DataError);
  std::vector<uint8_t> fortran = npyBytes("|u1", {1}, {1});
  std::string text(fortran.begin(), fortran.end());
  size_t at = text.find("False");
  std::string replaced = text.substr(0, at) + "True, " + text.substr(at + 5);
  EXPECT_THROW(parseNpy(std::vector<uint8_t>(replaced.begin(), replaced.end()), "x"),
               DataError);
  EXPECT_THROW(parseNpy({1, 2, 3}, "x"), DataError);
}

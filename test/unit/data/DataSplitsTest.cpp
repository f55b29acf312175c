//===- DataSplitsTest.cpp - Slices, few-shot subsets, unlabeled splits ----===//

#include "kdrt/data/DataError.h"
#include "kdrt/data/Splits.h"

#include <gtest/gtest.h>

#include <map>

using namespace kdrt::data;

namespace {

/// `count` 1x1 images whose pixel is their index; labels cycle over
/// `classes`.
ImageDataset indexedDataset(int64_t count, int32_t classes) {
  ImageDataset dataset;
  dataset.count = count;
  dataset.channels = dataset.height = dataset.width = 1;
  dataset.numClasses = classes;
  for (int64_t i = 0; i < count; ++i) {
    dataset.pixels.push_back(uint8_t(i));
    dataset.labels.push_back(int32_t(i % classes));
  }
  return dataset;
}

} // namespace

TEST(SplitsTest, SliceKeepsTheRangeAndLabels) {
  ImageDataset dataset = indexedDataset(10, 3);
  ImageDataset tail = sliceDataset(dataset, 7);
  EXPECT_EQ(tail.count, 3);
  EXPECT_EQ(tail.pixels, (std::vector<uint8_t>{7, 8, 9}));
  EXPECT_EQ(tail.labels, (std::vector<int32_t>{1, 2, 0}));
  ImageDataset middle = sliceDataset(dataset, 2, 4);
  EXPECT_EQ(middle.pixels, (std::vector<uint8_t>{2, 3}));
  EXPECT_THROW(sliceDataset(dataset, 5, 11), DataError);
  EXPECT_THROW(sliceDataset(dataset, 6, 5), DataError);
}

TEST(SplitsTest, UnionJoinsInOrderAndKeepsLabelsOnlyWhenAllHaveThem) {
  ImageDataset a = sliceDataset(indexedDataset(10, 3), 0, 4);
  ImageDataset b = sliceDataset(indexedDataset(10, 3), 7);
  ImageDataset labelled = joinDatasets({&a, &b});
  EXPECT_EQ(labelled.count, 7);
  EXPECT_EQ(labelled.pixels, (std::vector<uint8_t>{0, 1, 2, 3, 7, 8, 9}));
  EXPECT_EQ(labelled.labels, (std::vector<int32_t>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(labelled.numClasses, 3);

  ImageDataset unlabeled = withoutLabels(b);
  ImageDataset mixed = joinDatasets({&a, &unlabeled});
  EXPECT_EQ(mixed.count, 7);
  EXPECT_EQ(mixed.pixels, labelled.pixels);
  EXPECT_FALSE(mixed.isLabeled());

  ImageDataset wide = a;
  wide.width = 2;
  wide.pixels.resize(8);
  EXPECT_THROW(joinDatasets({&a, &wide}), DataError);
  EXPECT_THROW(joinDatasets({}), DataError);
}

TEST(SplitsTest, FewShotTakesExactlyNPerClassDeterministically) {
  ImageDataset dataset = indexedDataset(100, 4);
  ImageDataset shots = fewShotSubset(dataset, 5, 42);
  EXPECT_EQ(shots.count, 20);
  std::map<int32_t, int> perClass;
  for (int32_t label : shots.labels)
    ++perClass[label];
  for (int32_t label = 0; label < 4; ++label)
    EXPECT_EQ(perClass[label], 5);
  // Labels still match their images (pixel = index, label = index % 4).
  for (int64_t i = 0; i < shots.count; ++i)
    EXPECT_EQ(shots.labels[i], shots.pixels[i] % 4);

  ImageDataset again = fewShotSubset(dataset, 5, 42);
  EXPECT_EQ(again.pixels, shots.pixels);
  ImageDataset other = fewShotSubset(dataset, 5, 43);
  EXPECT_NE(other.pixels, shots.pixels);

  EXPECT_THROW(fewShotSubset(dataset, 26, 1), DataError);
  EXPECT_THROW(fewShotSubset(withoutLabels(dataset), 1, 1), DataError);
}

TEST(SplitsTest, UnlabeledDropsLabelsOnly) {
  ImageDataset dataset = indexedDataset(4, 2);
  ImageDataset unlabeled = withoutLabels(dataset);
  EXPECT_FALSE(unlabeled.isLabeled());
  EXPECT_EQ(unlabeled.pixels, dataset.pixels);
}

TEST(SplitsTest, ConformConvertsChannelsAndSize) {
  ImageDataset dataset;
  dataset.count = 1;
  dataset.channels = 1;
  dataset.height = dataset.width = 2;
  dataset.pixels = {10, 20, 30, 40};
  ImageDataset rgb = conformImages(dataset, 3, 1, 1);
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{25, 25, 25}));
}

//===- DataAugmentationTest.cpp - Seeded transforms and batches -----------===//

#include "kdrt/data/Augmentation.h"
#include "kdrt/data/BatchPipeline.h"
#include "kdrt/data/DataError.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

using namespace kdrt::data;

namespace {

std::shared_ptr<ImageDataset> rampDataset(int64_t count, int64_t channels,
                                          int64_t size) {
  auto dataset = std::make_shared<ImageDataset>();
  dataset->count = count;
  dataset->channels = channels;
  dataset->height = dataset->width = size;
  for (int64_t n = 0; n < count; ++n) {
    for (int64_t p = 0; p < channels * size * size; ++p)
      dataset->pixels.push_back(uint8_t((n * 31 + p * 7) % 256));
    dataset->labels.push_back(int32_t(n % 3));
  }
  dataset->numClasses = 3;
  return dataset;
}

std::vector<AugmentationStep> everyStep() {
  return {RandomCrop{8, 8, 2}, HorizontalFlip{0.5}, VerticalFlip{0.5},
          ColorJitter{0.4, 0.4, 0.4}, RandomRotation{10}};
}

} // namespace

TEST(ShuffleTest, PermutationIsSeededPerEpoch) {
  std::vector<int64_t> a = epochPermutation(50, 7, 0);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  EXPECT_EQ(a, epochPermutation(50, 7, 0));
  EXPECT_NE(a, epochPermutation(50, 7, 1));
  EXPECT_NE(a, epochPermutation(50, 8, 0));
}

TEST(AugmentationTest, SameSeedEpochAndSampleGiveTheSameTransform) {
  std::vector<AugmentationStep> steps = everyStep();
  FloatImage image{3, 8, 8, std::vector<float>(3 * 64)};
  for (size_t i = 0; i < image.values.size(); ++i)
    image.values[i] = float(i % 17) / 17.0f;
  FloatImage first = applyAugmentation(steps, drawAugmentation(steps, 1, 2, 3), image);
  FloatImage second = applyAugmentation(steps, drawAugmentation(steps, 1, 2, 3), image);
  EXPECT_EQ(first.values, second.values);
  // Another epoch draws other transforms for at least one of a few samples.
  bool differs = false;
  for (uint64_t sample = 0; sample < 4; ++sample)
    differs |= applyAugmentation(steps, drawAugmentation(steps, 1, 3, sample), image).values !=
               applyAugmentation(steps, drawAugmentation(steps, 1, 2, sample), image).values;
  EXPECT_TRUE(differs);
}

TEST(AugmentationTest, FlipAndCropBehaveAsDeclared) {
  FloatImage image{1, 2, 3, {1, 2, 3, 4, 5, 6}};
  std::vector<AugmentationStep> flip = {HorizontalFlip{1.0}};
  EXPECT_EQ(applyAugmentation(flip, drawAugmentation(flip, 0, 0, 0), image).values,
            (std::vector<float>{3, 2, 1, 6, 5, 4}));
  std::vector<AugmentationStep> vflip = {VerticalFlip{1.0}};
  EXPECT_EQ(applyAugmentation(vflip, drawAugmentation(vflip, 0, 0, 0), image).values,
            (std::vector<float>{4, 5, 6, 1, 2, 3}));
  // A crop of the full padded size keeps the zero border.
  std::vector<AugmentationStep> crop = {RandomCrop{4, 5, 1}};
  FloatImage padded = applyAugmentation(crop, drawAugmentation(crop, 0, 0, 0), image);
  EXPECT_EQ(padded.values, (std::vector<float>{0, 0, 0, 0, 0, 0, 1, 2, 3, 0,
                                               0, 4, 5, 6, 0, 0, 0, 0, 0, 0}));
  std::vector<AugmentationStep> tooBig = {RandomCrop{9, 9, 1}};
  EXPECT_THROW(applyAugmentation(tooBig, drawAugmentation(tooBig, 0, 0, 0), image),
               DataError);
  EXPECT_THROW(validateAugmentation({HorizontalFlip{1.5}}), DataError);
}

TEST(BatchPipelineTest, BatchesAreReproducibleAndNormalised) {
  BatchPipelineOptions options;
  options.batchSize = 4;
  options.seed = 11;
  options.augmentation = everyStep();
  options.mean = {0.5f};
  options.std = {0.25f};
  BatchPipeline pipeline(rampDataset(10, 3, 8), options);
  EXPECT_EQ(pipeline.batchesPerEpoch(), 3);
  Batch a = pipeline.makeBatch(1, 2);
  Batch b = pipeline.makeBatch(1, 2);
  EXPECT_EQ(a.sampleIndices, b.sampleIndices);
  EXPECT_EQ(a.views[0].values, b.views[0].values);
  EXPECT_EQ(a.sampleIndices.size(), 2u); // 10 = 4 + 4 + 2
  EXPECT_EQ(a.views[0].count, 2);

  // Without augmentation a pixel v becomes (v/255 - 0.5) / 0.25.
  options.augmentation.clear();
  options.shuffle = false;
  BatchPipeline plain(rampDataset(10, 3, 8), options);
  Batch first = plain.makeBatch(0, 0);
  EXPECT_EQ(first.sampleIndices, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(first.labels, (std::vector<int32_t>{0, 1, 2, 0}));
  uint8_t pixel = plain.dataset().image(1)[5];
  EXPECT_NEAR(first.views[0].values[3 * 64 + 5], (pixel / 255.0f - 0.5f) / 0.25f, 1e-5);
}

TEST(BatchPipelineTest, ViewsShareTheRandomTransformThenResize) {
  BatchPipelineOptions options;
  options.batchSize = 5;
  options.seed = 3;
  options.augmentation = everyStep();
  options.views = {ViewSize{}, ViewSize{4, 4}};
  BatchPipeline paired(rampDataset(5, 3, 8), options);
  Batch batch = paired.makeBatch(0, 0);
  ASSERT_EQ(batch.views.size(), 2u);
  const BatchView &teacher = batch.views[0];
  const BatchView &student = batch.views[1];
  EXPECT_EQ(teacher.height, 8);
  EXPECT_EQ(student.height, 4);
  // Area downsampling by 2: each student pixel is the mean of a 2x2 block
  // of the teacher's (identically transformed) image.
  for (int64_t n = 0; n < 5; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 4; ++x) {
          const float *t = teacher.values.data() + (n * 3 + c) * 64;
          float mean = (t[(2 * y) * 8 + 2 * x] + t[(2 * y) * 8 + 2 * x + 1] +
                        t[(2 * y + 1) * 8 + 2 * x] +
                        t[(2 * y + 1) * 8 + 2 * x + 1]) / 4;
          EXPECT_NEAR(student.values[((n * 3 + c) * 4 + y) * 4 + x], mean, 1e-5);
        }
}

// `transform crop(size)`: the centre size x size of the same augmented
// image the other view sees (an odd margin leaves its extra row and column
// at the far side); a crop larger than the image is an error.
TEST(BatchPipelineTest, CentreCropViewKeepsTheMiddle) {
  BatchPipelineOptions options;
  options.batchSize = 5;
  options.seed = 3;
  options.augmentation = everyStep();
  ViewSize crop{5, 5};
  crop.centreCrop = true;
  options.views = {ViewSize{}, crop};
  BatchPipeline paired(rampDataset(5, 3, 8), options);
  Batch batch = paired.makeBatch(0, 0);
  const BatchView &whole = batch.views[0], &middle = batch.views[1];
  ASSERT_EQ(middle.height, 5);
  ASSERT_EQ(middle.width, 5);
  for (int64_t n = 0; n < 5; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 5; ++y)
        for (int64_t x = 0; x < 5; ++x)
          EXPECT_EQ(middle.values[size_t(((n * 3 + c) * 5 + y) * 5 + x)],
                    whole.values[size_t(((n * 3 + c) * 8 + y + 1) * 8 + x + 1)]);

  crop.height = crop.width = 9;
  options.views = {crop};
  BatchPipeline tooBig(rampDataset(5, 3, 8), options);
  try {
    tooBig.makeBatch(0, 0);
    ADD_FAILURE() << "a crop larger than the image was accepted";
  } catch (const DataError &error) {
    EXPECT_NE(std::string(error.what()).find("crop(9) transform of 8x8 images"),
              std::string::npos)
        << error.what();
  }
}

TEST(BatchPipelineTest, RejectsInconsistentOptions) {
  BatchPipelineOptions options;
  options.batchSize = 0;
  EXPECT_THROW(BatchPipeline(rampDataset(2, 1, 2), options), DataError);
  options.batchSize = 1;
  options.mean = {0.1f, 0.2f};
  options.std = {0.1f, 0.2f};
  EXPECT_THROW(BatchPipeline(rampDataset(2, 1, 2), options), DataError);
  BatchPipeline pipeline(rampDataset(2, 1, 2), BatchPipelineOptions{});
  EXPECT_THROW(pipeline.makeBatch(0, 5), DataError);
}

//===- DataBatchLoaderTest.cpp - Background batch preparation -------------===//

#include "kdrt/data/BatchLoader.h"
#include "kdrt/data/DataError.h"

#include <gtest/gtest.h>

using namespace kdrt::data;

namespace {

std::shared_ptr<BatchPipeline> smallPipeline(std::vector<AugmentationStep> steps,
                                             int64_t count = 23) {
  auto dataset = std::make_shared<ImageDataset>();
  dataset->count = count;
  dataset->channels = 1;
  dataset->height = dataset->width = 6;
  for (int64_t i = 0; i < count * 36; ++i)
    dataset->pixels.push_back(uint8_t(i * 13));
  for (int64_t i = 0; i < count; ++i)
    dataset->labels.push_back(int32_t(i % 2));
  BatchPipelineOptions options;
  options.batchSize = 5;
  options.seed = 9;
  options.augmentation = std::move(steps);
  return std::make_shared<BatchPipeline>(dataset, options);
}

} // namespace

TEST(BatchLoaderTest, DeliversEveryBatchInOrderMatchingThePipeline) {
  auto pipeline = smallPipeline({RandomCrop{6, 6, 1}, HorizontalFlip{}});
  for (int workers : {1, 3}) {
    BatchLoader loader(pipeline, {/*firstEpoch=*/2, /*epochs=*/2, workers, 2});
    EXPECT_EQ(loader.totalBatches(), 10);
    for (int64_t epoch = 2; epoch < 4; ++epoch)
      for (int64_t index = 0; index < 5; ++index) {
        std::optional<Batch> batch = loader.next();
        ASSERT_TRUE(batch);
        EXPECT_EQ(batch->epoch, epoch);
        EXPECT_EQ(batch->index, index);
        Batch expected = pipeline->makeBatch(epoch, index);
        EXPECT_EQ(batch->sampleIndices, expected.sampleIndices);
        EXPECT_EQ(batch->views[0].values, expected.views[0].values);
      }
    EXPECT_FALSE(loader.next());
    EXPECT_FALSE(loader.next());
  }
}

TEST(BatchLoaderTest, StopsCleanlyWithBatchesLeft) {
  auto pipeline = smallPipeline({});
  BatchLoader loader(pipeline, {0, 100, 2, 3});
  ASSERT_TRUE(loader.next());
  // The destructor must join the workers although 499 batches remain.
}

TEST(BatchLoaderTest, ExceptionsReachTheConsumer) {
  // The crop does not fit the 6x6 images: every batch fails.
  auto pipeline = smallPipeline({RandomCrop{10, 10, 0}});
  BatchLoader loader(pipeline, {0, 1, 2, 2});
  try {
    loader.next();
    FAIL() << "no exception reached the consumer";
  } catch (const DataError &error) {
    EXPECT_NE(std::string(error.what()).find("random crop"), std::string::npos);
  }
  EXPECT_FALSE(loader.next());
}

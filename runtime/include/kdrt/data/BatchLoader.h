//===- BatchLoader.h - Preparing batches on background threads -*- C++ -*-===//
//
// Worker threads build the next batches of a BatchPipeline while the
// consumer trains on the current one. Batches come out in order (epoch by
// epoch, batch by batch) whatever the number of workers; at most `capacity`
// batches are prepared ahead. An exception thrown while building a batch is
// rethrown by next() at that batch's turn. Destruction stops and joins the
// workers, also when batches are left unconsumed.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_BATCHLOADER_H
#define KDRT_DATA_BATCHLOADER_H

#include "kdrt/data/BatchPipeline.h"

#include <condition_variable>
#include <exception>
#include <map>
#include <optional>
#include <thread>

namespace kdrt::data {

struct BatchLoaderOptions {
  int64_t firstEpoch = 0;
  int64_t epochs = 1;
  int workers = 1;
  /// How many batches may be prepared ahead of the consumer.
  int64_t capacity = 4;
};

class BatchLoader {
public:
  BatchLoader(std::shared_ptr<const BatchPipeline> pipeline,
              BatchLoaderOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader &) = delete;
  BatchLoader &operator=(const BatchLoader &) = delete;

  /// The next batch in order, or nothing after the last batch of the last
  /// epoch. Rethrows an exception raised while preparing that batch.
  std::optional<Batch> next();

  int64_t totalBatches() const { return total; }

private:
  struct Result {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  void work();
  void stop();

  std::shared_ptr<const BatchPipeline> pipeline;
  BatchLoaderOptions settings;
  int64_t batchesPerEpoch = 0;
  int64_t total = 0;

  std::mutex mutex;
  std::condition_variable resultReady;
  std::condition_variable spaceFree;
  /// Next sequence number a worker will claim, and next one to hand out.
  int64_t nextToBuild = 0;
  int64_t nextToDeliver = 0;
  std::map<int64_t, Result> ready;
  bool stopping = false;
  std::vector<std::thread> threads;
};

} // namespace kdrt::data

#endif // KDRT_DATA_BATCHLOADER_H

//===- BatchLoader.cpp - Preparing batches on background threads ----------===//

#include "kdrt/data/BatchLoader.h"

#include "kdrt/data/DataError.h"

namespace kdrt::data {

BatchLoader::BatchLoader(std::shared_ptr<const BatchPipeline> batchPipeline,
                         BatchLoaderOptions options)
    : pipeline(std::move(batchPipeline)), settings(options) {
  if (!pipeline)
    throw DataError("batch loader has no pipeline");
  if (settings.workers < 1 || settings.capacity < 1 || settings.epochs < 0 ||
      settings.firstEpoch < 0)
    throw DataError("batch loader needs at least one worker, a capacity of "
                    "at least one batch and non-negative epochs");
  batchesPerEpoch = pipeline->batchesPerEpoch();
  total = batchesPerEpoch * settings.epochs;
  try {
    for (int w = 0; w < settings.workers; ++w)
      threads.emplace_back([this] { work(); });
  } catch (...) {
    stop();
    throw DataError("cannot start the batch loader's threads");
  }
}

BatchLoader::~BatchLoader() { stop(); }

void BatchLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  spaceFree.notify_all();
  resultReady.notify_all();
  for (std::thread &thread : threads)
    if (thread.joinable())
      thread.join();
}

void BatchLoader::work() {
  for (;;) {
    int64_t sequence;
    {
      std::unique_lock<std::mutex> lock(mutex);
      // Bounded: never run more than `capacity` batches ahead of the
      // consumer.
      spaceFree.wait(lock, [&] {
        return stopping || nextToBuild >= total ||
               nextToBuild < nextToDeliver + settings.capacity;
      });
      if (stopping || nextToBuild >= total)
        return;
      sequence = nextToBuild++;
    }
    Result result;
    try {
      result.batch = pipeline->makeBatch(
          settings.firstEpoch + sequence / batchesPerEpoch,
          sequence % batchesPerEpoch);
    } catch (...) {
      result.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      ready.emplace(sequence, std::move(result));
    }
    resultReady.notify_all();
  }
}

std::optional<Batch> BatchLoader::next() {
  std::unique_lock<std::mutex> lock(mutex);
  if (nextToDeliver >= total)
    return std::nullopt;
  resultReady.wait(lock, [&] {
    return stopping || ready.count(nextToDeliver) != 0;
  });
  if (stopping)
    return std::nullopt;
  auto found = ready.find(nextToDeliver);
  Result result = std::move(found->second);
  ready.erase(found);
  if (result.error) {
    // A failed batch ends the stream: stop the workers before rethrowing.
    nextToDeliver = total;
    stopping = true;
    lock.unlock();
    spaceFree.notify_all();
    std::rethrow_exception(result.error);
  }
  ++nextToDeliver;
  lock.unlock();
  spaceFree.notify_all();
  return std::move(result.batch);
}

} // namespace kdrt::data

//===- BatchPipeline.h - From a dataset to normalised batches --*- C++ -*-===//
//
// Turns a dataset into float NCHW batches: a seeded shuffle per epoch, the
// augmentation steps drawn per (epoch, sample), one or more views per image
// (each view sharing the random transform, then resized to its own size),
// and per-channel normalisation. makeBatch is a pure function of (epoch,
// batch index), so batches can be built by any thread in any order.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_BATCHPIPELINE_H
#define KDRT_DATA_BATCHPIPELINE_H

#include "kdrt/data/Augmentation.h"
#include "kdrt/data/ImageDataset.h"
#include "kdrt/data/ImageResize.h"

#include <memory>
#include <mutex>

namespace kdrt::data {

/// The size one view is resized to after augmentation (0 keeps the size),
/// and with which filter; or, with `centreCrop`, the size of the centre
/// part it keeps.
struct ViewSize {
  int64_t height = 0;
  int64_t width = 0;
  ResizeFilter filter = ResizeFilter::Auto;
  bool centreCrop = false;
};

struct BatchPipelineOptions {
  int64_t batchSize = 32;
  bool shuffle = true;
  /// Drop a last batch smaller than batchSize.
  bool dropLast = false;
  uint64_t seed = 0;
  std::vector<AugmentationStep> augmentation;
  /// Per-channel mean and standard deviation applied to pixels scaled to
  /// [0, 1]; empty means no normalisation. One value applies to every
  /// channel.
  std::vector<float> mean;
  std::vector<float> std;
  /// One entry per view; at least one.
  std::vector<ViewSize> views{ViewSize{}};
};

/// One view of a batch: count x channels x height x width floats.
struct BatchView {
  int64_t count = 0;
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> values;
};

struct Batch {
  int64_t epoch = 0;
  int64_t index = 0;
  /// Positions of the batch's images in the dataset.
  std::vector<int64_t> sampleIndices;
  /// Empty for an unlabeled dataset.
  std::vector<int32_t> labels;
  std::vector<BatchView> views;
};

/// The order in which epoch `epoch` visits `count` samples: a Fisher-Yates
/// permutation keyed by (seed, epoch).
std::vector<int64_t> epochPermutation(int64_t count, uint64_t seed,
                                      uint64_t epoch);

class BatchPipeline {
public:
  /// Validates the options; throws DataError when they are inconsistent.
  BatchPipeline(std::shared_ptr<const ImageDataset> dataset,
                BatchPipelineOptions options);

  int64_t batchesPerEpoch() const;
  Batch makeBatch(int64_t epoch, int64_t batchIndex) const;

  const ImageDataset &dataset() const { return *data; }
  const BatchPipelineOptions &options() const { return settings; }

private:
  /// The shuffle of one epoch, shared by the batches of that epoch.
  std::shared_ptr<const std::vector<int64_t>> orderOf(int64_t epoch) const;

  std::shared_ptr<const ImageDataset> data;
  BatchPipelineOptions settings;
  mutable std::mutex orderMutex;
  mutable int64_t cachedEpoch = -1;
  mutable std::shared_ptr<const std::vector<int64_t>> cachedOrder;
};

} // namespace kdrt::data

#endif // KDRT_DATA_BATCHPIPELINE_H

//===- BatchPipeline.cpp - From a dataset to normalised batches -----------===//

#include "kdrt/data/BatchPipeline.h"

#include "kdrt/data/DataError.h"
#include "kdrt/data/ImageResize.h"
#include "kdrt/data/SampleRng.h"

#include <algorithm>
#include <numeric>

namespace kdrt::data {

namespace {

/// The centre height x width of every channel of `image` into `out`
/// (the extra row or column of an odd margin is dropped at the far side).
void centreCrop(const FloatImage &image, float *out, int64_t height,
                int64_t width) {
  if (height > image.height || width > image.width)
    throw DataError("a crop(" + std::to_string(height) + ") transform of " +
                    std::to_string(image.height) + "x" +
                    std::to_string(image.width) +
                    " images: the crop is larger than the image");
  int64_t top = (image.height - height) / 2, left = (image.width - width) / 2;
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t y = 0; y < height; ++y) {
      const float *row = image.values.data() +
                         (c * image.height + top + y) * image.width + left;
      std::copy(row, row + width, out + (c * height + y) * width);
    }
}

} // namespace

std::vector<int64_t> epochPermutation(int64_t count, uint64_t seed,
                                      uint64_t epoch) {
  std::vector<int64_t> order(size_t(std::max<int64_t>(count, 0)));
  std::iota(order.begin(), order.end(), 0);
  SampleRng rng(seed, RandomStream::Shuffle, epoch, 0);
  for (int64_t i = count - 1; i > 0; --i)
    std::swap(order[size_t(i)], order[size_t(rng.below(uint64_t(i + 1)))]);
  return order;
}

BatchPipeline::BatchPipeline(std::shared_ptr<const ImageDataset> dataset,
                             BatchPipelineOptions options)
    : data(std::move(dataset)), settings(std::move(options)) {
  if (!data)
    throw DataError("batch pipeline has no dataset");
  if (settings.batchSize <= 0)
    throw DataError("batch size must be positive, not " +
                    std::to_string(settings.batchSize));
  if (settings.views.empty())
    throw DataError("batch pipeline needs at least one view");
  for (const ViewSize &view : settings.views)
    if (view.height < 0 || view.width < 0 ||
        (view.height == 0) != (view.width == 0))
      throw DataError("a view size needs both a positive height and width, "
                      "or neither");
  validateAugmentation(settings.augmentation);
  if (settings.mean.size() != settings.std.size())
    throw DataError("normalisation needs as many means as standard "
                    "deviations");
  if (settings.mean.size() > 1 &&
      int64_t(settings.mean.size()) != data->channels)
    throw DataError("normalisation has " + std::to_string(settings.mean.size()) +
                    " channel values for images with " +
                    std::to_string(data->channels) + " channels");
  for (float deviation : settings.std)
    if (!(deviation > 0))
      throw DataError("normalisation standard deviations must be positive");
}

std::shared_ptr<const std::vector<int64_t>>
BatchPipeline::orderOf(int64_t epoch) const {
  std::lock_guard<std::mutex> lock(orderMutex);
  if (cachedEpoch != epoch || !cachedOrder) {
    cachedOrder = std::make_shared<const std::vector<int64_t>>(
        epochPermutation(data->count, settings.seed, uint64_t(epoch)));
    cachedEpoch = epoch;
  }
  return cachedOrder;
}

int64_t BatchPipeline::batchesPerEpoch() const {
  if (settings.dropLast)
    return data->count / settings.batchSize;
  return (data->count + settings.batchSize - 1) / settings.batchSize;
}

Batch BatchPipeline::makeBatch(int64_t epoch, int64_t batchIndex) const {
  if (epoch < 0 || batchIndex < 0 || batchIndex >= batchesPerEpoch())
    throw DataError("batch " + std::to_string(batchIndex) + " of epoch " +
                    std::to_string(epoch) + " does not exist (" +
                    std::to_string(batchesPerEpoch()) + " batches per epoch)");
  Batch batch;
  batch.epoch = epoch;
  batch.index = batchIndex;
  int64_t first = batchIndex * settings.batchSize;
  int64_t last = std::min(first + settings.batchSize, data->count);
  std::shared_ptr<const std::vector<int64_t>> order;
  if (settings.shuffle)
    order = orderOf(epoch);
  for (int64_t position = first; position < last; ++position) {
    int64_t sample = order ? (*order)[size_t(position)] : position;
    batch.sampleIndices.push_back(sample);
    if (data->isLabeled())
      batch.labels.push_back(data->labels[size_t(sample)]);
  }

  int64_t count = last - first;
  batch.views.resize(settings.views.size());
  for (int64_t n = 0; n < count; ++n) {
    int64_t sample = batch.sampleIndices[size_t(n)];
    FloatImage image{data->channels, data->height, data->width, {}};
    const uint8_t *pixels = data->image(sample);
    image.values.resize(data->imageBytes());
    for (size_t i = 0; i < image.values.size(); ++i)
      image.values[i] = pixels[i] * (1.0f / 255.0f);
    // The draw depends on the sample, not on its batch position, so a
    // sample is augmented the same way whatever the shuffle.
    AugmentationDraw draw = drawAugmentation(
        settings.augmentation, settings.seed, uint64_t(epoch), uint64_t(sample));
    FloatImage augmented =
        applyAugmentation(settings.augmentation, draw, std::move(image));

    for (size_t v = 0; v < settings.views.size(); ++v) {
      const ViewSize &size = settings.views[v];
      int64_t height = size.height ? size.height : augmented.height;
      int64_t width = size.width ? size.width : augmented.width;
      BatchView &view = batch.views[v];
      if (n == 0) {
        view = BatchView{count, augmented.channels, height, width, {}};
        view.values.resize(size_t(count * augmented.channels * height * width));
      } else if (view.height != height || view.width != width ||
                 view.channels != augmented.channels) {
        throw DataError("augmentation produced images of different sizes "
                        "within one batch; add a crop or resize step");
      }
      float *out = view.values.data() + n * view.channels * height * width;
      if (size.centreCrop)
        centreCrop(augmented, out, height, width);
      else
        resizePlanes(augmented.values.data(), augmented.channels,
                     augmented.height, augmented.width, out, height, width,
                     size.filter);
      if (settings.mean.empty())
        continue;
      int64_t plane = height * width;
      for (int64_t c = 0; c < view.channels; ++c) {
        size_t which = settings.mean.size() == 1 ? 0 : size_t(c);
        float mean = settings.mean[which], inverseStd = 1.0f / settings.std[which];
        for (int64_t p = 0; p < plane; ++p)
          out[c * plane + p] = (out[c * plane + p] - mean) * inverseStd;
      }
    }
  }
  return batch;
}

} // namespace kdrt::data

//===- DataCatalog.cpp - Loading the plan's splits ------------------------===//

#include "kdrt/exec/DataCatalog.h"
#include "kdrt/data/DataError.h"
#include "kdrt/data/IdxSource.h"
#include "kdrt/data/ImageFolderSource.h"
#include "kdrt/data/NpzSource.h"
#include "kdrt/data/Splits.h"

namespace kdrt::exec {

using data::DataError;

namespace {

data::AugmentationStep toStep(const plan::AugmentSpec &spec) {
  if (spec.op == "crop")
    return data::RandomCrop{spec.size, spec.size, spec.pad};
  if (spec.op == "hflip")
    return data::HorizontalFlip{spec.probability};
  if (spec.op == "vflip")
    return data::VerticalFlip{spec.probability};
  if (spec.op == "jitter")
    return data::ColorJitter{spec.brightness, spec.contrast, spec.saturation};
  if (spec.op == "resize")
    return data::Resize{spec.height, spec.width};
  return data::RandomRotation{spec.degrees};
}

} // namespace

data::BatchPipelineOptions
pipelineOptions(const plan::DatasetSpec &dataset, const plan::SplitSpec &split,
                const plan::GraphSpec &graph, int64_t batch, uint64_t seed,
                bool shuffle, bool augment) {
  data::BatchPipelineOptions options;
  options.batchSize = batch;
  options.shuffle = shuffle;
  options.seed = seed;
  if (augment)
    for (const plan::AugmentSpec &step : split.augment)
      options.augmentation.push_back(toStep(step));
  options.mean = dataset.mean;
  options.std = dataset.std;
  options.views.clear();
  for (const plan::InputSpec &input : graph.inputs) {
    if (input.role != "image")
      continue;
    data::ViewSize view;
    if (input.transform) {
      view.height = input.transform->height;
      view.width = input.transform->width;
      view.centreCrop = input.transform->op == "crop";
      const std::string &mode = input.transform->mode;
      view.filter = mode == "bilinear" ? data::ResizeFilter::Bilinear
                    : mode == "nearest" ? data::ResizeFilter::Nearest
                    : mode == "area"    ? data::ResizeFilter::Area
                                        : data::ResizeFilter::Auto;
    }
    options.views.push_back(view);
  }
  if (options.views.empty())
    options.views.push_back(data::ViewSize{});
  return options;
}

std::string DataCatalog::resolve(const std::string &path) const {
  if (path.empty() || path[0] == '/' || base.empty())
    return path;
  return base + "/" + path;
}

const plan::DatasetSpec &DataCatalog::dataset(const std::string &name) const {
  const plan::DatasetSpec *spec = plan.findDataset(name);
  if (!spec)
    throw DataError("unknown dataset '" + name + "'");
  return *spec;
}

const plan::SplitSpec &DataCatalog::split(const plan::DataRef &ref) const {
  for (const plan::SplitSpec &split : dataset(ref.dataset).splits)
    if (split.name == ref.split)
      return split;
  throw DataError("unknown split '" + ref.split + "' of dataset '" +
                  ref.dataset + "'");
}

data::ImageDataset
DataCatalog::loadSource(const std::string &kind, const std::string &root,
                        const std::string &file,
                        const plan::DatasetSpec &dataset) const {
  int32_t classes = int32_t(dataset.classes);
  if (kind == "idx")
    return data::loadIdxSplit(root, file, classes);
  if (kind == "npz")
    return data::loadNpzSplit(root, file, classes);
  data::ImageFolderOptions options;
  options.channels = dataset.channels;
  options.height = dataset.height;
  options.width = dataset.width;
  return data::loadImageFolder(file.empty() ? root : root + "/" + file,
                               options);
}

std::shared_ptr<const data::ImageDataset>
DataCatalog::load(const plan::DataRef &ref) {
  auto key = std::make_pair(ref.dataset, ref.split);
  auto found = loaded.find(key);
  if (found != loaded.end())
    return found->second;

  const plan::DatasetSpec &spec = dataset(ref.dataset);
  const plan::SplitSpec &splitSpec = split(ref);
  data::ImageDataset images;
  if (splitSpec.source == "file") {
    images = loadSource(spec.kind, resolve(spec.path), splitSpec.file, spec);
  } else if (splitSpec.source == "external") {
    images = loadSource(splitSpec.externalKind,
                        resolve(splitSpec.externalPath), "", spec);
  } else if (splitSpec.source == "union") {
    std::vector<std::shared_ptr<const data::ImageDataset>> parts;
    std::vector<const data::ImageDataset *> views;
    for (const std::string &part : splitSpec.parts) {
      parts.push_back(load(plan::DataRef{ref.dataset, part}));
      views.push_back(parts.back().get());
    }
    images = data::joinDatasets(views);
  } else {
    std::shared_ptr<const data::ImageDataset> parent =
        load(plan::DataRef{ref.dataset, splitSpec.parent});
    if (splitSpec.source == "slice") {
      if (splitSpec.lo > parent->count ||
          (splitSpec.hi && *splitSpec.hi > parent->count))
        throw DataError("split '" + ref.split + "': slice [" +
                        std::to_string(splitSpec.lo) + ", " +
                        (splitSpec.hi ? std::to_string(*splitSpec.hi)
                                      : std::string("end")) +
                        ") exceeds the " + std::to_string(parent->count) +
                        " images of '" + splitSpec.parent + "'");
      images = data::sliceDataset(*parent, splitSpec.lo, splitSpec.hi);
    } else {
      images = data::fewShotSubset(*parent, splitSpec.shots, splitSpec.seed);
    }
  }
  if (images.channels != spec.channels || images.height != spec.height ||
      images.width != spec.width)
    images = data::conformImages(images, spec.channels, spec.height,
                                 spec.width);
  if (splitSpec.unlabeled)
    images = data::withoutLabels(images);
  if (spec.classes > 0 && images.numClasses == 0 && images.isLabeled())
    images.numClasses = int32_t(spec.classes);
  if (images.count == 0)
    throw DataError("split '" + ref.split + "' of dataset '" + ref.dataset +
                    "' has no images");
  auto shared = std::make_shared<const data::ImageDataset>(std::move(images));
  loaded.emplace(key, shared);
  return shared;
}

} // namespace kdrt::exec

//===- TeacherCache.cpp - Teacher outputs computed once per sample --------===//
//
// For a stage whose teacher sees no random augmentation, the compiler emits
// a separate teacher program. It runs once over the split, in order, before
// the first epoch; its outputs are kept per sample and gathered into their
// buffers before each step. The outputs are also written to
// `<run>/cache/<key>.safetensors`; a later run whose plan has the same key
// (same teacher weights and data) reads them back instead of recomputing.
//
//===----------------------------------------------------------------------===//

#include "SessionSupport.h"
#include "kdrt/exec/Session.h"
#include "kdrt/io/RunDirectory.h"
#include "kdrt/io/Safetensors.h"

#include <filesystem>

namespace kdrt::exec {

namespace fs = std::filesystem;

namespace {

/// The key as a file name: anything but [A-Za-z0-9._-] becomes '_'.
std::string cacheFileName(const std::string &key) {
  std::string name;
  for (char c : key)
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
             c == '-' || c == '_')
                ? c
                : '_';
  return name + ".safetensors";
}

int64_t rowElements(const plan::BufferSpec &buffer) {
  int64_t row = 1;
  for (size_t d = 1; d < buffer.shape.size(); ++d)
    row *= buffer.shape[d];
  return row;
}

} // namespace

Status Session::fillTeacherCache(size_t index,
                                 const data::ImageDataset &images) {
  const plan::StageSpec &stage = planSpec->stages[index];
  const plan::TeacherCacheSpec &spec = stage.teacherCache;
  BoundGraph &graph = *stageGraphs[index];
  std::vector<std::vector<float>> &outputs = teacherCache[index];
  outputs.assign(spec.outputs.size(), {});
  std::vector<int64_t> rows;
  for (const plan::CacheOutput &output : spec.outputs)
    rows.push_back(rowElements(*stage.graph.findBuffer(output.buffer)));

  fs::path cacheDir = fs::path(runDir->path()) / "cache";
  std::string cachePath = (cacheDir / cacheFileName(spec.key)).string();
  if (fs::exists(cachePath)) {
    io::SafetensorsFile file = io::readSafetensors(cachePath);
    auto key = file.metadata.find("key");
    bool usable = key != file.metadata.end() && key->second == spec.key;
    for (size_t i = 0; usable && i < spec.outputs.size(); ++i) {
      const io::NamedTensor *tensor = file.find(spec.outputs[i].name);
      usable = tensor && tensor->dtype == io::TensorDtype::F32 &&
               tensor->elementCount() == images.count * rows[i];
      if (usable)
        outputs[i] = tensor->toFloats();
    }
    if (usable)
      return Status::success();
  }

  const plan::DatasetSpec &dataset = catalog->dataset(stage.data.dataset);
  data::BatchPipelineOptions options =
      pipelineOptions(dataset, catalog->split(stage.data), stage.graph,
                      stage.batch, seedValue, /*shuffle=*/false,
                      /*augment=*/false);
  // Deterministic steps (resizes) still shape what the teacher sees.
  for (const plan::AugmentSpec &step : catalog->split(stage.data).augment)
    if (step.op == "resize")
      options.augmentation.push_back(data::Resize{step.height, step.width});
  data::BatchPipeline pipeline(
      std::shared_ptr<const data::ImageDataset>(
          std::shared_ptr<const data::ImageDataset>(), &images),
      options);
  for (size_t i = 0; i < spec.outputs.size(); ++i)
    outputs[i].assign(size_t(images.count * rows[i]), 0.0f);

  OpContext context{device.get(), 0};
  std::vector<float> host;
  for (int64_t b = 0; b < pipeline.batchesPerEpoch(); ++b) {
    data::Batch batch = pipeline.makeBatch(0, b);
    int64_t count = int64_t(batch.sampleIndices.size());
    graph.setBatch(count);
    KDRT_RETURN_IF_ERROR(withContext(feed(graph, batch),
                                     "stage '" + stage.name + "' cache"));
    KDRT_RETURN_IF_ERROR(graph.run(context, 1));
    for (size_t i = 0; i < spec.outputs.size(); ++i) {
      host.resize(size_t(count * rows[i]));
      KDRT_RETURN_IF_ERROR(device->copyOut(
          host.data(), graph.buffer(spec.outputs[i].buffer).data(),
          host.size() * sizeof(float)));
      for (int64_t n = 0; n < count; ++n)
        std::copy_n(host.data() + n * rows[i], rows[i],
                    outputs[i].data() +
                        batch.sampleIndices[size_t(n)] * rows[i]);
    }
  }

  io::SafetensorsFile file;
  file.metadata["key"] = spec.key;
  file.metadata["stage"] = stage.name;
  for (size_t i = 0; i < spec.outputs.size(); ++i)
    file.tensors.push_back(io::NamedTensor::fromFloats(
        spec.outputs[i].name, {images.count, rows[i]}, outputs[i]));
  fs::create_directories(cacheDir);
  io::writeSafetensors(cachePath, file);
  return Status::success();
}

Status Session::gatherCached(size_t index, const data::Batch &batch) {
  const plan::StageSpec &stage = planSpec->stages[index];
  BoundGraph &graph = *stageGraphs[index];
  std::vector<float> host;
  for (size_t i = 0; i < stage.teacherCache.outputs.size(); ++i) {
    const plan::CacheOutput &output = stage.teacherCache.outputs[i];
    int64_t row = rowElements(*stage.graph.findBuffer(output.buffer));
    const std::vector<float> &cached = teacherCache[index][i];
    host.resize(batch.sampleIndices.size() * size_t(row));
    for (size_t n = 0; n < batch.sampleIndices.size(); ++n)
      std::copy_n(cached.data() + batch.sampleIndices[n] * row, row,
                  host.data() + int64_t(n) * row);
    KDRT_RETURN_IF_ERROR(device->copyIn(graph.buffer(output.buffer).data(),
                                        host.data(),
                                        host.size() * sizeof(float)));
  }
  return Status::success();
}

} // namespace kdrt::exec

//===- TeacherCache.cpp - Teacher outputs computed once per sample --------===//
//
// For a stage whose teacher sees no random augmentation, the compiler emits
// a separate teacher program. It runs once over the split, in order, before
// the first epoch; its outputs are kept per sample and gathered into their
// buffers before each step. The outputs are also written to
// `<run>/cache/<key>.safetensors`; a later run with the same key reads them
// back instead of recomputing.
//
// The plan's key covers what the compiler knows: the teacher's program,
// parameter names and shapes, and the data spec. The cache is only right
// for the teacher's weights and the images as they are when it is filled,
// which the compiler cannot know (the teacher may be trained by an earlier
// stage, with another seed, or loaded from a file that changed; the data
// files may have been replaced), so the key used here also carries a hash
// of the values of every parameter the teacher program reads and of the
// split's decoded images. A stale cache in a reused run directory then has
// another name and is never read.
//
// The cache holds count x row floats per cached output, in memory. A stage
// whose cache would hold more than RunOptions::teacherCacheLimit (default:
// half the memory available when the stage starts) does not fill it: the
// cache program then runs on each batch right after it is fed, writing the
// same buffers the gather would, so the step computes the same values,
// only with the teacher's forward in every step. The stage's report says
// which it did and why.
//
//===----------------------------------------------------------------------===//

#include "SessionSupport.h"
#include "kdrt/exec/Session.h"
#include "kdrt/io/RunDirectory.h"
#include "kdrt/io/Safetensors.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

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

/// 64-bit FNV-1a over everything fed to it, in order. Not cryptographic:
/// it tells a changed teacher or data set from the one a cache was filled
/// with, which is all a cache key needs.
class ContentHash {
public:
  void add(const void *data, size_t bytes) {
    const auto *byte = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < bytes; ++i) {
      state ^= byte[i];
      state *= 0x100000001b3ull;
    }
  }
  void add(const std::string &text) {
    uint64_t size = text.size();
    add(&size, sizeof(size));
    add(text.data(), text.size());
  }
  void add(int64_t value) { add(&value, sizeof(value)); }
  std::string hex() const {
    static const char digits[] = "0123456789abcdef";
    std::string text(16, '0');
    for (int i = 0; i < 16; ++i)
      text[size_t(i)] = digits[(state >> (60 - 4 * i)) & 0xf];
    return text;
  }

private:
  uint64_t state = 0xcbf29ce484222325ull;
};

int64_t rowElements(const plan::BufferSpec &buffer) {
  int64_t row = 1;
  for (size_t d = 1; d < buffer.shape.size(); ++d)
    row *= buffer.shape[d];
  return row;
}

/// Half of MemAvailable (/proc/meminfo), or 0 when it cannot be read.
uint64_t defaultCacheLimit() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    std::string name;
    uint64_t kib = 0;
    if (fields >> name >> kib && name == "MemAvailable:")
      return kib * 1024 / 2;
  }
  return 0;
}

/// "4.0 KiB", "1.50 GiB": the largest binary unit the count reaches.
std::string humanBytes(uint64_t bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit ? "%.2f %s" : "%.0f %s", value, units[unit]);
  return text;
}

} // namespace

bool parseByteSize(const std::string &text, uint64_t &bytes) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0 || digits > 19)
    return false;
  std::string suffix = text.substr(digits);
  for (char &c : suffix)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (suffix.empty() || suffix == "B")
    shift = 0;
  else if (suffix == "K" || suffix == "KB" || suffix == "KIB")
    shift = 10;
  else if (suffix == "M" || suffix == "MB" || suffix == "MIB")
    shift = 20;
  else if (suffix == "G" || suffix == "GB" || suffix == "GIB")
    shift = 30;
  else if (suffix == "T" || suffix == "TB" || suffix == "TIB")
    shift = 40;
  else
    return false;
  uint64_t value = std::strtoull(text.substr(0, digits).c_str(), nullptr, 10);
  if (shift && value > (~0ull >> shift))
    return false;
  bytes = value << shift;
  return true;
}

Status Session::prepareTeacherCache(size_t index,
                                    const data::ImageDataset &images,
                                    nlohmann::json &stageReport,
                                    bool &recompute) {
  const plan::StageSpec &stage = planSpec->stages[index];
  uint64_t floats = 0;
  for (const plan::CacheOutput &output : stage.teacherCache.outputs)
    floats += uint64_t(rowElements(*stage.graph.findBuffer(output.buffer)));
  uint64_t bytes = floats * uint64_t(images.count) * sizeof(float);

  uint64_t limit = 0;
  std::string limitFrom;
  if (options.teacherCacheLimit) {
    limit = *options.teacherCacheLimit;
    limitFrom = "the run's teacher cache limit";
  } else if (const char *env = std::getenv("KDRT_TEACHER_CACHE_LIMIT");
             env && *env) {
    if (!parseByteSize(env, limit))
      return Status::invalidArgument(
          "KDRT_TEACHER_CACHE_LIMIT='" + std::string(env) +
          "' is not a byte count (digits, optionally K, M, G or T)");
    limitFrom = "KDRT_TEACHER_CACHE_LIMIT";
  } else {
    limit = defaultCacheLimit();
    limitFrom = "half the memory available";
  }
  recompute = bytes > limit;
  stageReport["teacher_cache"] = {{"mode", recompute ? "recompute" : "cached"},
                                  {"bytes", bytes},
                                  {"limit_bytes", limit},
                                  {"samples", images.count}};
  runDir->appendMetrics({{"event", "teacher_cache"},
                         {"stage", stage.name},
                         {"mode", recompute ? "recompute" : "cached"},
                         {"bytes", bytes},
                         {"limit_bytes", limit}});
  if (!recompute)
    return fillTeacherCache(index, images);
  if (options.printProgress)
    std::fprintf(stderr,
                 "%s: the teacher cache would hold %s (%lld samples x %llu "
                 "floats), more than %s (%s): the teacher runs every step "
                 "instead\n",
                 stage.name.c_str(), humanBytes(bytes).c_str(),
                 static_cast<long long>(images.count),
                 static_cast<unsigned long long>(floats), humanBytes(limit).c_str(),
                 limitFrom.c_str());
  teacherCache[index].clear();
  return Status::success();
}

Status Session::teacherOutputs(size_t index, const data::Batch &batch,
                               bool recompute, OpContext &context) {
  if (!recompute)
    return gatherCached(index, batch);
  // The cache program reads the batch just fed and writes the buffers the
  // gather would fill.
  return stageGraphs[index]->run(context, 1);
}

Status Session::teacherCacheKey(size_t index, const data::ImageDataset &images,
                                std::string &key) {
  const plan::TeacherCacheSpec &spec = planSpec->stages[index].teacherCache;
  // Every parameter the teacher program reads, in name order.
  std::set<std::string> params;
  for (const plan::OpSpec &op : spec.program)
    for (const plan::Operand &operand : op.in)
      if (operand.kind == plan::Operand::Kind::Param)
        params.insert(operand.name);
  ContentHash hash;
  std::vector<float> host;
  for (const std::string &name : params) {
    if (!store->contains(name))
      return Status::invalidArgument("teacher cache of stage '" +
                                     planSpec->stages[index].name +
                                     "' reads the unknown parameter '" + name +
                                     "'");
    Tensor &value = store->value(name);
    host.resize(size_t(value.numElements()));
    KDRT_RETURN_IF_ERROR(device->copyOut(host.data(), value.data(),
                                         host.size() * sizeof(float)));
    hash.add(name);
    for (int64_t dim : value.shape().dims())
      hash.add(dim);
    hash.add(host.data(), host.size() * sizeof(float));
  }
  for (int64_t dim : {images.count, images.channels, images.height,
                      images.width})
    hash.add(dim);
  hash.add(images.pixels.data(), images.pixels.size());
  key = spec.key + "+" + hash.hex();
  return Status::success();
}

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

  // The key of the teacher as it is now, after the stages before this one.
  std::string runKey;
  KDRT_RETURN_IF_ERROR(teacherCacheKey(index, images, runKey));
  fs::path cacheDir = fs::path(runDir->path()) / "cache";
  std::string cachePath = (cacheDir / cacheFileName(runKey)).string();
  if (fs::exists(cachePath)) {
    io::SafetensorsFile file;
    try {
      file = io::readSafetensors(cachePath);
    } catch (const std::exception &) {
      // A damaged cache file is recomputed and rewritten.
    }
    auto key = file.metadata.find("key");
    bool usable = key != file.metadata.end() && key->second == runKey;
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
  file.metadata["key"] = runKey;
  file.metadata["plan_key"] = spec.key;
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

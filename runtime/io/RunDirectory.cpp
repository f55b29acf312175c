//===- RunDirectory.cpp - Metrics and results of one run ------------------===//

#include "kdrt/io/RunDirectory.h"

#include "kdrt/io/AtomicFile.h"
#include "kdrt/io/IoError.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace kdrt::io {

RunDirectory::RunDirectory(const std::string &path) : root(path) {
  std::error_code error;
  std::filesystem::create_directories(root, error);
  if (error)
    throw IoError("cannot create run directory " + root + ": " +
                  error.message());
  std::string metricsPath = pathOf(kMetricsFile);
  metrics = std::fopen(metricsPath.c_str(), "a");
  if (!metrics)
    throw IoError("cannot open " + metricsPath + ": " + std::strerror(errno));
}

RunDirectory::~RunDirectory() {
  if (metrics)
    std::fclose(metrics);
}

std::string RunDirectory::pathOf(const std::string &name) const {
  return (std::filesystem::path(root) / name).string();
}

void RunDirectory::appendMetrics(const nlohmann::json &record) {
  if (!record.is_object())
    throw IoError("a metrics record must be a JSON object");
  // Non-finite floats become null rather than invalid JSON.
  std::string line = record.dump(-1, ' ', false,
                                 nlohmann::json::error_handler_t::replace);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(metricsMutex);
  if (std::fwrite(line.data(), 1, line.size(), metrics) != line.size() ||
      std::fflush(metrics) != 0)
    throw IoError("cannot append to " + pathOf(kMetricsFile) + ": " +
                  std::strerror(errno));
}

void RunDirectory::writeFinalMetrics(const nlohmann::json &metrics) {
  std::string text =
      metrics.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  writeFileAtomically(pathOf(kFinalMetricsFile), text);
}

} // namespace kdrt::io

//===- RunDirectory.h - Metrics and results of one run ---------*- C++ -*-===//
//
// A run directory collects what a training run reports: `metrics.jsonl`, one
// JSON object per line, appended and flushed line by line so that a crashed
// or still-running job can be inspected, and `final_metrics.json`, written
// atomically at the end.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_IO_RUNDIRECTORY_H
#define KDRT_IO_RUNDIRECTORY_H

#include <nlohmann/json.hpp>

#include <cstdio>
#include <mutex>
#include <string>

namespace kdrt::io {

class RunDirectory {
public:
  static constexpr const char *kMetricsFile = "metrics.jsonl";
  static constexpr const char *kFinalMetricsFile = "final_metrics.json";

  /// Creates the directory (and parents) when missing. Appends to an
  /// existing metrics file, so a resumed run continues its log.
  explicit RunDirectory(const std::string &path);
  ~RunDirectory();
  RunDirectory(const RunDirectory &) = delete;
  RunDirectory &operator=(const RunDirectory &) = delete;

  /// Appends one JSON object as a line and flushes it. Thread-safe.
  void appendMetrics(const nlohmann::json &record);
  /// Writes final_metrics.json atomically (pretty-printed).
  void writeFinalMetrics(const nlohmann::json &metrics);

  /// `name` inside the directory.
  std::string pathOf(const std::string &name) const;
  const std::string &path() const { return root; }

private:
  std::string root;
  std::FILE *metrics = nullptr;
  std::mutex metricsMutex;
};

} // namespace kdrt::io

#endif // KDRT_IO_RUNDIRECTORY_H

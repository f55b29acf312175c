//===- PrimitiveCache.h - Primitives reused across calls --------*- C++ -*-===//
//
// Creating a oneDNN primitive descriptor and primitive costs far more than
// running it on the small tensors of a student network, and a training step
// calls the same layers with the same shapes every iteration. So every
// primitive is created once per key (op, shapes, attributes) and kept.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_ONEDNN_PRIMITIVECACHE_H
#define KDRT_ONEDNN_PRIMITIVECACHE_H

#include "kdrt/OneDnnBackend.h"

#include <any>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace kdrt::onednn {

/// Builds a cache key from an op name and the values that select its
/// primitive; values are separated so that "1,23" and "12,3" differ.
class CacheKey {
public:
  explicit CacheKey(const char *op) : text_(op) {}
  CacheKey &add(int64_t value) {
    text_ += ',';
    text_ += std::to_string(value);
    return *this;
  }
  CacheKey &add(double value) {
    text_ += ',';
    text_ += std::to_string(value);
    return *this;
  }
  CacheKey &add(const std::vector<int64_t> &values) {
    text_ += '[';
    for (int64_t value : values)
      add(value);
    text_ += ']';
    return *this;
  }
  CacheKey &addBytes(const void *data, size_t size) {
    text_ += '|';
    text_.append(static_cast<const char *>(data), size);
    return *this;
  }
  const std::string &str() const { return text_; }

private:
  std::string text_;
};

class PrimitiveCache {
public:
  /// The entry stored under `key`, created by `create()` on the first call.
  /// Entry is a copyable struct of oneDNN handles (they are shared
  /// references); the key's op name must imply the Entry type.
  template <typename Entry, typename Create>
  const Entry &getOrCreate(const CacheKey &key, Create create) {
    auto found = entries_.find(key.str());
    if (found != entries_.end()) {
      ++stats_.hits;
      return *std::any_cast<Entry>(&found->second);
    }
    ++stats_.misses;
    auto inserted = entries_.emplace(key.str(), std::any(Entry(create())));
    return *std::any_cast<Entry>(&inserted.first->second);
  }

  PrimitiveCacheStats stats() const { return stats_; }
  void resetStats() { stats_ = {}; }

private:
  std::unordered_map<std::string, std::any> entries_;
  PrimitiveCacheStats stats_;
};

} // namespace kdrt::onednn

#endif // KDRT_ONEDNN_PRIMITIVECACHE_H

//===- PrimitiveCache.h - Primitives reused across calls --------*- C++ -*-===//
//
// Creating a oneDNN primitive descriptor and primitive costs far more than
// running it on the small tensors of a student network, and a training step
// calls the same layers with the same shapes every iteration. So every
// primitive is created once per key (op, shapes, attributes) and kept.
//
// At batch 1 a student's whole forward takes tens of microseconds, so the
// lookup itself must be cheap too: a key is a byte string built in a buffer
// on the stack (values in binary, memory descriptors in a compact exact
// form, not their 696-byte struct), hashed once, and found without
// allocating. The same keyed store holds the oneDNN memories over tensors
// and the reordered weights (DnnContext.h).
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_ONEDNN_PRIMITIVECACHE_H
#define KDRT_ONEDNN_PRIMITIVECACHE_H

#include "kdrt/OneDnnBackend.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <any>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kdrt::onednn {

/// An exact key: the op's name, then values appended in binary, a vector
/// with its length first, so no two different sequences give the same bytes.
/// Short keys live in an inline buffer; longer ones move to the heap.
class CacheKey {
public:
  explicit CacheKey(const char *op) { appendRaw(op, std::strlen(op) + 1); }
  CacheKey(const CacheKey &other) { appendRaw(other.data(), other.size()); }
  CacheKey &operator=(const CacheKey &) = delete;

  CacheKey &add(int64_t value) { return appendRaw(&value, sizeof value); }
  CacheKey &add(double value) { return appendRaw(&value, sizeof value); }
  CacheKey &add(const void *address) {
    return appendRaw(&address, sizeof address);
  }
  CacheKey &add(const std::vector<int64_t> &values) {
    add(int64_t(values.size()));
    return appendRaw(values.data(), values.size() * sizeof(int64_t));
  }
  /// What identifies a memory descriptor: rank, dims, data type, offsets,
  /// padding, format and (for blocked formats) strides and inner blocks.
  CacheKey &add(const dnnl::memory::desc &desc);
  CacheKey &addBytes(const void *data, size_t size) {
    add(int64_t(size));
    return appendRaw(data, size);
  }

  std::string_view bytes() const { return {data(), size()}; }
  /// Eight bytes at a time (keys run to a few hundred bytes and are hashed
  /// on every lookup), each word mixed by a multiply and a shift.
  uint64_t hash() const {
    const char *p = data();
    size_t n = size();
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    auto mix = [&h](uint64_t word) {
      h = (h ^ word) * 0xbf58476d1ce4e5b9ull;
      h ^= h >> 31;
    };
    for (; n >= 8; p += 8, n -= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      mix(word);
    }
    if (n) {
      uint64_t word = 0;
      std::memcpy(&word, p, n);
      mix(word);
    }
    return h;
  }

private:
  static constexpr size_t kInline = 512;
  const char *data() const { return heap_.empty() ? inline_ : heap_.data(); }
  size_t size() const { return heap_.empty() ? size_ : heap_.size(); }
  CacheKey &appendRaw(const void *bytes, size_t count) {
    if (heap_.empty() && size_ + count <= kInline) {
      std::memcpy(inline_ + size_, bytes, count);
      size_ += count;
    } else {
      if (heap_.empty())
        heap_.assign(inline_, size_);
      heap_.append(static_cast<const char *>(bytes), count);
    }
    return *this;
  }

  char inline_[kInline];
  size_t size_ = 0;
  std::string heap_;
};

/// Values by exact key. A found value's address stays valid until clear().
template <typename Value> class KeyedStore {
public:
  /// The value under `key`, or null.
  Value *find(const CacheKey &key) {
    auto bucket = buckets_.find(key.hash());
    if (bucket == buckets_.end())
      return nullptr;
    for (const std::unique_ptr<Slot> &slot : bucket->second)
      if (slot->key == key.bytes())
        return &slot->value;
    return nullptr;
  }
  Value &insert(const CacheKey &key, Value value) {
    auto &bucket = buckets_[key.hash()];
    bucket.push_back(std::make_unique<Slot>(
        Slot{std::string(key.bytes()), std::move(value)}));
    ++size_;
    return bucket.back()->value;
  }
  size_t size() const { return size_; }
  void clear() {
    buckets_.clear();
    size_ = 0;
  }

private:
  struct Slot {
    std::string key;
    Value value;
  };
  std::unordered_map<uint64_t, std::vector<std::unique_ptr<Slot>>> buckets_;
  size_t size_ = 0;
};

class PrimitiveCache {
public:
  /// The entry stored under `key`, created by `create()` on the first call.
  /// Entry is a copyable struct of oneDNN handles (they are shared
  /// references); the key's op name must imply the Entry type. The
  /// reference stays valid for the cache's life.
  template <typename Entry, typename Create>
  const Entry &getOrCreate(const CacheKey &key, Create create) {
    if (std::any *found = entries_.find(key)) {
      ++stats_.hits;
      return *std::any_cast<Entry>(found);
    }
    ++stats_.misses;
    return *std::any_cast<Entry>(&entries_.insert(key, std::any(Entry(create()))));
  }

  PrimitiveCacheStats stats() const { return stats_; }
  void resetStats() { stats_ = {}; }

private:
  KeyedStore<std::any> entries_;
  PrimitiveCacheStats stats_;
};

} // namespace kdrt::onednn

#endif // KDRT_ONEDNN_PRIMITIVECACHE_H

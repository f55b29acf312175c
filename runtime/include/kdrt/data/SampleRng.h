//===- SampleRng.h - Counter-based random numbers for data ------*- C++ -*-===//
//
// Every random decision of the data pipeline comes from a generator keyed by
// (seed, stream, epoch, sample), never from shared state. A sample therefore
// gets the same shuffle position and the same augmentation whichever thread
// prepares it and in whatever order batches are built.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_SAMPLERNG_H
#define KDRT_DATA_SAMPLERNG_H

#include <cstdint>

namespace kdrt::data {

/// Separate streams so that, e.g., the shuffle and the augmentation of the
/// same epoch do not draw correlated numbers.
enum class RandomStream : uint64_t {
  Shuffle = 1,
  Augment = 2,
  FewShot = 3,
};

class SampleRng {
public:
  SampleRng(uint64_t seed, RandomStream stream, uint64_t epoch,
            uint64_t sample)
      : state(mix(mix(mix(mix(seed) ^ uint64_t(stream)) ^ epoch) ^ sample)) {}

  /// SplitMix64: a full-period 64-bit generator with good mixing.
  uint64_t next() {
    state += 0x9E3779B97F4A7C15ull;
    return mix(state);
  }
  /// Uniform in [0, 1).
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [low, high).
  double uniform(double low, double high) {
    return low + (high - low) * uniform();
  }
  /// Uniform integer in [0, bound); bound > 0.
  uint64_t below(uint64_t bound) {
    // Rejection removes the modulo bias of small ranges.
    uint64_t limit = ~uint64_t(0) - (~uint64_t(0) % bound);
    uint64_t value;
    do
      value = next();
    while (value >= limit);
    return value % bound;
  }

private:
  static uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  uint64_t state;
};

} // namespace kdrt::data

#endif // KDRT_DATA_SAMPLERNG_H

//===- fma_peak.cpp - The machine's measured FP32 FMA peak ---------------===//
//
// Measures how many single-precision floating-point operations per second the
// cores can retire when doing nothing but fused multiply-adds: the ceiling
// against which the benchmark's achieved GFLOP/s are read.
//
// Each thread keeps several independent accumulators in vector registers so
// that the FMA latency (4 cycles on current x86 cores) is hidden behind the
// throughput of the FMA ports; one thread runs per core. The vector width is
// picked at compile time from the target (build with -march=native):
// AVX-512, else AVX2 + FMA, else scalar multiply-adds.
//
//   fma_peak [--threads N] [--seconds S] [--trials K]
//
// Prints one JSON object: isa, lanes, threads, seconds, gflops (the best
// trial), gflops_per_thread.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace {

// Enough accumulators for 2 FMA ports x 4 cycles of latency, with headroom.
constexpr int kAccumulators = 12;
// FMAs per accumulator between two looks at the clock: long enough that the
// clock costs nothing, short enough to stop close to the deadline.
constexpr long kInnerIterations = 1 << 14;

#if defined(__AVX512F__)
constexpr const char *kIsa = "avx512";
constexpr int kLanes = 16;
using Vector = __m512;
inline Vector splat(float value) { return _mm512_set1_ps(value); }
inline Vector fma(Vector a, Vector b, Vector c) {
  return _mm512_fmadd_ps(a, b, c);
}
inline float firstLane(Vector v) { return _mm512_cvtss_f32(v); }
#elif defined(__AVX2__) && defined(__FMA__)
constexpr const char *kIsa = "avx2";
constexpr int kLanes = 8;
using Vector = __m256;
inline Vector splat(float value) { return _mm256_set1_ps(value); }
inline Vector fma(Vector a, Vector b, Vector c) {
  return _mm256_fmadd_ps(a, b, c);
}
inline float firstLane(Vector v) { return _mm256_cvtss_f32(v); }
#else
constexpr const char *kIsa = "scalar";
constexpr int kLanes = 1;
using Vector = float;
inline Vector splat(float value) { return value; }
// std::fma would be a library call on targets without FMA instructions; a
// multiply-add is what such a machine's kernels compute.
inline Vector fma(Vector a, Vector b, Vector c) { return a * b + c; }
inline float firstLane(Vector v) { return v; }
#endif

using Clock = std::chrono::steady_clock;

struct ThreadResult {
  long fmaVectors = 0; // vector FMAs retired
  float checksum = 0;  // keeps the work observable to the optimiser
};

// acc = acc * a + b with 0 < a < 1 converges to b / (1 - a) = 1: the values
// stay normal (no denormal slow path) and never overflow.
ThreadResult spin(Clock::time_point deadline) {
  const Vector a = splat(0.9999f), b = splat(0.0001f);
  Vector acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i)
    acc[i] = splat(float(i) * 0.01f);
  ThreadResult result;
  do {
    for (long n = 0; n < kInnerIterations; ++n) {
      // Fully unrolled, the accumulators live in registers; a loop would
      // keep them in memory and measure the load-store path instead.
#pragma GCC unroll 16
      for (int i = 0; i < kAccumulators; ++i)
        acc[i] = fma(acc[i], a, b);
    }
    result.fmaVectors += kInnerIterations * kAccumulators;
  } while (Clock::now() < deadline);
  for (int i = 0; i < kAccumulators; ++i)
    result.checksum += firstLane(acc[i]);
  return result;
}

double trial(int threads, double seconds, float &checksum) {
  std::vector<ThreadResult> results(static_cast<size_t>(threads));
  std::vector<std::thread> workers;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point deadline;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      results[size_t(t)] = spin(deadline);
    });
  // Start every thread at once so that none runs alone on a quiet machine.
  while (ready.load() < threads) {
  }
  Clock::time_point start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(seconds));
  go.store(true, std::memory_order_release);
  for (std::thread &worker : workers)
    worker.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  long vectors = 0;
  for (const ThreadResult &r : results) {
    vectors += r.fmaVectors;
    checksum += r.checksum;
  }
  // One FMA is two floating-point operations per lane.
  return double(vectors) * kLanes * 2 / elapsed / 1e9;
}

bool parsePositive(const char *text, double &value) {
  char *end = nullptr;
  value = std::strtod(text, &end);
  return end != text && *end == '\0' && std::isfinite(value) && value > 0;
}

int usage(const char *message) {
  std::fprintf(stderr,
               "fma_peak: error: %s\nusage: fma_peak [--threads N] [--seconds "
               "S] [--trials K]\n",
               message);
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  double seconds = 1.0;
  int trials = 3;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help") {
      std::printf("usage: fma_peak [--threads N] [--seconds S] [--trials K]\n");
      return 0;
    }
    if (i + 1 >= argc)
      return usage(("missing value after " + flag).c_str());
    double value = 0;
    if (!parsePositive(argv[++i], value))
      return usage(("not a positive number after " + flag).c_str());
    if (flag == "--threads" && value == std::floor(value) && value <= 4096)
      threads = int(value);
    else if (flag == "--seconds" && value <= 600)
      seconds = value;
    else if (flag == "--trials" && value == std::floor(value) && value <= 1000)
      trials = int(value);
    else
      return usage(("bad option or value: " + flag).c_str());
  }

  float checksum = 0;
  double best = 0;
  for (int t = 0; t < trials; ++t)
    best = std::max(best, trial(threads, seconds, checksum));
  std::printf("{\"isa\": \"%s\", \"lanes\": %d, \"threads\": %d, \"seconds\": "
              "%g, \"gflops\": %.2f, "
              "\"gflops_per_thread\": %.2f, \"checksum\": %g}\n",
              kIsa, kLanes, threads, seconds, best, best / threads,
              double(checksum));
  return 0;
}

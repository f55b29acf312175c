//===- GradCheck.h - Finite-difference gradient checking --------*- C++ -*-===//
//
// Central differences in double against the analytic gradients of the
// reference kernels, compared with a norm-based relative error.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TEST_GRADCHECK_H
#define KDRT_TEST_GRADCHECK_H

#include "kdrt/reference/TensorRef.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace kdrt::test {

/// A double buffer with a shape, viewable as kernel operands.
struct Buffer {
  Shape shape;
  std::vector<double> values;

  Buffer() = default;
  explicit Buffer(Shape s) : shape(std::move(s)), values(shape.numElements()) {}
  reference::TensorRef<const double> in() const {
    return {values.data(), shape};
  }
  reference::TensorRef<double> out() { return {values.data(), shape}; }
};

/// Uniform values in [lo, hi), reproducible per seed.
inline Buffer randomBuffer(Shape shape, unsigned seed, double lo = -1.0,
                           double hi = 1.0) {
  Buffer buffer(std::move(shape));
  std::mt19937 engine(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  for (double &v : buffer.values)
    v = dist(engine);
  return buffer;
}

/// Distinct values spaced at least `gap` apart, shuffled: keeps max-pool and
/// relu inputs away from ties and kinks, so the gradient is well defined.
inline Buffer distinctBuffer(Shape shape, unsigned seed, double gap = 0.05) {
  Buffer buffer(std::move(shape));
  int64_t count = buffer.shape.numElements();
  for (int64_t i = 0; i < count; ++i)
    // The 0.3 offset keeps every value at least 0.2 * gap away from zero.
    buffer.values[i] = (double(i) - double(count) / 2 + 0.3) * gap;
  std::shuffle(buffer.values.begin(), buffer.values.end(),
               std::mt19937(seed));
  return buffer;
}

struct GradientPair {
  std::string name;
  Buffer *input;      // perturbed in place
  Buffer *analytic;   // gradient from the backward kernel
};

inline double relativeError(const std::vector<double> &a,
                            const std::vector<double> &b) {
  double diff = 0, normA = 0, normB = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  // The floor keeps gradients that are exactly zero in theory (e.g. the
  // bias before a softmax) from turning rounding noise into a failure.
  return std::sqrt(diff) / std::max({std::sqrt(normA), std::sqrt(normB), 1e-6});
}

/// Checks every pair: d objective / d input (central differences) against
/// the analytic gradient. `objective` recomputes from the current inputs.
inline void expectGradients(const std::function<double()> &objective,
                            const std::vector<GradientPair> &pairs,
                            double tolerance = 1e-3, double step = 1e-6) {
  for (const GradientPair &pair : pairs) {
    ASSERT_EQ(pair.input->values.size(), pair.analytic->values.size())
        << pair.name;
    std::vector<double> numeric(pair.input->values.size());
    for (size_t i = 0; i < numeric.size(); ++i) {
      double saved = pair.input->values[i];
      pair.input->values[i] = saved + step;
      double plus = objective();
      pair.input->values[i] = saved - step;
      double minus = objective();
      pair.input->values[i] = saved;
      numeric[i] = (plus - minus) / (2 * step);
    }
    double error = relativeError(pair.analytic->values, numeric);
    EXPECT_LT(error, tolerance) << "gradient w.r.t. " << pair.name;
  }
}

/// sum(weights * y): the scalar whose gradient w.r.t. y is `weights`.
inline double projected(const Buffer &y, const Buffer &weights) {
  double sum = 0;
  for (size_t i = 0; i < y.values.size(); ++i)
    sum += y.values[i] * weights.values[i];
  return sum;
}

} // namespace kdrt::test

#endif // KDRT_TEST_GRADCHECK_H

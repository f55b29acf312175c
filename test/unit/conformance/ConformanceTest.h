//===- ConformanceTest.h - The value-parameterised fixture ------*- C++ -*-===//

#ifndef KDRT_TEST_CONFORMANCE_CONFORMANCETEST_H
#define KDRT_TEST_CONFORMANCE_CONFORMANCETEST_H

#include "BackendRegistry.h"
#include "OpCase.h"

#include "kdrt/ReferenceBackend.h"

#include <gtest/gtest.h>

namespace kdrt::conformance {

class Conformance : public ::testing::TestWithParam<BackendFactory> {
protected:
  void SetUp() override { backend_ = GetParam().create(); }
  Backend &backend() { return *backend_; }

private:
  std::unique_ptr<Backend> backend_;
};

/// For preparing valid inputs (e.g. a softmax output) on the host.
inline std::unique_ptr<Backend> createReferenceBackendForTests() {
  return createReferenceBackend();
}

// Tolerances by op family (relative, see OpCase.h).
/// Sums of products (conv, linear, matmul): fp32 with another summation
/// order and blocking.
inline constexpr double kProductTolerance = 1e-4;
/// Elementwise and softmax: one rounding per value plus library
/// approximations of exp/erf/tanh.
inline constexpr double kElementwiseTolerance = 1e-4;
/// Normalization: variances over long sums and rsqrt; oneDNN computes the
/// statistics in a different order and the backward subtracts nearly equal
/// sums, so errors are an order larger.
inline constexpr double kNormTolerance = 1e-3;
/// A convolution with ConvPrecision::Bf16 where the backend honours it:
/// input and weight rounded to bf16 (8 significant bits, a relative error
/// of up to 2^-9 each), products summed in fp32.
inline constexpr double kBf16Tolerance = 2e-2;

} // namespace kdrt::conformance

#endif // KDRT_TEST_CONFORMANCE_CONFORMANCETEST_H

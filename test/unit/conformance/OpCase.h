//===- OpCase.h - One op call run on two backends and compared --*- C++ -*-===//
//
// An OpCase holds host tensors (seeded random inputs, sentinel-filled
// outputs), mirrors them into each backend's own memory through allocate /
// copyIn / copyOut (so device backends are tested the same way), runs the
// same call on the backend under test and on the reference backend, and
// compares every checked tensor.
//
// Tolerance: |got - want| <= rtol * (|want| + mean|want|) + atol. The mean
// term absorbs the rounding of long fp32 sums whose result is much smaller
// than their terms (a relative error per element alone would fail on values
// that cancel to near zero). atol is 0 but for an output that is zero in
// exact arithmetic, where both sides hold only rounding noise.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TEST_CONFORMANCE_OPCASE_H
#define KDRT_TEST_CONFORMANCE_OPCASE_H

#include "kdrt/Backend.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace kdrt::conformance {

/// Seeded uniform values in [low, high).
Tensor randomTensor(const Shape &shape, uint64_t seed, float low = -1.0f,
                    float high = 1.0f);

/// Compares `got` with `want` under the tolerance above; NaN in `got`
/// (an unwritten sentinel) fails.
::testing::AssertionResult closeTo(const Tensor &got, const Tensor &want,
                                   double rtol, const std::string &what,
                                   double atol = 0);

class OpCase {
public:
  using Run = std::function<Status(Backend &, std::vector<Tensor> &)>;

  explicit OpCase(double rtol) : rtol_(rtol) {}

  /// A random input; returns its slot.
  int input(const Shape &shape, float low = -1.0f, float high = 1.0f);
  /// An input with given contents.
  int input(const Tensor &host);
  /// An output the call must fully write (starts as NaN), checked; `atol`
  /// for one that is zero in exact arithmetic (see the tolerance above).
  int output(const Shape &shape, double atol = 0);
  /// A tensor the call updates in place (e.g. running stats), checked.
  int inout(const Tensor &host);

  /// Runs `run` on `candidate` and on the reference backend and compares
  /// every checked slot. A failed Status (unimplemented included) fails.
  ::testing::AssertionResult matchesReference(Backend &candidate,
                                              const Run &run) const;

private:
  struct Slot {
    Tensor host;
    bool checked;
    double atol = 0;
  };
  ::testing::AssertionResult runOn(Backend &backend, const Run &run,
                                   std::vector<Tensor> &results) const;

  double rtol_;
  uint64_t nextSeed_ = 1;
  std::vector<Slot> slots_;
};

} // namespace kdrt::conformance

#endif // KDRT_TEST_CONFORMANCE_OPCASE_H

//===- SuiteSelfTest.cpp - The suite can fail -----------------------------===//
//
// A conformance suite that cannot fail proves nothing: a backend with a
// wrong kernel, or one that leaves an entry unimplemented, must be caught.
//
//===----------------------------------------------------------------------===//

#include "ConformanceTest.h"

namespace kdrt::conformance {
namespace {

/// Implements only memory: every op entry stays unimplemented.
class MemoryOnlyBackend : public Backend {
public:
  const char *name() const override { return "memory-only"; }
  Status allocate(size_t bytes, void **buffer) override {
    return reference_->allocate(bytes, buffer);
  }
  void deallocate(void *buffer) override { reference_->deallocate(buffer); }
  Status copyIn(void *dst, const void *src, size_t bytes) override {
    return reference_->copyIn(dst, src, bytes);
  }
  Status copyOut(void *dst, const void *src, size_t bytes) override {
    return reference_->copyOut(dst, src, bytes);
  }

protected:
  std::unique_ptr<Backend> reference_ = createReferenceBackendForTests();
};

/// A relu that leaks a little of the negative side.
class LeakyReluBackend : public MemoryOnlyBackend {
public:
  const char *name() const override { return "leaky"; }
  Status activationForward(const ActivationDesc &desc, const Tensor &x,
                           Tensor &y) override {
    KDRT_RETURN_IF_ERROR(reference_->activationForward(desc, x, y));
    for (int64_t i = 0; i < x.numElements(); ++i)
      if (x.data()[i] < 0)
        y.data()[i] = 1e-3f * x.data()[i];
    return Status::success();
  }
  /// Writes nothing: the NaN sentinel must be caught.
  Status activationBackward(const ActivationDesc &, const Tensor &,
                            const Tensor &, Tensor &) override {
    return Status::success();
  }
};

OpCase reluCase(int &x, int &y) {
  OpCase op(kElementwiseTolerance);
  x = op.input(Shape{3, 5, 7});
  y = op.output(Shape{3, 5, 7});
  return op;
}

TEST(ConformanceSuite, UnimplementedEntryFails) {
  MemoryOnlyBackend backend;
  int x, y;
  OpCase op = reluCase(x, y);
  auto result = op.matchesReference(
      backend, [&](Backend &be, std::vector<Tensor> &t) {
        return be.activationForward({}, t[x], t[y]);
      });
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("does not implement"),
            std::string::npos);
}

TEST(ConformanceSuite, WrongValuesFail) {
  LeakyReluBackend backend;
  int x, y;
  OpCase op = reluCase(x, y);
  EXPECT_FALSE(op.matchesReference(
      backend, [&](Backend &be, std::vector<Tensor> &t) {
        return be.activationForward({}, t[x], t[y]);
      }));
}

TEST(ConformanceSuite, UnwrittenOutputFails) {
  LeakyReluBackend backend;
  OpCase op(kElementwiseTolerance);
  int x = op.input(Shape{4}), dy = op.input(Shape{4});
  int dx = op.output(Shape{4});
  EXPECT_FALSE(op.matchesReference(
      backend, [&](Backend &be, std::vector<Tensor> &t) {
        return be.activationBackward({}, t[x], t[dy], t[dx]);
      }));
}

TEST(ConformanceSuite, ToleranceScalesWithTheValues) {
  Tensor want = Tensor::owning({2}), got = Tensor::owning({2});
  want.data()[0] = got.data()[0] = 100.0f;
  want.data()[1] = 0.0f;
  got.data()[1] = 5e-3f; // Below 1e-4 * (0 + mean 50).
  EXPECT_TRUE(closeTo(got, want, 1e-4, "t"));
  got.data()[1] = 2e-2f;
  EXPECT_FALSE(closeTo(got, want, 1e-4, "t"));
}

} // namespace
} // namespace kdrt::conformance

//===- KernelValueTest.cpp - Hand-derived values and the backend ----------===//

#include "GradCheck.h"
#include "kdrt/ReferenceBackend.h"
#include "kdrt/reference/Kernels.h"

using namespace kdrt;
using namespace kdrt::reference;
using namespace kdrt::test;

namespace {

TEST(KernelValue, Conv2x2ByHand) {
  // Input [[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel [[1, 0], [0, -1]],
  // bias 10: out[i][j] = x[i][j] - x[i+1][j+1] + 10 = 6 everywhere.
  Buffer x(Shape{1, 1, 3, 3}), w(Shape{1, 1, 2, 2}), b(Shape{1}),
      y(Shape{1, 1, 2, 2});
  x.values = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  w.values = {1, 0, 0, -1};
  b.values = {10};
  ASSERT_TRUE(conv2dForward<double>({}, x.in(), w.in(), b.in(), y.out()).ok());
  EXPECT_EQ(y.values, (std::vector<double>{6, 6, 6, 6}));
}

TEST(KernelValue, BatchNormOfKnownBatch) {
  // Channel values (1, 3) over a batch of 2: mean 2, biased var 1, so the
  // output is (-1, 1) / sqrt(1 + eps) with gamma 1, beta 0. Running stats
  // with momentum 0.1 from (0, 1): mean 0.2, var 0.9 + 0.1 * 2 (unbiased).
  Buffer x(Shape{2, 1}), g(Shape{1}), b(Shape{1}), mean(Shape{1}),
      var(Shape{1}), y(Shape{2, 1});
  x.values = {1, 3};
  g.values = {1};
  var.values = {1};
  BatchNormDesc desc;
  ASSERT_TRUE(batchNormForward<double>(desc, x.in(), g.in(), b.in(),
                                       mean.out(), var.out(), y.out())
                  .ok());
  double scale = 1 / std::sqrt(1 + desc.eps);
  EXPECT_NEAR(y.values[0], -scale, 1e-12);
  EXPECT_NEAR(y.values[1], scale, 1e-12);
  EXPECT_NEAR(mean.values[0], 0.2, 1e-12);
  EXPECT_NEAR(var.values[0], 1.1, 1e-12);
}

TEST(KernelValue, BilinearResizeByHand) {
  // [[0, 1], [2, 3]] to 4x4, align_corners=false: output (1, 1) samples
  // source (0.25, 0.25) = 0.75*0.75*0 + 0.75*0.25*1 + 0.25*0.75*2 +
  // 0.25*0.25*3 = 0.75; output (0, 0) clamps to source (0, 0) = 0.
  Buffer x(Shape{1, 1, 2, 2}), y(Shape{1, 1, 4, 4});
  x.values = {0, 1, 2, 3};
  ASSERT_TRUE(resizeForward<double>({ResizeMode::Bilinear, 4, 4}, x.in(),
                                    y.out())
                  .ok());
  EXPECT_NEAR(y.values[0], 0.0, 1e-12);
  EXPECT_NEAR(y.values[1 * 4 + 1], 0.75, 1e-12);
  EXPECT_NEAR(y.values[3 * 4 + 3], 3.0, 1e-12);
}

TEST(KernelValue, AvgPoolExcludesPadding) {
  // 2x2 of ones, 3x3 window, pad 1, stride 1: every window sees only the
  // ones, so every output is exactly 1 (PyTorch count_include_pad=False).
  Buffer x(Shape{1, 1, 2, 2}), y(Shape{1, 1, 2, 2});
  x.values = {1, 1, 1, 1};
  ASSERT_TRUE(pool2dForward<double>({PoolMode::Avg, 3, 3, 1, 1, 1, 1, false},
                                    x.in(), y.out())
                  .ok());
  EXPECT_EQ(y.values, (std::vector<double>{1, 1, 1, 1}));
}

TEST(ReferenceBackend, RunsThroughTheInterfaceAndReportsBadShapes) {
  std::unique_ptr<Backend> backend = createReferenceBackend();
  EXPECT_STREQ(backend->name(), "reference");
  Tensor x = Tensor::owning(Shape{1, 1, 3, 3});
  Tensor w = Tensor::owning(Shape{1, 1, 2, 2});
  Tensor y = Tensor::owning(Shape{1, 1, 2, 2});
  for (int i = 0; i < 9; ++i)
    x.data()[i] = float(i + 1);
  w.data()[0] = 1;
  w.data()[3] = -1;
  ASSERT_TRUE(backend->conv2dForward({}, x, w, nullptr, y).ok());
  EXPECT_FLOAT_EQ(y.data()[0], -4.0f);
  Tensor wrong = Tensor::owning(Shape{1, 1, 3, 3});
  Status status = backend->conv2dForward({}, x, w, nullptr, wrong);
  EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
  EXPECT_NE(status.message().find("conv2d"), std::string::npos);

  void *buffer = nullptr;
  ASSERT_TRUE(backend->allocate(16, &buffer).ok());
  float host[4] = {1, 2, 3, 4}, back[4] = {};
  ASSERT_TRUE(backend->copyIn(buffer, host, sizeof(host)).ok());
  ASSERT_TRUE(backend->copyOut(back, buffer, sizeof(back)).ok());
  EXPECT_EQ(back[3], 4.0f);
  backend->deallocate(buffer);
}

TEST(OpKind, SpellingsRoundTrip) {
  for (int i = 0; i < kNumOpKinds; ++i) {
    OpKind kind = static_cast<OpKind>(i);
    EXPECT_EQ(parseOpKind(opKindName(kind)), kind);
  }
  EXPECT_FALSE(parseOpKind("no_such_op").has_value());
  EXPECT_TRUE(isLoss(OpKind::DkdLoss));
  EXPECT_FALSE(isLoss(OpKind::Conv2d));
}

} // namespace

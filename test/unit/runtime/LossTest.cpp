//===- LossTest.cpp - Loss gradients and hand-derived loss values ---------===//

#include "GradCheck.h"
#include "kdrt/reference/Kernels.h"

using namespace kdrt;
using namespace kdrt::reference;
using namespace kdrt::test;

namespace {

/// Checks the gradients a fused loss writes against finite differences of
/// the value it returns.
void checkLoss(const std::function<Status(Buffer &loss, bool withGrads)> &run,
               const std::vector<GradientPair> &pairs) {
  Buffer loss(Shape{});
  Status status = run(loss, true);
  ASSERT_TRUE(status.ok()) << status.message();
  expectGradients(
      [&] {
        Buffer value(Shape{});
        EXPECT_TRUE(run(value, false).ok());
        return value.values[0];
      },
      pairs);
}

TEST(LossGradient, CrossEntropyHardSmoothedAndSoft) {
  Buffer z = randomBuffer(Shape{3, 5}, 1, -2, 2), dz(z.shape);
  Buffer labels(Shape{3});
  labels.values = {4, 0, 2};
  checkLoss(
      [&](Buffer &loss, bool g) {
        return crossEntropyLoss<double>({0.1, false, 1.0}, z.in(), labels.in(),
                                        loss.out(),
                                        g ? dz.out() : TensorRef<double>());
      },
      {{"logits", &z, &dz}});
  Buffer soft = randomBuffer(Shape{3, 5}, 2, 0, 1);
  checkLoss(
      [&](Buffer &loss, bool g) {
        return crossEntropyLoss<double>({0.0, true, 1.0}, z.in(), soft.in(),
                                        loss.out(),
                                        g ? dz.out() : TensorRef<double>());
      },
      {{"logits", &z, &dz}});
}

TEST(LossGradient, KlBothSidesEveryReduction) {
  for (Reduction reduction :
       {Reduction::BatchMean, Reduction::Sum, Reduction::Mean}) {
    KlDivDesc desc{4.0, true, reduction, 1.0};
    Buffer s = randomBuffer(Shape{3, 7}, 1, -3, 3),
           t = randomBuffer(Shape{3, 7}, 2, -3, 3);
    Buffer ds(s.shape), dt(t.shape);
    checkLoss(
        [&](Buffer &loss, bool g) {
          return klDivLoss<double>(desc, s.in(), t.in(), loss.out(),
                                   g ? ds.out() : TensorRef<double>(),
                                   g ? dt.out() : TensorRef<double>());
        },
        {{"student", &s, &ds}, {"teacher", &t, &dt}});
  }
}

TEST(LossGradient, Regression) {
  for (RegressionKind kind :
       {RegressionKind::Mse, RegressionKind::L1, RegressionKind::SmoothL1}) {
    // Differences at least 0.01 from 0 and from +-beta: away from kinks.
    Buffer x = distinctBuffer(Shape{3, 5, 7}, 1, 0.023), t(x.shape), dx(x.shape),
           dt(x.shape);
    RegressionLossDesc desc{kind, 0.5, 1.0};
    checkLoss(
        [&](Buffer &loss, bool g) {
          return regressionLoss<double>(desc, x.in(), t.in(), loss.out(),
                                        g ? dx.out() : TensorRef<double>(),
                                        g ? dt.out() : TensorRef<double>());
        },
        {{"input", &x, &dx}, {"target", &t, &dt}});
  }
}

TEST(LossGradient, Cosine) {
  Buffer a = randomBuffer(Shape{3, 2, 5}, 1), b = randomBuffer(Shape{3, 2, 5}, 2);
  Buffer da(a.shape), db(b.shape);
  checkLoss(
      [&](Buffer &loss, bool g) {
        return cosineLoss<double>({}, a.in(), b.in(), loss.out(),
                                  g ? da.out() : TensorRef<double>(),
                                  g ? db.out() : TensorRef<double>());
      },
      {{"lhs", &a, &da}, {"rhs", &b, &db}});
}

TEST(LossGradient, AttentionTransfer) {
  Buffer s = randomBuffer(Shape{3, 2, 5, 7}, 1), t = randomBuffer(Shape{3, 4, 5, 7}, 2);
  Buffer ds(s.shape), dt(t.shape);
  checkLoss(
      [&](Buffer &loss, bool g) {
        return attentionTransferLoss<double>({}, s.in(), t.in(), loss.out(),
                                             g ? ds.out() : TensorRef<double>(),
                                             g ? dt.out() : TensorRef<double>());
      },
      {{"student", &s, &ds}, {"teacher", &t, &dt}});
}

TEST(LossGradient, RkdDistanceAndAngleBothSides) {
  // Both sides trainable (a fusion module on the teacher side), of
  // different widths; then the student side alone, as with a frozen
  // teacher.
  Buffer s = randomBuffer(Shape{5, 3}, 1), t = randomBuffer(Shape{5, 4}, 2);
  Buffer ds(s.shape), dt(t.shape);
  for (bool angle : {false, true}) {
    auto run = [&](Buffer &loss, bool g, bool teacherSide) {
      TensorRef<double> gs = g ? ds.out() : TensorRef<double>();
      TensorRef<double> gt =
          g && teacherSide ? dt.out() : TensorRef<double>();
      return angle ? rkdAngleLoss<double>({}, s.in(), t.in(), loss.out(), gs,
                                          gt)
                   : rkdDistanceLoss<double>({}, s.in(), t.in(), loss.out(),
                                             gs, gt);
    };
    checkLoss([&](Buffer &loss, bool g) { return run(loss, g, true); },
              {{"student", &s, &ds}, {"teacher", &t, &dt}});
    checkLoss([&](Buffer &loss, bool g) { return run(loss, g, false); },
              {{"student", &s, &ds}});
  }
}

TEST(LossGradient, RkdTeacherGradientIsScaledAndSkipsCoincidentRows) {
  // Rows 0 and 3 of the teacher coincide: their distance is 0 and carries
  // no gradient (as the student side); the teacher's gradient is the
  // gradScale multiple of the unscaled one.
  Buffer s = randomBuffer(Shape{4, 3}, 3), t = randomBuffer(Shape{4, 2}, 4);
  for (int d = 0; d < 2; ++d)
    t.values[3 * 2 + d] = t.values[d];
  Buffer dt1(t.shape), dt3(t.shape);
  for (bool angle : {false, true}) {
    auto run = [&](double scale, Buffer &dt) {
      Buffer loss(Shape{});
      RkdDesc desc;
      desc.gradScale = scale;
      Status status =
          angle ? rkdAngleLoss<double>(desc, s.in(), t.in(), loss.out(), {},
                                       dt.out())
                : rkdDistanceLoss<double>(desc, s.in(), t.in(), loss.out(), {},
                                          dt.out());
      EXPECT_TRUE(status.ok()) << status.message();
    };
    run(1.0, dt1);
    run(3.0, dt3);
    double norm = 0;
    for (size_t i = 0; i < dt1.values.size(); ++i) {
      EXPECT_NEAR(dt3.values[i], 3.0 * dt1.values[i], 1e-12);
      EXPECT_TRUE(std::isfinite(dt1.values[i]));
      norm += std::abs(dt1.values[i]);
    }
    EXPECT_GT(norm, 0.0);
  }
}

TEST(LossGradient, Dkd) {
  Buffer s = randomBuffer(Shape{3, 6}, 1, -3, 3), t = randomBuffer(Shape{3, 6}, 2, -3, 3);
  Buffer labels(Shape{3}), ds(s.shape);
  labels.values = {0, 5, 2};
  checkLoss(
      [&](Buffer &loss, bool g) {
        return dkdLoss<double>({1.0, 8.0, 4.0, 1.0}, s.in(), t.in(),
                               labels.in(), loss.out(),
                               g ? ds.out() : TensorRef<double>());
      },
      {{"student", &s, &ds}});
}

//===----------------------------------------------------------------------===//
// Hand-derived values
//===----------------------------------------------------------------------===//

double lossOf(const std::function<Status(TensorRef<double>)> &run) {
  Buffer loss(Shape{});
  Status status = run(loss.out());
  EXPECT_TRUE(status.ok()) << status.message();
  return loss.values[0];
}

TEST(LossValue, KlAtTemperatureFour) {
  // Teacher logits (0, 4 ln 3) / 4 -> softmax (1/4, 3/4); student logits
  // (0, 0) -> (1/2, 1/2). KL = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.1308120;
  // times T^2 = 16 -> 2.0929920; batchmean over one sample.
  Buffer s(Shape{1, 2}), t(Shape{1, 2});
  t.values = {0.0, 4 * std::log(3.0)};
  double value = lossOf([&](TensorRef<double> loss) {
    return klDivLoss<double>({4.0, true, Reduction::BatchMean, 1.0}, s.in(),
                             t.in(), loss, {}, {});
  });
  EXPECT_NEAR(value, 16 * (0.25 * std::log(0.5) + 0.75 * std::log(1.5)), 1e-12);
  EXPECT_NEAR(value, 2.0929920, 1e-6);
}

TEST(LossValue, CrossEntropyOfKnownLogits) {
  // logits (1, 2, 3), label 2: -log(e^3 / (e + e^2 + e^3)) = 0.4076059.
  Buffer z(Shape{1, 3}), label(Shape{1});
  z.values = {1, 2, 3};
  label.values = {2};
  double value = lossOf([&](TensorRef<double> loss) {
    return crossEntropyLoss<double>({}, z.in(), label.in(), loss, {});
  });
  EXPECT_NEAR(value, 0.4076059, 1e-6);
}

TEST(LossValue, RegressionAndCosineOnSmallVectors) {
  // d = x - t = (0.5, -2, 0): MSE = (0.25 + 4) / 3, L1 = 2.5 / 3,
  // smooth-L1 (beta 1) = (0.125 + 1.5 + 0) / 3.
  Buffer x(Shape{3}), t(Shape{3});
  x.values = {1.5, -1, 2};
  t.values = {1, 1, 2};
  auto value = [&](RegressionKind kind) {
    return lossOf([&](TensorRef<double> loss) {
      return regressionLoss<double>({kind, 1.0, 1.0}, x.in(), t.in(), loss, {},
                                    {});
    });
  };
  EXPECT_NEAR(value(RegressionKind::Mse), 4.25 / 3, 1e-12);
  EXPECT_NEAR(value(RegressionKind::L1), 2.5 / 3, 1e-12);
  EXPECT_NEAR(value(RegressionKind::SmoothL1), 1.625 / 3, 1e-12);
  // Rows (1, 0) vs (0, 1): cos 0; (1, 1) vs (2, 2): cos 1. Mean of 1 - cos
  // = 0.5.
  Buffer a(Shape{2, 2}), b(Shape{2, 2});
  a.values = {1, 0, 1, 1};
  b.values = {0, 1, 2, 2};
  EXPECT_NEAR(lossOf([&](TensorRef<double> loss) {
                return cosineLoss<double>({}, a.in(), b.in(), loss, {}, {});
              }),
              0.5, 1e-12);
}

TEST(LossValue, RejectsBadLabels) {
  Buffer z(Shape{1, 3}), label(Shape{1}), loss(Shape{});
  label.values = {3};
  Status status =
      crossEntropyLoss<double>({}, z.in(), label.in(), loss.out(), {});
  EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
  label.values = {0.5};
  EXPECT_FALSE(
      crossEntropyLoss<double>({}, z.in(), label.in(), loss.out(), {}).ok());
}

} // namespace

//===- LossConformanceTest.cpp - every fused loss, value and gradients ----===//

#include "ConformanceTest.h"

namespace kdrt::conformance {
namespace {

constexpr double kLossTolerance = 1e-4;

Tensor labels(int64_t batch, int64_t classes) {
  Tensor t = Tensor::owning(Shape{batch});
  for (int64_t i = 0; i < batch; ++i)
    t.data()[i] = float((i * 3 + 1) % classes);
  return t;
}

TEST_P(Conformance, LogitLosses) {
  Shape logits{3, 7};
  {
    CrossEntropyDesc desc;
    desc.labelSmoothing = 0.1;
    OpCase op(kLossTolerance);
    int z = op.input(logits, -3.0f, 3.0f), t = op.input(labels(3, 7));
    int loss = op.output(Shape{}), dz = op.output(logits);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &v) {
          return be.crossEntropyLoss(desc, v[z], v[t], v[loss], &v[dz]);
        }));
  }
  {
    KlDivDesc desc;
    desc.temperature = 4.0;
    OpCase op(kLossTolerance);
    int s = op.input(logits, -3.0f, 3.0f), t = op.input(logits, -3.0f, 3.0f);
    int loss = op.output(Shape{}), ds = op.output(logits);
    int dt = op.output(logits);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &v) {
          return be.klDivLoss(desc, v[s], v[t], v[loss], &v[ds], &v[dt]);
        }));
  }
  {
    DkdDesc desc;
    OpCase op(kLossTolerance);
    int s = op.input(logits, -3.0f, 3.0f), t = op.input(logits, -3.0f, 3.0f);
    int l = op.input(labels(3, 7));
    int loss = op.output(Shape{}), ds = op.output(logits);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &v) {
          return be.dkdLoss(desc, v[s], v[t], v[l], v[loss], &v[ds]);
        }));
  }
}

TEST_P(Conformance, LogitLossGroup) {
  // An empty group is refused by every implementation without touching
  // memory; only the interface's default answers unimplemented. A backend
  // without the entry runs the separate CE / KL losses instead.
  Tensor none;
  if (backend().logitLossGroup({}, none, {}, none, nullptr).code() ==
      StatusCode::Unimplemented)
    GTEST_SKIP() << backend().name() << " has no logitLossGroup";

  Shape logits{3, 7};
  LogitLossGroupDesc desc;
  LogitLossTerm kl;
  kl.kind = LogitLossTermKind::KlDiv;
  kl.temperature = 4.0;
  kl.weight = 0.9;
  LogitLossTerm ce;
  ce.labelSmoothing = 0.1;
  ce.weight = 0.1;
  LogitLossTerm klAtOne = kl;
  klAtOne.temperature = 1.0;
  klAtOne.weight = 0.5;
  desc.append(kl);
  desc.append(ce);
  desc.append(klAtOne);
  OpCase op(kLossTolerance);
  int z = op.input(logits, -3.0f, 3.0f), t = op.input(logits, -3.0f, 3.0f);
  int y = op.input(labels(3, 7));
  int losses = op.output(Shape{3}), dz = op.output(logits);
  EXPECT_TRUE(op.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &v) {
        return be.logitLossGroup(desc, v[z], {&v[t], &v[y], &v[t]}, v[losses],
                                 &v[dz]);
      }));
}

TEST_P(Conformance, EnsembleCombine) {
  // An ensemble without members is refused by every implementation; only
  // the interface's default answers unimplemented.
  Tensor none;
  if (backend().ensembleCombine({}, {}, nullptr, nullptr, none).code() ==
      StatusCode::Unimplemented)
    GTEST_SKIP() << backend().name() << " has no ensembleCombine";

  Shape logits{3, 7};
  Tensor weights = Tensor::owning(Shape{3});
  weights.data()[0] = 0.5f;
  weights.data()[1] = 0.3f;
  weights.data()[2] = 0.2f;
  for (EnsembleWeighting weighting :
       {EnsembleWeighting::Fixed, EnsembleWeighting::Entropy,
        EnsembleWeighting::ConfidenceAware}) {
    EnsembleCombineDesc desc{weighting, 4.0};
    OpCase op(kLossTolerance);
    int a = op.input(logits, -3.0f, 3.0f), b = op.input(logits, -3.0f, 3.0f);
    int c = op.input(logits, -3.0f, 3.0f);
    int w = op.input(weights), y = op.input(labels(3, 7));
    int out = op.output(logits);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &v) {
          return be.ensembleCombine(
              desc, {&v[a], &v[b], &v[c]},
              weighting == EnsembleWeighting::Fixed ? &v[w] : nullptr,
              weighting == EnsembleWeighting::ConfidenceAware ? &v[y]
                                                              : nullptr,
              v[out]);
        }))
        << "weighting " << int(weighting);
  }
}

TEST_P(Conformance, FeatureLosses) {
  Shape feature{3, 4, 5, 7};
  for (RegressionKind kind :
       {RegressionKind::Mse, RegressionKind::L1, RegressionKind::SmoothL1}) {
    RegressionLossDesc desc;
    desc.kind = kind;
    desc.beta = 0.5;
    OpCase op(kLossTolerance);
    int x = op.input(feature), t = op.input(feature);
    int loss = op.output(Shape{}), dx = op.output(feature);
    int dt = op.output(feature);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &v) {
          return be.regressionLoss(desc, v[x], v[t], v[loss], &v[dx], &v[dt]);
        }));
  }
  {
    OpCase op(kLossTolerance);
    int a = op.input(feature), b = op.input(feature);
    int loss = op.output(Shape{}), da = op.output(feature);
    int db = op.output(feature);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &v) {
          return be.cosineLoss({}, v[a], v[b], v[loss], &v[da], &v[db]);
        }));
  }
  {
    Shape teacher{3, 6, 5, 7};
    OpCase op(kLossTolerance);
    int s = op.input(feature), t = op.input(teacher);
    int loss = op.output(Shape{}), ds = op.output(feature);
    int dt = op.output(teacher);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &v) {
          return be.attentionTransferLoss({}, v[s], v[t], v[loss], &v[ds],
                                          &v[dt]);
        }));
  }
}

TEST_P(Conformance, RelationalLosses) {
  Shape student{5, 4}, teacher{5, 9};
  for (bool angle : {false, true}) {
    OpCase op(kLossTolerance);
    int s = op.input(student), t = op.input(teacher);
    int loss = op.output(Shape{}), ds = op.output(student);
    int dt = op.output(teacher);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &v) {
          return angle ? be.rkdAngleLoss({}, v[s], v[t], v[loss], &v[ds],
                                         &v[dt])
                       : be.rkdDistanceLoss({}, v[s], v[t], v[loss], &v[ds],
                                            &v[dt]);
        }));
  }
  // The student side alone (a frozen teacher), and the teacher side alone
  // (a student tap detached on the left).
  for (bool angle : {false, true})
    for (bool teacherSide : {false, true}) {
      OpCase op(kLossTolerance);
      int s = op.input(student), t = op.input(teacher);
      int loss = op.output(Shape{});
      int grad = op.output(teacherSide ? teacher : student);
      EXPECT_TRUE(op.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &v) {
            Tensor *ds = teacherSide ? nullptr : &v[grad];
            Tensor *dt = teacherSide ? &v[grad] : nullptr;
            return angle ? be.rkdAngleLoss({}, v[s], v[t], v[loss], ds, dt)
                         : be.rkdDistanceLoss({}, v[s], v[t], v[loss], ds, dt);
          }));
    }
}

} // namespace
} // namespace kdrt::conformance

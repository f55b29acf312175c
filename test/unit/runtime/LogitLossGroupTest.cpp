//===- LogitLossGroupTest.cpp - CE + KL on shared logits ------------------===//
//
// The group's gradient against finite differences of its weighted value, and
// the group against the separate crossEntropyLoss / klDivLoss calls it
// replaces: the same values and the weighted sum of their gradients.
//
//===----------------------------------------------------------------------===//

#include "GradCheck.h"
#include "kdrt/reference/Kernels.h"

using namespace kdrt;
using namespace kdrt::reference;
using namespace kdrt::test;

namespace {

LogitLossTerm crossEntropyTerm(double weight, double smoothing,
                               bool soft = false) {
  LogitLossTerm term;
  term.kind = LogitLossTermKind::CrossEntropy;
  term.labelSmoothing = smoothing;
  term.softTargets = soft;
  term.weight = weight;
  return term;
}

LogitLossTerm klTerm(double weight, double temperature,
                     Reduction reduction = Reduction::BatchMean) {
  LogitLossTerm term;
  term.kind = LogitLossTermKind::KlDiv;
  term.temperature = temperature;
  term.reduction = reduction;
  term.weight = weight;
  return term;
}

/// Hinton's loss plus a second KL at another temperature and a soft CE:
/// three temperatures, two terms sharing temperature 1.
struct GroupFixture {
  Buffer logits = randomBuffer(Shape{3, 6}, 1, -3, 3);
  Buffer labels{Shape{3}};
  Buffer teacher = randomBuffer(Shape{3, 6}, 2, -3, 3);
  Buffer soft = randomBuffer(Shape{3, 6}, 3, 0, 1);
  LogitLossGroupDesc desc;

  GroupFixture() {
    labels.values = {5, 0, 2};
    desc.append(klTerm(0.9, 4.0));
    desc.append(crossEntropyTerm(0.1, 0.1));
    desc.append(klTerm(0.5, 1.0, Reduction::Mean));
    desc.append(crossEntropyTerm(0.3, 0.0, /*soft=*/true));
  }
  std::vector<TensorRef<const double>> targets() const {
    return {teacher.in(), labels.in(), teacher.in(), soft.in()};
  }
  Status run(Buffer &losses, TensorRef<double> grad) const {
    return logitLossGroup<double>(desc, logits.in(), targets(), losses.out(),
                                  grad);
  }
};

TEST(LogitLossGroup, GradientMatchesFiniteDifferences) {
  GroupFixture f;
  Buffer losses(Shape{f.desc.count}), grad(f.logits.shape);
  ASSERT_TRUE(f.run(losses, grad.out()).ok());
  expectGradients(
      [&] {
        Buffer values(Shape{f.desc.count});
        EXPECT_TRUE(f.run(values, {}).ok());
        double total = 0;
        for (int i = 0; i < f.desc.count; ++i)
          total += f.desc.terms[i].weight * values.values[i];
        return total;
      },
      {{"logits", &f.logits, &grad}});
}

TEST(LogitLossGroup, EqualsTheSeparateLossCalls) {
  GroupFixture f;
  Buffer losses(Shape{f.desc.count}), grad(f.logits.shape);
  ASSERT_TRUE(f.run(losses, grad.out()).ok());

  std::vector<double> expectedGrad(grad.values.size(), 0.0);
  std::vector<TensorRef<const double>> targets = f.targets();
  for (int i = 0; i < f.desc.count; ++i) {
    const LogitLossTerm &term = f.desc.terms[i];
    Buffer value(Shape{}), termGrad(f.logits.shape);
    Status status;
    if (term.kind == LogitLossTermKind::CrossEntropy)
      status = crossEntropyLoss<double>(
          {term.labelSmoothing, term.softTargets, term.weight}, f.logits.in(),
          targets[i], value.out(), termGrad.out());
    else
      status = klDivLoss<double>({term.temperature,
                                  term.scaleByTemperatureSquared,
                                  term.reduction, term.weight},
                                 f.logits.in(), targets[i], value.out(),
                                 termGrad.out(), {});
    ASSERT_TRUE(status.ok()) << status.message();
    // The same operations in the same order: bitwise equal values.
    EXPECT_EQ(losses.values[i], value.values[0]) << "term " << i;
    for (size_t e = 0; e < expectedGrad.size(); ++e)
      expectedGrad[e] += termGrad.values[e];
  }
  EXPECT_LT(relativeError(grad.values, expectedGrad), 1e-12);
}

TEST(LogitLossGroup, RejectsMismatchedTargetsAndBadTerms) {
  GroupFixture f;
  Buffer losses(Shape{f.desc.count});
  std::vector<TensorRef<const double>> tooFew = {f.teacher.in()};
  Status status =
      logitLossGroup<double>(f.desc, f.logits.in(), tooFew, losses.out(), {});
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("targets"), std::string::npos)
      << status.message();

  Buffer wrongLosses(Shape{1});
  EXPECT_FALSE(f.run(wrongLosses, {}).ok());

  f.labels.values = {7, 0, 2}; // 7 is not a class below 6
  EXPECT_FALSE(f.run(losses, {}).ok());

  LogitLossGroupDesc cold;
  cold.append(klTerm(1.0, 0.0));
  std::vector<TensorRef<const double>> one = {f.teacher.in()};
  Buffer single(Shape{1});
  EXPECT_FALSE(
      logitLossGroup<double>(cold, f.logits.in(), one, single.out(), {}).ok());

  LogitLossGroupDesc full;
  for (int i = 0; i < LogitLossGroupDesc::kCapacity; ++i)
    EXPECT_TRUE(full.append(klTerm(1.0, 2.0)));
  EXPECT_FALSE(full.append(klTerm(1.0, 2.0)));
  EXPECT_EQ(full.count, LogitLossGroupDesc::kCapacity);
}

} // namespace

//===- EnsembleCombineTest.cpp - Ensemble logits against hand values ------===//
//
// Two members of two classes whose predictions at temperature 1 are
// p1 = (1/2, 1/2) (logits (0, 0)) and p2 = (3/4, 1/4) (logits (ln 3, 0)).
// Every weighting's mixture is derived by hand below; the kernel writes it
// as T * log(p), so exp(output / T) is the mixture itself.
//
//===----------------------------------------------------------------------===//

#include "GradCheck.h"
#include "kdrt/ReferenceBackend.h"
#include "kdrt/reference/Kernels.h"

#include <cmath>

using namespace kdrt;
using namespace kdrt::reference;
using namespace kdrt::test;

namespace {

const double kLn3 = std::log(3.0);

Buffer logits(std::vector<double> values) {
  Buffer b(Shape{int64_t(values.size() / 2), 2});
  b.values = std::move(values);
  return b;
}

/// The mixture the kernel wrote: exp(output / T), row-major.
std::vector<double> mixture(const Buffer &output, double temperature) {
  std::vector<double> p;
  for (double v : output.values)
    p.push_back(std::exp(v / temperature));
  return p;
}

Status combine(EnsembleWeighting weighting, double temperature,
               const std::vector<const Buffer *> &members,
               const Buffer *weights, const Buffer *labels, Buffer &output) {
  std::vector<TensorRef<const double>> refs;
  for (const Buffer *m : members)
    refs.push_back(m->in());
  return ensembleCombine<double>({weighting, temperature}, refs,
                                 weights ? weights->in()
                                         : TensorRef<const double>(),
                                 labels ? labels->in()
                                        : TensorRef<const double>(),
                                 output.out());
}

void expectMixture(const Buffer &output, double temperature,
                   std::vector<double> expected) {
  std::vector<double> p = mixture(output, temperature);
  ASSERT_EQ(p.size(), expected.size());
  for (size_t i = 0; i < p.size(); ++i)
    EXPECT_NEAR(p[i], expected[i], 1e-12) << "element " << i;
}

TEST(EnsembleCombine, EqualWeightsAverageTheProbabilities) {
  Buffer a = logits({0, 0}), b = logits({kLn3, 0}), out(Shape{1, 2});
  Buffer w(Shape{2});
  w.values = {1, 1};
  ASSERT_TRUE(
      combine(EnsembleWeighting::Fixed, 1, {&a, &b}, &w, nullptr, out).ok());
  // (1/2 + 3/4) / 2 = 5/8, (1/2 + 1/4) / 2 = 3/8.
  expectMixture(out, 1, {0.625, 0.375});
  EXPECT_NEAR(out.values[0], std::log(0.625), 1e-12);
}

TEST(EnsembleCombine, FixedWeightsAreNormalised) {
  Buffer a = logits({0, 0}), b = logits({kLn3, 0}), out(Shape{1, 2});
  Buffer w(Shape{2});
  w.values = {3, 1}; // 3/4 and 1/4
  ASSERT_TRUE(
      combine(EnsembleWeighting::Fixed, 1, {&a, &b}, &w, nullptr, out).ok());
  // 3/4 * 1/2 + 1/4 * 3/4 = 9/16; 3/4 * 1/2 + 1/4 * 1/4 = 7/16.
  expectMixture(out, 1, {9.0 / 16, 7.0 / 16});
}

TEST(EnsembleCombine, TemperatureSoftensEachMemberBeforeMixing) {
  // At T = 2, logits (2 ln 3, 0) give (3/4, 1/4) and (0, 0) gives (1/2, 1/2);
  // the output is 2 * log of the mixture (5/8, 3/8).
  Buffer a = logits({0, 0}), b = logits({2 * kLn3, 0}), out(Shape{1, 2});
  Buffer w(Shape{2});
  w.values = {0.5, 0.5};
  ASSERT_TRUE(
      combine(EnsembleWeighting::Fixed, 2, {&a, &b}, &w, nullptr, out).ok());
  EXPECT_NEAR(out.values[0], 2 * std::log(0.625), 1e-12);
  EXPECT_NEAR(out.values[1], 2 * std::log(0.375), 1e-12);
}

TEST(EnsembleCombine, EntropyWeightsFavourTheConfidentMember) {
  // H1 = ln 2, H2 = -(3/4 ln 3/4 + 1/4 ln 1/4); with M = 2,
  // w1 = 1 - H1 / (H1 + H2) = H2 / (H1 + H2), w2 = H1 / (H1 + H2).
  double h1 = std::log(2.0);
  double h2 = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  double w1 = h2 / (h1 + h2), w2 = h1 / (h1 + h2);
  EXPECT_GT(w2, w1); // the sharper member weighs more
  Buffer a = logits({0, 0}), b = logits({kLn3, 0}), out(Shape{1, 2});
  ASSERT_TRUE(combine(EnsembleWeighting::Entropy, 1, {&a, &b}, nullptr,
                      nullptr, out)
                  .ok());
  expectMixture(out, 1, {w1 * 0.5 + w2 * 0.75, w1 * 0.5 + w2 * 0.25});
}

TEST(EnsembleCombine, EntropyWeightsOfThreeMembersSumToOne) {
  // Members 2 and 3 agree: w_m = (1 - H_m / S) / 2, S = H1 + 2 H2.
  double h1 = std::log(2.0);
  double h2 = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
  double s = h1 + 2 * h2;
  double w1 = (1 - h1 / s) / 2, w2 = (1 - h2 / s) / 2;
  EXPECT_NEAR(w1 + 2 * w2, 1.0, 1e-12);
  Buffer a = logits({0, 0}), b = logits({kLn3, 0}), c = logits({kLn3, 0});
  Buffer out(Shape{1, 2});
  ASSERT_TRUE(combine(EnsembleWeighting::Entropy, 1, {&a, &b, &c}, nullptr,
                      nullptr, out)
                  .ok());
  expectMixture(out, 1,
                {w1 * 0.5 + 2 * w2 * 0.75, w1 * 0.5 + 2 * w2 * 0.25});
}

TEST(EnsembleCombine, CaMkdWeightsFollowTheLabel) {
  // Sample 0, label 0: CE1 = ln 2, CE2 = ln 4/3; softmax over the members
  // of (ln 2, ln 4/3) is (2, 4/3) / (10/3) = (3/5, 2/5), so with M = 2
  // w = (1 - 3/5, 1 - 2/5) = (2/5, 3/5) and p = (13/20, 7/20).
  // Sample 1, label 1: CE1 = ln 2, CE2 = ln 4; softmax (2, 4) / 6 =
  // (1/3, 2/3), w = (2/3, 1/3) and p = (2/3 * 1/2 + 1/3 * 3/4, ...).
  Buffer a = logits({0, 0, 0, 0}), b = logits({kLn3, 0, kLn3, 0});
  Buffer labels(Shape{2}), out(Shape{2, 2});
  labels.values = {0, 1};
  ASSERT_TRUE(combine(EnsembleWeighting::ConfidenceAware, 1, {&a, &b},
                      nullptr, &labels, out)
                  .ok());
  expectMixture(out, 1,
                {0.65, 0.35, 2.0 / 3 * 0.5 + 1.0 / 3 * 0.75,
                 2.0 / 3 * 0.5 + 1.0 / 3 * 0.25});
}

TEST(EnsembleCombine, CaMkdReadsTheCrossEntropyAtTemperatureOne) {
  // Same members and label 0 as above, mixed at T = 2: the weights stay
  // (2/5, 3/5) while each member is softened, p2 = softmax((ln 3, 0) / 2)
  // = (sqrt 3, 1) / (sqrt 3 + 1).
  Buffer a = logits({0, 0}), b = logits({kLn3, 0});
  Buffer labels(Shape{1}), out(Shape{1, 2});
  labels.values = {0};
  ASSERT_TRUE(combine(EnsembleWeighting::ConfidenceAware, 2, {&a, &b},
                      nullptr, &labels, out)
                  .ok());
  double r3 = std::sqrt(3.0);
  expectMixture(out, 2,
                {0.4 * 0.5 + 0.6 * r3 / (r3 + 1), 0.4 * 0.5 + 0.6 / (r3 + 1)});
}

TEST(EnsembleCombine, ZeroWeightLeavesAMemberOut) {
  // A member with weight 0 contributes nothing, however extreme its logits.
  Buffer a = logits({0, 0}), b = logits({1e4, -1e4}), out(Shape{1, 2});
  Buffer w(Shape{2});
  w.values = {1, 0};
  ASSERT_TRUE(
      combine(EnsembleWeighting::Fixed, 1, {&a, &b}, &w, nullptr, out).ok());
  expectMixture(out, 1, {0.5, 0.5});
}

TEST(EnsembleCombine, RejectsWhatItCannotCombine) {
  Buffer a = logits({0, 0}), b = logits({kLn3, 0}), out(Shape{1, 2});
  Buffer w(Shape{2}), labels(Shape{1}), wrong(Shape{1, 3});
  auto message = [](const Status &s) { return s.message(); };
  // Fixed weighting without weights, or with weights that sum to 0.
  EXPECT_FALSE(
      combine(EnsembleWeighting::Fixed, 1, {&a, &b}, nullptr, nullptr, out)
          .ok());
  w.values = {0, 0};
  EXPECT_NE(message(combine(EnsembleWeighting::Fixed, 1, {&a, &b}, &w,
                            nullptr, out))
                .find("sum to 0"),
            std::string::npos);
  w.values = {1, -1};
  EXPECT_FALSE(
      combine(EnsembleWeighting::Fixed, 1, {&a, &b}, &w, nullptr, out).ok());
  // ca_mkd without labels, or with a label that is no class.
  EXPECT_FALSE(combine(EnsembleWeighting::ConfidenceAware, 1, {&a, &b},
                       nullptr, nullptr, out)
                   .ok());
  labels.values = {2};
  EXPECT_NE(message(combine(EnsembleWeighting::ConfidenceAware, 1, {&a, &b},
                            nullptr, &labels, out))
                .find("not a class index"),
            std::string::npos);
  // Members of another shape than the output.
  EXPECT_FALSE(combine(EnsembleWeighting::Entropy, 1, {&a, &wrong}, nullptr,
                       nullptr, out)
                   .ok());
  EXPECT_FALSE(
      combine(EnsembleWeighting::Entropy, 0, {&a, &b}, nullptr, nullptr, out)
          .ok());
}

TEST(EnsembleCombine, RunsThroughTheBackend) {
  std::unique_ptr<Backend> backend = createReferenceBackend();
  Tensor a = Tensor::owning(Shape{1, 2}), b = Tensor::owning(Shape{1, 2});
  Tensor w = Tensor::owning(Shape{2}), out = Tensor::owning(Shape{1, 2});
  b.data()[0] = float(kLn3);
  w.data()[0] = w.data()[1] = 1;
  ASSERT_TRUE(backend
                  ->ensembleCombine({EnsembleWeighting::Fixed, 1}, {&a, &b},
                                    &w, nullptr, out)
                  .ok());
  EXPECT_NEAR(std::exp(out.data()[0]), 0.625, 1e-6);
  EXPECT_NEAR(std::exp(out.data()[1]), 0.375, 1e-6);
}

} // namespace

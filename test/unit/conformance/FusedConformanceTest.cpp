//===- FusedConformanceTest.cpp - fused conv/linear vs the unfused ops ----===//
//
// The fused call of the backend under test against the reference backend
// running the unfused sequence op by op: conv + bias, inference batch norm
// (as the folded scale/shift), relu, add of the residual.
//
//===----------------------------------------------------------------------===//

#include "ConformanceTest.h"

#include <cmath>

namespace kdrt::conformance {
namespace {

TEST_P(Conformance, FusedConvBiasBatchNormReluSum) {
  Conv2dDesc desc;
  desc.padH = desc.padW = 1;
  desc.groups = 2;
  Shape input{3, 4, 9, 9}, weightShape{6, 2, 3, 3}, output{3, 6, 9, 9};
  Shape channels{6};
  Tensor x = randomTensor(input, 1), w = randomTensor(weightShape, 2);
  Tensor b = randomTensor(channels, 3), gamma = randomTensor(channels, 4);
  Tensor beta = randomTensor(channels, 5), mean = randomTensor(channels, 6);
  Tensor var = randomTensor(channels, 7, 0.5f, 2.0f);
  Tensor residual = randomTensor(output, 8);
  BatchNormDesc bn;
  bn.training = false;
  // The folded batch norm: scale = gamma / sqrt(var + eps),
  // shift = beta - mean * scale.
  Tensor scale = Tensor::owning(channels), shift = Tensor::owning(channels);
  for (int64_t c = 0; c < 6; ++c) {
    scale.data()[c] =
        gamma.data()[c] / std::sqrt(var.data()[c] + float(bn.eps));
    shift.data()[c] = beta.data()[c] - mean.data()[c] * scale.data()[c];
  }

  // Unfused on the reference.
  std::unique_ptr<Backend> reference = createReferenceBackendForTests();
  Tensor convOut = Tensor::owning(output), bnOut = Tensor::owning(output);
  Tensor reluOut = Tensor::owning(output), want = Tensor::owning(output);
  ASSERT_TRUE(reference->conv2dForward(desc, x, w, &b, convOut).ok());
  ASSERT_TRUE(reference
                  ->batchNormForward(bn, convOut, gamma, beta, mean, var,
                                     bnOut)
                  .ok());
  ASSERT_TRUE(reference->activationForward({}, bnOut, reluOut).ok());
  ASSERT_TRUE(reference->binaryForward({}, reluOut, residual, want).ok());

  Conv2dDesc fused = desc;
  fused.postOps.appendScaleShift();
  fused.postOps.appendActivation(ActivationKind::Relu);
  fused.postOps.appendSum();
  PostOpTensors tensors;
  tensors.residuals = {&residual};
  tensors.scales = {&scale};
  tensors.shifts = {&shift};
  Tensor got = Tensor::owning(output);
  Status status = backend().conv2dFusedForward(fused, x, w, &b, tensors, got);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_TRUE(closeTo(got, want, kNormTolerance, "fused conv"));
}

// oneDNN folds a leading scale-shift into a tracked weight (one with a
// version, as the executor's parameters have) and keeps the fold: it must
// follow new scale and shift values, a new version of the weight, and a
// bias, and leave the rest of the chain where it was.
TEST_P(Conformance, FusedScaleShiftFollowsTheWeightAndTheValues) {
  struct Case {
    const char *name;
    Conv2dDesc desc;
    Shape input, weight, output;
    bool bias;
  };
  Conv2dDesc grouped;
  grouped.padH = grouped.padW = 1;
  grouped.groups = 2;
  Conv2dDesc projection;
  projection.strideH = projection.strideW = 2;
  std::vector<Case> cases = {
      {"3x3, groups 2, bias", grouped, {2, 4, 7, 7}, {6, 2, 3, 3},
       {2, 6, 7, 7}, true},
      {"1x1 stride 2, no bias", projection, {2, 5, 8, 8}, {3, 5, 1, 1},
       {2, 3, 4, 4}, false},
  };
  std::unique_ptr<Backend> reference = createReferenceBackendForTests();
  for (Case &c : cases) {
    SCOPED_TRACE(c.name);
    c.desc.postOps.appendScaleShift();
    c.desc.postOps.appendSum();
    c.desc.postOps.appendActivation(ActivationKind::Relu);
    Shape channels{c.weight[0]};
    Tensor x = randomTensor(c.input, 1), w = randomTensor(c.weight, 2);
    Tensor b = randomTensor(channels, 3), residual = randomTensor(c.output, 4);
    Tensor scale = randomTensor(channels, 5, 0.5f, 2.0f);
    Tensor shift = randomTensor(channels, 6);
    w.touch();
    PostOpTensors tensors;
    tensors.residuals = {&residual};
    tensors.scales = {&scale};
    tensors.shifts = {&shift};
    auto matches = [&](const char *when) {
      Tensor want = Tensor::owning(c.output), got = Tensor::owning(c.output);
      const Tensor *bias = c.bias ? &b : nullptr;
      Status status =
          reference->conv2dFusedForward(c.desc, x, w, bias, tensors, want);
      EXPECT_TRUE(status.ok()) << status.message();
      status = backend().conv2dFusedForward(c.desc, x, w, bias, tensors, got);
      EXPECT_TRUE(status.ok()) << status.message();
      EXPECT_TRUE(closeTo(got, want, kNormTolerance, when)) << when;
    };
    matches("first call");
    matches("same weight and values");
    for (int64_t o = 0; o < channels[0]; ++o)
      scale.data()[o] *= -1.5f;
    matches("new scale values");
    shift.data()[0] += 1.0f;
    matches("new shift values");
    b.data()[1] -= 2.0f;
    matches("new bias values");
    for (int64_t i = 0; i < w.numElements(); ++i)
      w.data()[i] = 0.25f - w.data()[i];
    w.touch();
    matches("new weight version");
  }
}

TEST_P(Conformance, FusedPostOpChains) {
  // Chains oneDNN expresses in several ways (second sum as a binary add,
  // scaled sums) against the reference's sequential application.
  Shape input{1, 3, 5, 7}, weightShape{4, 3, 3, 3}, output{1, 4, 5, 7};
  std::vector<PostOpChain> chains(4);
  chains[0].appendActivation(ActivationKind::Gelu);
  chains[1].appendSum(0.5);
  chains[1].appendActivation(ActivationKind::Tanh);
  chains[2].appendSum();
  chains[2].appendSum();
  chains[3].appendSum();
  chains[3].appendActivation(ActivationKind::Sigmoid);
  chains[3].appendSum(2.0);
  for (size_t k = 0; k < chains.size(); ++k) {
    SCOPED_TRACE("chain " + std::to_string(k));
    Conv2dDesc desc;
    desc.padH = desc.padW = 1;
    desc.postOps = chains[k];
    OpCase op(kProductTolerance);
    int x = op.input(input), w = op.input(weightShape);
    int b = op.input(Shape{4});
    int r0 = op.input(output), r1 = op.input(output);
    int y = op.output(output);
    int sums = 0;
    for (int i = 0; i < chains[k].count; ++i)
      sums += chains[k].ops[i].kind == PostOpKind::Sum;
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          PostOpTensors tensors;
          if (sums > 0)
            tensors.residuals.push_back(&t[r0]);
          if (sums > 1)
            tensors.residuals.push_back(&t[r1]);
          return be.conv2dFusedForward(desc, t[x], t[w], &t[b], tensors,
                                       t[y]);
        }));
  }
}

TEST_P(Conformance, FusedConvReluBackwardTakesTheOutput) {
  Conv2dDesc desc;
  desc.strideH = desc.strideW = 2;
  desc.padH = desc.padW = 1;
  desc.postOps.appendActivation(ActivationKind::Relu);
  Shape input{3, 3, 9, 9}, weightShape{4, 3, 3, 3}, output{3, 4, 5, 5};
  OpCase op(kProductTolerance);
  int x = op.input(input), w = op.input(weightShape);
  int b = op.input(Shape{4}), dy = op.input(output);
  int y = op.output(output), dx = op.output(input);
  int dw = op.output(weightShape), db = op.output(Shape{4});
  EXPECT_TRUE(op.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status = be.conv2dFusedForward(desc, t[x], t[w], &t[b], {}, t[y]);
        return status.ok() ? be.conv2dFusedBackward(desc, t[x], t[w], t[y],
                                                    t[dy], &t[dx], &t[dw],
                                                    &t[db])
                           : status;
      }));
}

TEST_P(Conformance, FusedLinear) {
  LinearDesc desc;
  desc.postOps.appendScaleShift();
  desc.postOps.appendActivation(ActivationKind::Relu);
  desc.postOps.appendSum();
  Shape input{3, 5, 7}, output{3, 5, 4};
  OpCase op(kProductTolerance);
  int x = op.input(input), w = op.input(Shape{4, 7}), b = op.input(Shape{4});
  int scale = op.input(Shape{4}), shift = op.input(Shape{4});
  int residual = op.input(output), y = op.output(output);
  EXPECT_TRUE(op.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        PostOpTensors tensors;
        tensors.residuals = {&t[residual]};
        tensors.scales = {&t[scale]};
        tensors.shifts = {&t[shift]};
        return be.linearFusedForward(desc, t[x], t[w], &t[b], tensors, t[y]);
      }));
  LinearDesc relu;
  relu.postOps.appendActivation(ActivationKind::Relu);
  OpCase backward(kProductTolerance);
  x = backward.input(input);
  w = backward.input(Shape{4, 7});
  int dy = backward.input(output);
  y = backward.output(output);
  int dx = backward.output(input), dw = backward.output(Shape{4, 7});
  int db = backward.output(Shape{4});
  EXPECT_TRUE(backward.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status = be.linearFusedForward(relu, t[x], t[w], nullptr, {},
                                              t[y]);
        return status.ok() ? be.linearFusedBackward(relu, t[x], t[w], t[y],
                                                    t[dy], &t[dx], &t[dw],
                                                    &t[db])
                           : status;
      }));
}

TEST_P(Conformance, PostOpMisuseIsAnError) {
  Conv2dDesc desc;
  desc.postOps.appendSum();
  Tensor x = randomTensor({1, 2, 5, 5}, 1), w = randomTensor({2, 2, 1, 1}, 2);
  Tensor y = Tensor::owning({1, 2, 5, 5});
  // The plain entry never drops a post-op; the fused one needs the residual.
  EXPECT_EQ(backend().conv2dForward(desc, x, w, nullptr, y).code(),
            StatusCode::InvalidArgument);
  EXPECT_EQ(backend().conv2dFusedForward(desc, x, w, nullptr, {}, y).code(),
            StatusCode::InvalidArgument);
  // Sum has no fused backward.
  EXPECT_EQ(backend()
                .conv2dFusedBackward(desc, x, w, y, y, &x, nullptr, nullptr)
                .code(),
            StatusCode::InvalidArgument);
}

} // namespace
} // namespace kdrt::conformance

//===- FoldBatchNormTest.cpp - A folded layer equals the layer and its BN ===//
//
// fold_batch_norm runs once per .kdx export, on trained parameters; it has
// no backward. What it promises is an identity: the convolution (or linear
// layer) with the folded weight and bias computes the same values as the
// original layer followed by an inference batch norm on the running
// statistics. Checked on odd shapes (batch 3, 5x7 images, grouped and
// depthwise convolutions, no bias, strides that drop rows, a linear layer)
// with statistics far from (0, 1) so that a wrong scale or shift shows.
// batch_norm_scale_shift (the operands of a scale_shift post-op, for frozen
// and inference layers; no backward either) promises the same of the layer
// with its chain [scale_shift].
//
//===----------------------------------------------------------------------===//

#include "kdrt/ReferenceBackend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>

using namespace kdrt;

namespace {

Tensor filled(const Shape &shape, std::mt19937 &rng, float low, float high) {
  std::uniform_real_distribution<float> draw(low, high);
  Tensor tensor = Tensor::owning(shape);
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    tensor.data()[i] = draw(rng);
  return tensor;
}

/// The largest |a - b| / (|b| + 1) over the elements.
double maxRelativeDifference(const Tensor &a, const Tensor &b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numElements(); ++i)
    worst = std::max(worst, std::fabs(double(a.data()[i]) - b.data()[i]) /
                                (std::fabs(double(b.data()[i])) + 1));
  return worst;
}

/// The batch-norm parameters of `channels` channels, statistics far from
/// the identity.
struct Norm {
  Tensor gamma, beta, mean, var;
  Norm(int64_t channels, std::mt19937 &rng)
      : gamma(filled(Shape{channels}, rng, -2.0f, 2.0f)),
        beta(filled(Shape{channels}, rng, -1.5f, 1.5f)),
        mean(filled(Shape{channels}, rng, -3.0f, 3.0f)),
        var(filled(Shape{channels}, rng, 0.05f, 4.0f)) {}
};

/// Runs a layer: (weight, bias or null, output).
using Layer = std::function<Status(const Tensor &, const Tensor *, Tensor &)>;

/// The layer with folded weights against the layer then an inference batch
/// norm, both writing `outShape`.
void expectFoldMatches(Backend &backend, const Layer &layer,
                       const Tensor &weight, const Tensor *bias,
                       Norm &norm, double eps, const Shape &outShape) {
  BatchNormDesc inference;
  inference.training = false;
  inference.eps = eps;
  Tensor raw = Tensor::owning(outShape), want = Tensor::owning(outShape);
  ASSERT_TRUE(layer(weight, bias, raw).ok());
  ASSERT_TRUE(backend
                  .batchNormForward(inference, raw, norm.gamma, norm.beta,
                                    norm.mean, norm.var, want)
                  .ok());
  Tensor foldedWeight = Tensor::owning(weight.shape());
  Tensor foldedBias = Tensor::owning(Shape{weight.dim(0)});
  Status folded = backend.foldBatchNorm(FoldBatchNormDesc{eps}, weight, bias,
                                        norm.gamma, norm.beta, norm.mean,
                                        norm.var, foldedWeight, foldedBias);
  ASSERT_TRUE(folded.ok()) << folded.message();
  Tensor got = Tensor::owning(outShape);
  ASSERT_TRUE(layer(foldedWeight, &foldedBias, got).ok());
  EXPECT_LT(maxRelativeDifference(got, want), 1e-5);
}

struct ConvCase {
  const char *name;
  Shape input;
  int64_t outChannels, kernelH, kernelW, stride, pad, groups;
  bool bias;
};

TEST(FoldBatchNorm, ConvolutionEqualsConvolutionThenInferenceBatchNorm) {
  std::unique_ptr<Backend> backend = createReferenceBackend();
  const ConvCase cases[] = {
      {"batch3_5x7_3x2_stride2_bias", {3, 5, 5, 7}, 7, 3, 2, 2, 1, 1, true},
      {"batch1_5x7_no_bias", {1, 3, 5, 7}, 5, 3, 3, 1, 1, 1, false},
      {"groups3_9x9", {3, 6, 9, 9}, 9, 3, 3, 1, 0, 3, true},
      {"depthwise_5x7_no_bias", {2, 5, 5, 7}, 5, 3, 3, 1, 1, 5, false},
      {"pointwise_1x1", {3, 4, 5, 7}, 11, 1, 1, 1, 0, 1, true},
  };
  std::mt19937 rng(7);
  for (const ConvCase &c : cases) {
    SCOPED_TRACE(c.name);
    Conv2dDesc conv;
    conv.strideH = conv.strideW = c.stride;
    conv.padH = conv.padW = c.pad;
    conv.groups = c.groups;
    int64_t h = (c.input[2] + 2 * c.pad - c.kernelH) / c.stride + 1;
    int64_t w = (c.input[3] + 2 * c.pad - c.kernelW) / c.stride + 1;
    Tensor x = filled(c.input, rng, -1.0f, 1.0f);
    Tensor weight = filled(
        Shape{c.outChannels, c.input[1] / c.groups, c.kernelH, c.kernelW}, rng,
        -0.5f, 0.5f);
    Tensor bias = filled(Shape{c.outChannels}, rng, -0.5f, 0.5f);
    Norm norm(c.outChannels, rng);
    expectFoldMatches(
        *backend,
        [&](const Tensor &wt, const Tensor *b, Tensor &y) {
          return backend->conv2dForward(conv, x, wt, b, y);
        },
        weight, c.bias ? &bias : nullptr, norm, 1e-3,
        Shape{c.input[0], c.outChannels, h, w});
  }
}

TEST(FoldBatchNorm, LinearEqualsLinearThenInferenceBatchNorm) {
  std::unique_ptr<Backend> backend = createReferenceBackend();
  std::mt19937 rng(11);
  for (bool withBias : {true, false}) {
    SCOPED_TRACE(withBias ? "bias" : "no bias");
    Tensor x = filled(Shape{3, 13}, rng, -1.0f, 1.0f);
    Tensor weight = filled(Shape{7, 13}, rng, -0.5f, 0.5f);
    Tensor bias = filled(Shape{7}, rng, -0.5f, 0.5f);
    Norm norm(7, rng);
    expectFoldMatches(
        *backend,
        [&](const Tensor &wt, const Tensor *b, Tensor &y) {
          return backend->linearForward(LinearDesc{}, x, wt, b, y);
        },
        weight, withBias ? &bias : nullptr, norm, 1e-5, Shape{3, 7});
  }
}

TEST(BatchNormScaleShift, PostOpEqualsInferenceBatchNorm) {
  std::unique_ptr<Backend> backend = createReferenceBackend();
  std::mt19937 rng(5);
  Conv2dDesc conv;
  conv.padH = conv.padW = 1;
  conv.groups = 3;
  Tensor x = filled(Shape{3, 6, 5, 7}, rng, -1.0f, 1.0f);
  Tensor weight = filled(Shape{9, 2, 3, 3}, rng, -0.5f, 0.5f);
  Tensor bias = filled(Shape{9}, rng, -0.5f, 0.5f);
  Norm norm(9, rng);
  for (double eps : {1e-5, 0.3}) {
    SCOPED_TRACE(eps);
    BatchNormDesc inference;
    inference.training = false;
    inference.eps = eps;
    Shape out{3, 9, 5, 7};
    Tensor raw = Tensor::owning(out), want = Tensor::owning(out);
    ASSERT_TRUE(backend->conv2dForward(conv, x, weight, &bias, raw).ok());
    ASSERT_TRUE(backend
                    ->batchNormForward(inference, raw, norm.gamma, norm.beta,
                                       norm.mean, norm.var, want)
                    .ok());
    Tensor scale = Tensor::owning(Shape{9}), shift = Tensor::owning(Shape{9});
    Status status = backend->batchNormScaleShift(
        BatchNormScaleShiftDesc{eps}, norm.gamma, norm.beta, norm.mean,
        norm.var, scale, shift);
    ASSERT_TRUE(status.ok()) << status.message();
    Conv2dDesc fused = conv;
    fused.postOps.appendScaleShift();
    PostOpTensors tensors;
    tensors.scales = {&scale};
    tensors.shifts = {&shift};
    Tensor got = Tensor::owning(out);
    ASSERT_TRUE(
        backend->conv2dFusedForward(fused, x, weight, &bias, tensors, got).ok());
    EXPECT_LT(maxRelativeDifference(got, want), 1e-5);
  }
}

TEST(BatchNormScaleShift, RejectsMismatchedShapes) {
  std::unique_ptr<Backend> backend = createReferenceBackend();
  std::mt19937 rng(9);
  Norm norm(4, rng);
  Norm wrong(5, rng);
  Tensor scale = Tensor::owning(Shape{4}), shift = Tensor::owning(Shape{4});
  Status status = backend->batchNormScaleShift(
      BatchNormScaleShiftDesc{}, norm.gamma, wrong.beta, norm.mean, norm.var,
      scale, shift);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(
      status.message().find("batch_norm_scale_shift: beta must have shape [4]"),
      std::string::npos)
      << status.message();
  Tensor longShift = Tensor::owning(Shape{5});
  EXPECT_FALSE(backend
                   ->batchNormScaleShift(BatchNormScaleShiftDesc{}, norm.gamma,
                                         norm.beta, norm.mean, norm.var, scale,
                                         longShift)
                   .ok());
  EXPECT_FALSE(backend
                   ->batchNormScaleShift(BatchNormScaleShiftDesc{0.0},
                                         norm.gamma, norm.beta, norm.mean,
                                         norm.var, scale, shift)
                   .ok());
}

TEST(FoldBatchNorm, RejectsMismatchedShapes) {
  std::unique_ptr<Backend> backend = createReferenceBackend();
  std::mt19937 rng(3);
  Tensor weight = filled(Shape{4, 2, 3, 3}, rng, -1.0f, 1.0f);
  Norm norm(4, rng);
  Norm wrong(5, rng);
  Tensor foldedWeight = Tensor::owning(weight.shape());
  Tensor foldedBias = Tensor::owning(Shape{4});
  Status status = backend->foldBatchNorm(
      FoldBatchNormDesc{}, weight, nullptr, wrong.gamma, norm.beta, norm.mean,
      norm.var, foldedWeight, foldedBias);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("fold_batch_norm: gamma must have shape [4]"),
            std::string::npos)
      << status.message();
  Tensor vector = filled(Shape{4}, rng, -1.0f, 1.0f);
  status = backend->foldBatchNorm(FoldBatchNormDesc{}, vector, nullptr,
                                  norm.gamma, norm.beta, norm.mean, norm.var,
                                  foldedWeight, foldedBias);
  EXPECT_FALSE(status.ok());
  status = backend->foldBatchNorm(FoldBatchNormDesc{0.0}, weight, nullptr,
                                  norm.gamma, norm.beta, norm.mean, norm.var,
                                  foldedWeight, foldedBias);
  EXPECT_FALSE(status.ok());
}

} // namespace

//===- LayerConformanceTest.cpp - conv, linear, norms, activations --------===//

#include "ConformanceTest.h"

namespace kdrt::conformance {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Backends, Conformance, ::testing::ValuesIn(registeredBackends()),
    [](const ::testing::TestParamInfo<BackendFactory> &info) {
      return info.param.name;
    });

struct ConvCase {
  const char *name;
  Shape input;
  int64_t outChannels, kernelH, kernelW;
  Conv2dDesc desc;
};

Conv2dDesc convDesc(int64_t stride, int64_t pad, int64_t dilation,
                    int64_t groups) {
  Conv2dDesc desc;
  desc.strideH = desc.strideW = stride;
  desc.padH = desc.padW = pad;
  desc.dilationH = desc.dilationW = dilation;
  desc.groups = groups;
  return desc;
}

/// Odd shapes on purpose: batch 1 and 3, 5x7 and 9x9, groups, depthwise,
/// dilation, stride with rows the floor drops.
std::vector<ConvCase> convCases() {
  Conv2dDesc asymmetric = convDesc(1, 1, 1, 1);
  asymmetric.strideW = 2;
  asymmetric.padH = 0;
  return {
      {"batch1_5x7_pad1", {1, 3, 5, 7}, 4, 3, 3, convDesc(1, 1, 1, 1)},
      {"batch3_9x9_stride2_groups2", {3, 4, 9, 9}, 6, 3, 3,
       convDesc(2, 1, 1, 2)},
      {"depthwise_9x9", {3, 5, 9, 9}, 5, 3, 3, convDesc(1, 1, 1, 5)},
      {"dilation2_9x9", {1, 3, 9, 9}, 2, 3, 3, convDesc(1, 2, 2, 1)},
      {"stride2_drops_5x7", {3, 2, 5, 7}, 3, 2, 2, convDesc(2, 0, 1, 1)},
      {"pointwise_5x7", {3, 8, 5, 7}, 16, 1, 1, convDesc(1, 0, 1, 1)},
      {"asymmetric_5x7", {1, 3, 5, 7}, 4, 3, 5, asymmetric},
  };
}

Shape convOutput(const ConvCase &c) {
  const Conv2dDesc &d = c.desc;
  int64_t h = (c.input[2] + 2 * d.padH - d.dilationH * (c.kernelH - 1) - 1) /
                  d.strideH + 1;
  int64_t w = (c.input[3] + 2 * d.padW - d.dilationW * (c.kernelW - 1) - 1) /
                  d.strideW + 1;
  return {c.input[0], c.outChannels, h, w};
}

TEST_P(Conformance, Conv2dForward) {
  for (const ConvCase &c : convCases())
    for (bool withBias : {true, false}) {
      SCOPED_TRACE(std::string(c.name) + (withBias ? " bias" : ""));
      OpCase op(kProductTolerance);
      int x = op.input(c.input);
      int w = op.input(Shape{c.outChannels, c.input[1] / c.desc.groups,
                             c.kernelH, c.kernelW});
      int b = op.input(Shape{c.outChannels});
      int y = op.output(convOutput(c));
      EXPECT_TRUE(op.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.conv2dForward(c.desc, t[x], t[w],
                                    withBias ? &t[b] : nullptr, t[y]);
          }));
    }
}

TEST_P(Conformance, Conv2dBackward) {
  for (const ConvCase &c : convCases())
    for (bool allGrads : {true, false}) {
      SCOPED_TRACE(std::string(c.name) + (allGrads ? " all" : " data only"));
      OpCase op(kProductTolerance);
      Shape weightShape{c.outChannels, c.input[1] / c.desc.groups, c.kernelH,
                        c.kernelW};
      int x = op.input(c.input);
      int w = op.input(weightShape);
      int dy = op.input(convOutput(c));
      int dx = op.output(c.input);
      int dw = allGrads ? op.output(weightShape) : -1;
      int db = allGrads ? op.output(Shape{c.outChannels}) : -1;
      EXPECT_TRUE(op.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.conv2dBackward(c.desc, t[x], t[w], t[dy], &t[dx],
                                     dw >= 0 ? &t[dw] : nullptr,
                                     db >= 0 ? &t[db] : nullptr);
          }));
    }
}

TEST_P(Conformance, Conv2dBackwardWeightsOnly) {
  ConvCase c = convCases()[1];
  OpCase op(kProductTolerance);
  Shape weightShape{c.outChannels, c.input[1] / c.desc.groups, c.kernelH,
                    c.kernelW};
  int x = op.input(c.input), w = op.input(weightShape);
  int dy = op.input(convOutput(c));
  int dw = op.output(weightShape), db = op.output(Shape{c.outChannels});
  EXPECT_TRUE(op.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        return be.conv2dBackward(c.desc, t[x], t[w], t[dy], nullptr, &t[dw],
                                 nullptr) .ok()
                   ? be.conv2dBackward(c.desc, t[x], t[w], t[dy], nullptr,
                                       nullptr, &t[db])
                   : Status::internal("weights-only backward failed");
      }));
}

TEST_P(Conformance, LinearForwardAndBackward) {
  for (Shape input : {Shape{1, 7}, Shape{3, 5, 7}}) {
    SCOPED_TRACE(input.toString());
    Shape output = input;
    output[output.rank() - 1] = 5;
    OpCase forward(kProductTolerance);
    int x = forward.input(input), w = forward.input(Shape{5, 7});
    int b = forward.input(Shape{5}), y = forward.output(output);
    EXPECT_TRUE(forward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.linearForward({}, t[x], t[w], &t[b], t[y]);
        }));
    OpCase backward(kProductTolerance);
    x = backward.input(input);
    w = backward.input(Shape{5, 7});
    int dy = backward.input(output);
    int dx = backward.output(input), dw = backward.output(Shape{5, 7});
    int db = backward.output(Shape{5});
    EXPECT_TRUE(backward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.linearBackward({}, t[x], t[w], t[dy], &t[dx], &t[dw],
                                   &t[db]);
        }));
  }
}

TEST_P(Conformance, BatchNorm) {
  for (Shape input : {Shape{3, 4, 5, 7}, Shape{1, 3, 9, 9}, Shape{3, 6}})
    for (bool training : {true, false}) {
      SCOPED_TRACE(input.toString() + (training ? " training" : " inference"));
      BatchNormDesc desc;
      desc.training = training;
      desc.momentum = 0.3;
      Shape channels{input[1]};
      OpCase forward(kNormTolerance);
      int x = forward.input(input, -2.0f, 3.0f);
      int g = forward.input(channels), b = forward.input(channels);
      int mean = forward.inout(randomTensor(channels, 91));
      int var = forward.inout(randomTensor(channels, 92, 0.5f, 2.0f));
      int y = forward.output(input);
      EXPECT_TRUE(forward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.batchNormForward(desc, t[x], t[g], t[b], t[mean],
                                       t[var], t[y]);
          }));
      OpCase backward(kNormTolerance);
      x = backward.input(input, -2.0f, 3.0f);
      g = backward.input(channels);
      mean = backward.input(randomTensor(channels, 93));
      var = backward.input(randomTensor(channels, 94, 0.5f, 2.0f));
      int dy = backward.input(input);
      int dx = backward.output(input), dg = backward.output(channels);
      int db = backward.output(channels);
      EXPECT_TRUE(backward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.batchNormBackward(desc, t[x], t[g], t[mean], t[var],
                                        t[dy], &t[dx], &t[dg], &t[db]);
          }));
    }
}

TEST_P(Conformance, FoldBatchNorm) {
  // A conv weight (grouped: [O, I/g, kh, kw]) and a linear weight, with and
  // without the layer's bias.
  for (Shape weight : {Shape{6, 2, 3, 3}, Shape{5, 1, 3, 2}, Shape{7, 13}})
    for (bool withBias : {true, false}) {
      SCOPED_TRACE(weight.toString() + (withBias ? " bias" : " no bias"));
      Shape channels{weight[0]};
      OpCase op(kNormTolerance);
      int w = op.input(weight), b = op.input(channels);
      int g = op.input(channels), beta = op.input(channels);
      int mean = op.input(channels, -2.0f, 2.0f);
      int var = op.input(channels, 0.05f, 3.0f);
      int fw = op.output(weight), fb = op.output(channels);
      EXPECT_TRUE(op.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.foldBatchNorm(FoldBatchNormDesc{1e-3}, t[w],
                                    withBias ? &t[b] : nullptr, t[g], t[beta],
                                    t[mean], t[var], t[fw], t[fb]);
          }));
    }
}

TEST_P(Conformance, BatchNormScaleShift) {
  // Empty tensors are refused by every implementation; only the
  // interface's default answers unimplemented. The compiler lowers the
  // scale_shift post-ops of a target without the entry (GPU) unfused.
  Tensor none;
  if (backend()
          .batchNormScaleShift({}, none, none, none, none, none, none)
          .code() == StatusCode::Unimplemented)
    GTEST_SKIP() << backend().name() << " has no batchNormScaleShift";
  for (int64_t channels : {1, 7, 64}) {
    SCOPED_TRACE(channels);
    Shape vector{channels};
    OpCase op(kNormTolerance);
    int g = op.input(vector), beta = op.input(vector);
    int mean = op.input(vector, -2.0f, 2.0f);
    int var = op.input(vector, 0.05f, 3.0f);
    int scale = op.output(vector), shift = op.output(vector);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.batchNormScaleShift(BatchNormScaleShiftDesc{1e-3}, t[g],
                                        t[beta], t[mean], t[var], t[scale],
                                        t[shift]);
        }));
  }
}

TEST_P(Conformance, LayerNorm) {
  struct Case {
    Shape input;
    int64_t normalizedRank;
    bool affine;
  };
  for (const Case &c : {Case{{3, 5, 7}, 1, true}, Case{{1, 9, 5}, 1, false},
                        Case{{3, 4, 5, 7}, 3, true}}) {
    SCOPED_TRACE(c.input.toString());
    LayerNormDesc desc;
    desc.normalizedRank = c.normalizedRank;
    Shape affine(std::vector<int64_t>(c.input.dims().end() - c.normalizedRank,
                                      c.input.dims().end()));
    OpCase forward(kNormTolerance);
    int x = forward.input(c.input, -2.0f, 3.0f);
    int g = forward.input(affine), b = forward.input(affine);
    int y = forward.output(c.input);
    EXPECT_TRUE(forward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.layerNormForward(desc, t[x], c.affine ? &t[g] : nullptr,
                                     c.affine ? &t[b] : nullptr, t[y]);
        }));
    OpCase backward(kNormTolerance);
    x = backward.input(c.input, -2.0f, 3.0f);
    g = backward.input(affine);
    int dy = backward.input(c.input);
    int dx = backward.output(c.input);
    int dg = backward.output(affine), db = backward.output(affine);
    EXPECT_TRUE(backward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.layerNormBackward(desc, t[x], c.affine ? &t[g] : nullptr,
                                      t[dy], &t[dx], &t[dg], &t[db]);
        }));
  }
}

TEST_P(Conformance, GroupNorm) {
  GroupNormDesc desc;
  desc.groups = 2;
  Shape input{3, 6, 5, 7};
  OpCase forward(kNormTolerance);
  int x = forward.input(input, -2.0f, 3.0f);
  int g = forward.input(Shape{6}), b = forward.input(Shape{6});
  int y = forward.output(input);
  EXPECT_TRUE(forward.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        return be.groupNormForward(desc, t[x], &t[g], &t[b], t[y]);
      }));
  OpCase backward(kNormTolerance);
  x = backward.input(input, -2.0f, 3.0f);
  g = backward.input(Shape{6});
  int dy = backward.input(input);
  int dx = backward.output(input), dg = backward.output(Shape{6});
  int db = backward.output(Shape{6});
  EXPECT_TRUE(backward.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        return be.groupNormBackward(desc, t[x], &t[g], t[dy], &t[dx], &t[dg],
                                    &t[db]);
      }));
}

TEST_P(Conformance, GroupNormShapesAffinesAndPartialGradients) {
  // Instance norm (groups = C) without affine on [N, C, L]; one group over
  // a sample far from zero (the mean must not cancel digits); layer-norm
  // like groups = 1 with only some gradients asked for.
  struct Case {
    const char *name;
    int64_t groups;
    Shape input;
    float low, high;
    bool affine, wantDx, wantDg, wantDb;
  };
  for (const Case &c :
       {Case{"instance_no_affine", 4, {2, 4, 9}, -1.0f, 1.0f, false, true,
             false, false},
        Case{"offset_mean", 1, {2, 3, 4, 4}, 100.0f, 101.0f, true, true, true,
             true},
        Case{"dx_only", 3, {1, 6, 2, 3}, -2.0f, 2.0f, true, true, false,
             false},
        Case{"dgamma_only", 2, {3, 4, 3, 1}, -2.0f, 2.0f, true, false, true,
             false}}) {
    SCOPED_TRACE(c.name);
    GroupNormDesc desc;
    desc.groups = c.groups;
    Shape channels{c.input[1]};
    OpCase forward(kNormTolerance);
    int x = forward.input(c.input, c.low, c.high);
    int g = c.affine ? forward.input(channels) : -1;
    int b = c.affine ? forward.input(channels) : -1;
    int y = forward.output(c.input);
    EXPECT_TRUE(forward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.groupNormForward(desc, t[x], c.affine ? &t[g] : nullptr,
                                     c.affine ? &t[b] : nullptr, t[y]);
        }));
    OpCase backward(kNormTolerance);
    x = backward.input(c.input, c.low, c.high);
    g = c.affine ? backward.input(channels) : -1;
    int dy = backward.input(c.input);
    int dx = c.wantDx ? backward.output(c.input) : -1;
    int dg = c.wantDg ? backward.output(channels) : -1;
    int db = c.wantDb ? backward.output(channels) : -1;
    EXPECT_TRUE(backward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.groupNormBackward(desc, t[x], c.affine ? &t[g] : nullptr,
                                      t[dy], c.wantDx ? &t[dx] : nullptr,
                                      c.wantDg ? &t[dg] : nullptr,
                                      c.wantDb ? &t[db] : nullptr);
        }));
  }
}

TEST_P(Conformance, Activations) {
  for (ActivationKind kind : {ActivationKind::Relu, ActivationKind::Gelu,
                              ActivationKind::Sigmoid, ActivationKind::Tanh}) {
    SCOPED_TRACE(int(kind));
    ActivationDesc desc{kind};
    Shape shape{3, 5, 7, 9};
    OpCase forward(kElementwiseTolerance);
    int x = forward.input(shape, -4.0f, 4.0f), y = forward.output(shape);
    EXPECT_TRUE(forward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.activationForward(desc, t[x], t[y]);
        }));
    OpCase backward(kElementwiseTolerance);
    x = backward.input(shape, -4.0f, 4.0f);
    int dy = backward.input(shape), dx = backward.output(shape);
    EXPECT_TRUE(backward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.activationBackward(desc, t[x], t[dy], t[dx]);
        }));
  }
}

TEST_P(Conformance, Softmax) {
  for (bool log : {false, true})
    for (double temperature : {1.0, 4.0}) {
      SCOPED_TRACE(std::string(log ? "log" : "softmax") + " T=" +
                   std::to_string(temperature));
      SoftmaxDesc desc{temperature, log};
      Shape shape{3, 5, 11};
      OpCase forward(kElementwiseTolerance);
      int x = forward.input(shape, -5.0f, 5.0f), y = forward.output(shape);
      EXPECT_TRUE(forward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.softmaxForward(desc, t[x], t[y]);
          }));
      // The backward takes the forward output; make a valid one.
      Tensor logits = randomTensor(shape, 7, -5.0f, 5.0f);
      Tensor probabilities = Tensor::owning(shape);
      ASSERT_TRUE(createReferenceBackendForTests()
                      ->softmaxForward(desc, logits, probabilities)
                      .ok());
      OpCase backward(kElementwiseTolerance);
      int p = backward.input(probabilities);
      int dy = backward.input(shape), dx = backward.output(shape);
      EXPECT_TRUE(backward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.softmaxBackward(desc, t[p], t[dy], t[dx]);
          }));
    }
}

} // namespace
} // namespace kdrt::conformance

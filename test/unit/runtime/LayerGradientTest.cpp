//===- LayerGradientTest.cpp - Finite differences for layer kernels -------===//

#include "GradCheck.h"
#include "kdrt/reference/Kernels.h"

using namespace kdrt;
using namespace kdrt::reference;
using namespace kdrt::test;

namespace {

/// Runs forward, projects the output on random weights, runs backward with
/// those weights as dy and compares every gradient with finite differences.
struct OpCheck {
  std::function<Status(Buffer &y)> forward;
  std::function<Status(const Buffer &dy)> backward;
  std::vector<GradientPair> pairs;
  Shape outputShape;

  void run(unsigned seed = 7) {
    Buffer y(outputShape);
    ASSERT_TRUE(forward(y).ok());
    Buffer dy = randomBuffer(outputShape, seed);
    Status status = backward(dy);
    ASSERT_TRUE(status.ok()) << status.message();
    expectGradients(
        [&] {
          Buffer probe(outputShape);
          EXPECT_TRUE(forward(probe).ok());
          return projected(probe, dy);
        },
        pairs);
  }
};

void checkConv(Conv2dDesc desc, Shape in, Shape w, bool bias) {
  Buffer x = randomBuffer(in, 1), weight = randomBuffer(w, 2),
         b = randomBuffer(Shape{w[0]}, 3);
  Shape outShape;
  ASSERT_TRUE(conv2dOutputShape(desc, in, w, outShape).ok());
  Buffer dx(in), dw(w), db(Shape{w[0]});
  OpCheck check;
  check.outputShape = outShape;
  check.forward = [&](Buffer &y) {
    return conv2dForward<double>(desc, x.in(), weight.in(),
                                 bias ? b.in() : TensorRef<const double>(),
                                 y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return conv2dBackward<double>(desc, x.in(), weight.in(), dy.in(), dx.out(),
                                  dw.out(),
                                  bias ? db.out() : TensorRef<double>());
  };
  check.pairs = {{"input", &x, &dx}, {"weight", &weight, &dw}};
  if (bias)
    check.pairs.push_back({"bias", &b, &db});
  check.run();
}

TEST(LayerGradient, Conv2dStridePaddingBias) {
  Conv2dDesc desc;
  desc.strideH = desc.strideW = 2;
  desc.padH = desc.padW = 1;
  checkConv(desc, Shape{3, 2, 5, 7}, Shape{4, 2, 3, 3}, true);
}

TEST(LayerGradient, Conv2dGroupsDilationNoBias) {
  Conv2dDesc desc;
  desc.groups = 2;
  desc.dilationH = desc.dilationW = 2;
  desc.padH = 2;
  desc.padW = 1;
  checkConv(desc, Shape{1, 4, 5, 7}, Shape{6, 2, 3, 2}, false);
}

TEST(LayerGradient, LinearOnTokens) {
  Buffer x = randomBuffer(Shape{3, 5, 4}, 1), w = randomBuffer(Shape{3, 4}, 2),
         b = randomBuffer(Shape{3}, 3);
  Buffer dx(x.shape), dw(w.shape), db(b.shape);
  OpCheck check;
  check.outputShape = Shape{3, 5, 3};
  check.forward = [&](Buffer &y) {
    return linearForward<double>({}, x.in(), w.in(), b.in(), y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return linearBackward<double>({}, x.in(), w.in(), dy.in(), dx.out(),
                                  dw.out(), db.out());
  };
  check.pairs = {{"input", &x, &dx}, {"weight", &w, &dw}, {"bias", &b, &db}};
  check.run();
}

void checkBatchNorm(bool training) {
  Shape shape{3, 2, 5, 7};
  Buffer x = randomBuffer(shape, 1), g = randomBuffer(Shape{2}, 2, 0.5, 1.5),
         b = randomBuffer(Shape{2}, 3);
  Buffer mean = randomBuffer(Shape{2}, 4), var = randomBuffer(Shape{2}, 5, 0.5, 2);
  Buffer dx(shape), dg(g.shape), db(b.shape);
  BatchNormDesc desc;
  desc.training = training;
  OpCheck check;
  check.outputShape = shape;
  check.forward = [&](Buffer &y) {
    // Work on copies: training updates the running statistics.
    Buffer m = mean, v = var;
    return batchNormForward<double>(desc, x.in(), g.in(), b.in(), m.out(),
                                    v.out(), y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return batchNormBackward<double>(desc, x.in(), g.in(), mean.in(), var.in(),
                                     dy.in(), dx.out(), dg.out(), db.out());
  };
  check.pairs = {{"input", &x, &dx}, {"gamma", &g, &dg}, {"beta", &b, &db}};
  check.run();
}

TEST(LayerGradient, BatchNormTraining) { checkBatchNorm(true); }
TEST(LayerGradient, BatchNormInference) { checkBatchNorm(false); }

void checkLayerNorm(Shape shape, int64_t normalizedRank) {
  LayerNormDesc desc;
  desc.normalizedRank = normalizedRank;
  Shape affine = trailingShape(shape, normalizedRank);
  Buffer x = randomBuffer(shape, 1), g = randomBuffer(affine, 2, 0.5, 1.5),
         b = randomBuffer(affine, 3);
  Buffer dx(shape), dg(affine), db(affine);
  OpCheck check;
  check.outputShape = shape;
  check.forward = [&](Buffer &y) {
    return layerNormForward<double>(desc, x.in(), g.in(), b.in(), y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return layerNormBackward<double>(desc, x.in(), g.in(), dy.in(), dx.out(),
                                     dg.out(), db.out());
  };
  check.pairs = {{"input", &x, &dx}, {"gamma", &g, &dg}, {"beta", &b, &db}};
  check.run();
}

TEST(LayerGradient, LayerNormLastDim) { checkLayerNorm(Shape{3, 5, 4}, 1); }
TEST(LayerGradient, LayerNormChw) { checkLayerNorm(Shape{1, 3, 5, 7}, 3); }

TEST(LayerGradient, GroupNorm) {
  Shape shape{3, 6, 5, 3};
  GroupNormDesc desc;
  desc.groups = 3;
  Buffer x = randomBuffer(shape, 1), g = randomBuffer(Shape{6}, 2, 0.5, 1.5),
         b = randomBuffer(Shape{6}, 3);
  Buffer dx(shape), dg(g.shape), db(b.shape);
  OpCheck check;
  check.outputShape = shape;
  check.forward = [&](Buffer &y) {
    return groupNormForward<double>(desc, x.in(), g.in(), b.in(), y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return groupNormBackward<double>(desc, x.in(), g.in(), dy.in(), dx.out(),
                                     dg.out(), db.out());
  };
  check.pairs = {{"input", &x, &dx}, {"gamma", &g, &dg}, {"beta", &b, &db}};
  check.run();
}

TEST(LayerGradient, Activations) {
  for (ActivationKind kind : {ActivationKind::Relu, ActivationKind::Gelu,
                              ActivationKind::Sigmoid, ActivationKind::Tanh}) {
    SCOPED_TRACE(int(kind));
    Buffer x = distinctBuffer(Shape{3, 5, 7}, 1);
    Buffer dx(x.shape);
    OpCheck check;
    check.outputShape = x.shape;
    check.forward = [&](Buffer &y) {
      return activationForward<double>({kind}, x.in(), y.out());
    };
    check.backward = [&](const Buffer &dy) {
      return activationBackward<double>({kind}, x.in(), dy.in(), dx.out());
    };
    check.pairs = {{"input", &x, &dx}};
    check.run();
  }
}

TEST(LayerGradient, SoftmaxAndLogSoftmaxWithTemperature) {
  for (bool log : {false, true}) {
    SoftmaxDesc desc{4.0, log};
    Buffer x = randomBuffer(Shape{3, 7}, 1, -3, 3);
    Buffer dx(x.shape), y(x.shape);
    OpCheck check;
    check.outputShape = x.shape;
    check.forward = [&](Buffer &out) {
      return softmaxForward<double>(desc, x.in(), out.out());
    };
    check.backward = [&](const Buffer &dy) {
      EXPECT_TRUE(softmaxForward<double>(desc, x.in(), y.out()).ok());
      return softmaxBackward<double>(desc, y.in(), dy.in(), dx.out());
    };
    check.pairs = {{"input", &x, &dx}};
    check.run();
  }
}

void checkPool(Pool2dDesc desc, Shape in) {
  Buffer x = distinctBuffer(in, 1);
  Shape outShape;
  ASSERT_TRUE(detail::pool2dOutputShape(desc, in, outShape).ok());
  Buffer dx(in);
  OpCheck check;
  check.outputShape = outShape;
  check.forward = [&](Buffer &y) {
    return pool2dForward<double>(desc, x.in(), y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return pool2dBackward<double>(desc, x.in(), dy.in(), dx.out());
  };
  check.pairs = {{"input", &x, &dx}};
  check.run();
}

TEST(LayerGradient, MaxPoolPadded) {
  checkPool({PoolMode::Max, 3, 3, 2, 2, 1, 1, false}, Shape{3, 2, 5, 7});
}
TEST(LayerGradient, AvgPoolExcludePad) {
  checkPool({PoolMode::Avg, 3, 2, 2, 1, 1, 1, false}, Shape{1, 2, 5, 7});
}

TEST(LayerGradient, AdaptivePools) {
  for (auto [mode, outH, outW] :
       {std::tuple{PoolMode::Avg, 1, 1}, std::tuple{PoolMode::Avg, 3, 2},
        std::tuple{PoolMode::Max, 2, 3}}) {
    AdaptivePoolDesc desc{mode, outH, outW};
    Buffer x = distinctBuffer(Shape{3, 2, 5, 7}, 1);
    Buffer dx(x.shape);
    OpCheck check;
    check.outputShape = Shape{3, 2, outH, outW};
    check.forward = [&](Buffer &y) {
      return adaptivePoolForward<double>(desc, x.in(), y.out());
    };
    check.backward = [&](const Buffer &dy) {
      return adaptivePoolBackward<double>(desc, x.in(), dy.in(), dx.out());
    };
    check.pairs = {{"input", &x, &dx}};
    check.run();
  }
}

TEST(LayerGradient, ResizeModes) {
  for (auto [mode, outH, outW] :
       {std::tuple{ResizeMode::Bilinear, 9, 4},
        std::tuple{ResizeMode::Nearest, 3, 11},
        std::tuple{ResizeMode::Area, 2, 3}}) {
    ResizeDesc desc{mode, outH, outW};
    Buffer x = randomBuffer(Shape{1, 2, 5, 7}, 1);
    Buffer dx(x.shape);
    OpCheck check;
    check.outputShape = Shape{1, 2, outH, outW};
    check.forward = [&](Buffer &y) {
      return resizeForward<double>(desc, x.in(), y.out());
    };
    check.backward = [&](const Buffer &dy) {
      return resizeBackward<double>(desc, dy.in(), dx.out());
    };
    check.pairs = {{"input", &x, &dx}};
    check.run();
  }
}

void checkBinary(BinaryKind kind, Shape lhsShape, Shape rhsShape) {
  Buffer a = randomBuffer(lhsShape, 1), b = randomBuffer(rhsShape, 2);
  Buffer da(lhsShape), db(rhsShape);
  OpCheck check;
  check.outputShape = lhsShape;
  check.forward = [&](Buffer &y) {
    return binaryForward<double>({kind}, a.in(), b.in(), y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return binaryBackward<double>({kind}, a.in(), b.in(), dy.in(), da.out(),
                                  db.out());
  };
  check.pairs = {{"lhs", &a, &da}, {"rhs", &b, &db}};
  check.run();
}

TEST(LayerGradient, AddMulBroadcast) {
  for (BinaryKind kind : {BinaryKind::Add, BinaryKind::Mul}) {
    checkBinary(kind, Shape{3, 4, 5, 7}, Shape{4, 1, 1});
    checkBinary(kind, Shape{3, 4, 5, 7}, Shape{3, 4, 1, 1});
    checkBinary(kind, Shape{1, 4, 5, 3}, Shape{1, 4, 5, 3});
  }
}

TEST(LayerGradient, ConcatChannels) {
  Buffer a = randomBuffer(Shape{3, 2, 5, 7}, 1),
         b = randomBuffer(Shape{3, 3, 5, 7}, 2);
  Buffer da(a.shape), db(b.shape);
  OpCheck check;
  check.outputShape = Shape{3, 5, 5, 7};
  check.forward = [&](Buffer &y) {
    return concatForward<double>({1}, {a.in(), b.in()}, y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return concatBackward<double>({1}, dy.in(), {da.out(), db.out()});
  };
  check.pairs = {{"a", &a, &da}, {"b", &b, &db}};
  check.run();
}

TEST(LayerGradient, MatMulPlainAndBatchedTransposed) {
  for (auto [lhsShape, rhsShape, outShape, ta, tb] :
       {std::tuple{Shape{3, 5}, Shape{5, 4}, Shape{3, 4}, false, false},
        std::tuple{Shape{3, 5, 2}, Shape{3, 4, 5}, Shape{3, 2, 4}, true, true}}) {
    MatMulDesc desc{ta, tb};
    Buffer a = randomBuffer(lhsShape, 1), b = randomBuffer(rhsShape, 2);
    Buffer da(lhsShape), db(rhsShape);
    OpCheck check;
    check.outputShape = outShape;
    check.forward = [&](Buffer &y) {
      return matMulForward<double>(desc, a.in(), b.in(), y.out());
    };
    check.backward = [&](const Buffer &dy) {
      return matMulBackward<double>(desc, a.in(), b.in(), dy.in(), da.out(),
                                    db.out());
    };
    check.pairs = {{"lhs", &a, &da}, {"rhs", &b, &db}};
    check.run();
  }
}

TEST(LayerGradient, L2Normalize) {
  Buffer x = randomBuffer(Shape{3, 2, 5}, 1);
  Buffer dx(x.shape);
  OpCheck check;
  check.outputShape = x.shape;
  check.forward = [&](Buffer &y) {
    return l2NormalizeForward<double>({}, x.in(), y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return l2NormalizeBackward<double>({}, x.in(), dy.in(), dx.out());
  };
  check.pairs = {{"input", &x, &dx}};
  check.run();
}

TEST(LayerGradient, DropoutUsesItsMask) {
  DropoutDesc desc{0.3, 42};
  Buffer x = randomBuffer(Shape{3, 5, 7}, 1);
  Buffer mask(x.shape), dx(x.shape);
  OpCheck check;
  check.outputShape = x.shape;
  check.forward = [&](Buffer &y) {
    return dropoutForward<double>(desc, x.in(), y.out(), mask.out());
  };
  check.backward = [&](const Buffer &dy) {
    return dropoutBackward<double>(desc, mask.in(), dy.in(), dx.out());
  };
  check.pairs = {{"input", &x, &dx}};
  check.run();
  int64_t dropped = 0;
  for (double m : mask.values)
    dropped += m == 0;
  EXPECT_GT(dropped, 10);  // about 0.3 * 105
  EXPECT_LT(dropped, 55);
}

TEST(LayerGradient, MultiHeadSelfAttention) {
  int64_t width = 6;
  MultiHeadAttentionDesc desc{2};
  Buffer x = randomBuffer(Shape{3, 5, width}, 1);
  Buffer weights[4], biases[4], gradWeights[4], gradBiases[4];
  AttentionParams<double> params;
  AttentionParamGrads<double> grads;
  for (int k = 0; k < 4; ++k) {
    weights[k] = randomBuffer(Shape{width, width}, 10 + k, -0.6, 0.6);
    biases[k] = randomBuffer(Shape{width}, 20 + k);
    gradWeights[k] = Buffer(weights[k].shape);
    gradBiases[k] = Buffer(biases[k].shape);
    params.weight[k] = weights[k].in();
    params.bias[k] = biases[k].in();
    grads.weight[k] = gradWeights[k].out();
    grads.bias[k] = gradBiases[k].out();
  }
  Buffer dx(x.shape);
  OpCheck check;
  check.outputShape = x.shape;
  check.forward = [&](Buffer &y) {
    return multiHeadAttentionForward<double>(desc, x.in(), params, y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return multiHeadAttentionBackward<double>(desc, x.in(), params, dy.in(),
                                              dx.out(), grads);
  };
  check.pairs = {{"input", &x, &dx}};
  const char *names[4] = {"query", "key", "value", "output"};
  for (int k = 0; k < 4; ++k) {
    check.pairs.push_back({std::string(names[k]) + " weight", &weights[k],
                           &gradWeights[k]});
    check.pairs.push_back(
        {std::string(names[k]) + " bias", &biases[k], &gradBiases[k]});
  }
  check.run();
}

TEST(LayerGradient, GcAttentionPool) {
  Buffer x = randomBuffer(Shape{3, 4, 5, 3}, 1), w = randomBuffer(Shape{1, 4, 1, 1}, 2),
         b = randomBuffer(Shape{1}, 3);
  Buffer dx(x.shape), dw(w.shape), db(b.shape);
  OpCheck check;
  check.outputShape = Shape{3, 4, 1, 1};
  check.forward = [&](Buffer &y) {
    return attentionPoolForward<double>({}, x.in(), w.in(), b.in(), y.out());
  };
  check.backward = [&](const Buffer &dy) {
    return attentionPoolBackward<double>({}, x.in(), w.in(), b.in(), dy.in(),
                                         dx.out(), dw.out(), db.out());
  };
  check.pairs = {{"input", &x, &dx}, {"weight", &w, &dw}, {"bias", &b, &db}};
  check.run();
}

TEST(LayerGradient, TokenOps) {
  Buffer image = randomBuffer(Shape{3, 4, 5, 3}, 1);
  Buffer dImage(image.shape);
  OpCheck tokens;
  tokens.outputShape = Shape{3, 15, 4};
  tokens.forward = [&](Buffer &y) {
    return tokensForward<double>({}, image.in(), y.out());
  };
  tokens.backward = [&](const Buffer &dy) {
    return tokensBackward<double>({}, dy.in(), dImage.out());
  };
  tokens.pairs = {{"image", &image, &dImage}};
  tokens.run();

  Buffer x = randomBuffer(Shape{3, 5, 4}, 2), cls = randomBuffer(Shape{1, 1, 4}, 3),
         pos = randomBuffer(Shape{1, 5, 4}, 4);
  Buffer dx(x.shape), dcls(cls.shape), dpos(pos.shape);
  OpCheck prepend;
  prepend.outputShape = Shape{3, 6, 4};
  prepend.forward = [&](Buffer &y) {
    return clsTokenPrependForward<double>({}, x.in(), cls.in(), y.out());
  };
  prepend.backward = [&](const Buffer &dy) {
    return clsTokenPrependBackward<double>({}, dy.in(), dx.out(), dcls.out());
  };
  prepend.pairs = {{"input", &x, &dx}, {"cls", &cls, &dcls}};
  prepend.run();

  OpCheck addPos;
  addPos.outputShape = x.shape;
  addPos.forward = [&](Buffer &y) {
    return positionEmbeddingAddForward<double>({}, x.in(), pos.in(), y.out());
  };
  addPos.backward = [&](const Buffer &dy) {
    return positionEmbeddingAddBackward<double>({}, dy.in(), dx.out(),
                                                dpos.out());
  };
  addPos.pairs = {{"input", &x, &dx}, {"embedding", &pos, &dpos}};
  addPos.run();

  OpCheck select;
  select.outputShape = Shape{3, 4};
  select.forward = [&](Buffer &y) {
    return selectTokenForward<double>({-2}, x.in(), y.out());
  };
  select.backward = [&](const Buffer &dy) {
    return selectTokenBackward<double>({-2}, dy.in(), dx.out());
  };
  select.pairs = {{"input", &x, &dx}};
  select.run();
}

} // namespace

//===- PlumbingConformanceTest.cpp - binary, concat, matmul, tokens, ... --===//

#include "ConformanceTest.h"

namespace kdrt::conformance {
namespace {

TEST_P(Conformance, BinaryWithBroadcast) {
  for (BinaryKind kind : {BinaryKind::Add, BinaryKind::Mul})
    for (Shape rhs : {Shape{3, 4, 5, 7}, Shape{4, 1, 1}, Shape{3, 4, 1, 1},
                      Shape{7}}) {
      SCOPED_TRACE(rhs.toString());
      BinaryDesc desc{kind};
      Shape lhs{3, 4, 5, 7};
      OpCase forward(kElementwiseTolerance);
      int a = forward.input(lhs), b = forward.input(rhs);
      int y = forward.output(lhs);
      EXPECT_TRUE(forward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.binaryForward(desc, t[a], t[b], t[y]);
          }));
      OpCase backward(kProductTolerance);
      a = backward.input(lhs);
      b = backward.input(rhs);
      int dy = backward.input(lhs);
      int da = backward.output(lhs), db = backward.output(rhs);
      EXPECT_TRUE(backward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.binaryBackward(desc, t[a], t[b], t[dy], &t[da], &t[db]);
          }));
    }
}

TEST_P(Conformance, Concat) {
  for (int64_t axis : {1, 3}) {
    ConcatDesc desc{axis};
    Shape first{3, 2, 5, 7}, second = first, output = first;
    second[axis] = 3;
    output[axis] = first[axis] + 3;
    OpCase forward(kElementwiseTolerance);
    int x0 = forward.input(first), x1 = forward.input(second);
    int y = forward.output(output);
    EXPECT_TRUE(forward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.concatForward(desc, {&t[x0], &t[x1]}, t[y]);
        }));
    OpCase backward(kElementwiseTolerance);
    int dy = backward.input(output);
    int dx0 = backward.output(first), dx1 = backward.output(second);
    EXPECT_TRUE(backward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.concatBackward(desc, t[dy], {&t[dx0], &t[dx1]});
        }));
  }
}

TEST_P(Conformance, ReshapeAndDropout) {
  OpCase reshape(kElementwiseTolerance);
  int x = reshape.input(Shape{3, 2, 5, 7}), y = reshape.output(Shape{3, 70});
  int dx = reshape.output(Shape{3, 2, 5, 7});
  EXPECT_TRUE(reshape.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status = be.reshapeForward({}, t[x], t[y]);
        return status.ok() ? be.reshapeBackward({}, t[y], t[dx]) : status;
      }));
  DropoutDesc desc{0.3, 1234};
  OpCase dropout(kElementwiseTolerance);
  x = dropout.input(Shape{3, 5, 7});
  int dy = dropout.input(Shape{3, 5, 7});
  y = dropout.output(Shape{3, 5, 7});
  int mask = dropout.output(Shape{3, 5, 7});
  dx = dropout.output(Shape{3, 5, 7});
  EXPECT_TRUE(dropout.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status = be.dropoutForward(desc, t[x], t[y], t[mask]);
        return status.ok() ? be.dropoutBackward(desc, t[mask], t[dy], t[dx])
                           : status;
      }));
}

TEST_P(Conformance, MatMul) {
  for (bool batched : {false, true})
    for (bool transposeLhs : {false, true})
      for (bool transposeRhs : {false, true}) {
        SCOPED_TRACE(std::to_string(batched) + std::to_string(transposeLhs) +
                     std::to_string(transposeRhs));
        MatMulDesc desc{transposeLhs, transposeRhs};
        int64_t m = 5, k = 7, n = 3;
        auto shape = [&](int64_t rows, int64_t cols, bool transposed) {
          std::vector<int64_t> dims;
          if (batched)
            dims.push_back(3);
          dims.push_back(transposed ? cols : rows);
          dims.push_back(transposed ? rows : cols);
          return Shape(dims);
        };
        Shape lhs = shape(m, k, transposeLhs), rhs = shape(k, n, transposeRhs);
        Shape output = shape(m, n, false);
        OpCase forward(kProductTolerance);
        int a = forward.input(lhs), b = forward.input(rhs);
        int y = forward.output(output);
        EXPECT_TRUE(forward.matchesReference(
            backend(), [&](Backend &be, std::vector<Tensor> &t) {
              return be.matMulForward(desc, t[a], t[b], t[y]);
            }));
        OpCase backward(kProductTolerance);
        a = backward.input(lhs);
        b = backward.input(rhs);
        int dy = backward.input(output);
        int da = backward.output(lhs), db = backward.output(rhs);
        EXPECT_TRUE(backward.matchesReference(
            backend(), [&](Backend &be, std::vector<Tensor> &t) {
              return be.matMulBackward(desc, t[a], t[b], t[dy], &t[da],
                                       &t[db]);
            }));
      }
}

TEST_P(Conformance, L2Normalize) {
  Shape shape{3, 4, 5};
  OpCase op(kElementwiseTolerance);
  int x = op.input(shape), dy = op.input(shape);
  int y = op.output(shape), dx = op.output(shape);
  EXPECT_TRUE(op.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status = be.l2NormalizeForward({}, t[x], t[y]);
        return status.ok() ? be.l2NormalizeBackward({}, t[x], t[dy], t[dx])
                           : status;
      }));
}

TEST_P(Conformance, TokenOps) {
  OpCase tokens(kElementwiseTolerance);
  int x = tokens.input(Shape{3, 4, 5, 7}), y = tokens.output(Shape{3, 35, 4});
  int dy = tokens.input(Shape{3, 35, 4});
  int dx = tokens.output(Shape{3, 4, 5, 7});
  EXPECT_TRUE(tokens.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status = be.tokensForward({}, t[x], t[y]);
        return status.ok() ? be.tokensBackward({}, t[dy], t[dx]) : status;
      }));

  OpCase cls(kElementwiseTolerance);
  x = cls.input(Shape{3, 5, 4});
  int token = cls.input(Shape{1, 1, 4});
  y = cls.output(Shape{3, 6, 4});
  dy = cls.input(Shape{3, 6, 4});
  dx = cls.output(Shape{3, 5, 4});
  int dtoken = cls.output(Shape{1, 1, 4});
  EXPECT_TRUE(cls.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status = be.clsTokenPrependForward({}, t[x], t[token], t[y]);
        return status.ok()
                   ? be.clsTokenPrependBackward({}, t[dy], &t[dx], &t[dtoken])
                   : status;
      }));

  OpCase position(kElementwiseTolerance);
  x = position.input(Shape{3, 5, 4});
  int embedding = position.input(Shape{1, 5, 4});
  y = position.output(Shape{3, 5, 4});
  dy = position.input(Shape{3, 5, 4});
  dx = position.output(Shape{3, 5, 4});
  int de = position.output(Shape{1, 5, 4});
  EXPECT_TRUE(position.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status =
            be.positionEmbeddingAddForward({}, t[x], t[embedding], t[y]);
        return status.ok() ? be.positionEmbeddingAddBackward({}, t[dy], &t[dx],
                                                             &t[de])
                           : status;
      }));

  for (int64_t index : {0, -1}) {
    SelectTokenDesc desc{index};
    OpCase select(kElementwiseTolerance);
    x = select.input(Shape{3, 5, 4});
    y = select.output(Shape{3, 4});
    dy = select.input(Shape{3, 4});
    dx = select.output(Shape{3, 5, 4});
    EXPECT_TRUE(select.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          Status status = be.selectTokenForward(desc, t[x], t[y]);
          return status.ok() ? be.selectTokenBackward(desc, t[dy], t[dx])
                             : status;
        }));
  }
}

TEST_P(Conformance, MultiHeadAttention) {
  MultiHeadAttentionDesc desc{2};
  int64_t d = 6;
  Shape input{3, 5, d}, square{d, d}, vector{d};
  OpCase op(kProductTolerance);
  int x = op.input(input), dy = op.input(input);
  int weights[4], biases[4], gradWeights[4], gradBiases[4];
  for (int k = 0; k < 4; ++k) {
    weights[k] = op.input(square, -0.5f, 0.5f);
    biases[k] = op.input(vector);
  }
  int y = op.output(input), dx = op.output(input);
  for (int k = 0; k < 4; ++k) {
    gradWeights[k] = op.output(square);
    // The key bias adds q . b_k to a whole row of scores, which the softmax
    // ignores: its gradient is zero, and both sides hold rounding noise.
    gradBiases[k] = op.output(vector, k == 1 ? 1e-6 : 0);
  }
  EXPECT_TRUE(op.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        AttentionWeights w{&t[weights[0]], &t[biases[0]], &t[weights[1]],
                           &t[biases[1]],  &t[weights[2]], &t[biases[2]],
                           &t[weights[3]], &t[biases[3]]};
        AttentionWeightGrads g{&t[gradWeights[0]], &t[gradBiases[0]],
                               &t[gradWeights[1]], &t[gradBiases[1]],
                               &t[gradWeights[2]], &t[gradBiases[2]],
                               &t[gradWeights[3]], &t[gradBiases[3]]};
        Status status = be.multiHeadAttentionForward(desc, t[x], w, t[y]);
        return status.ok() ? be.multiHeadAttentionBackward(desc, t[x], w,
                                                           t[dy], &t[dx], g)
                           : status;
      }));
}

// Odd sizes, one sample, three heads, no projection biases; the backward
// asked for the input gradient only (a frozen teacher's attention), then
// for the weight gradients only.
TEST_P(Conformance, MultiHeadAttentionOddShapesAndPartialGradients) {
  MultiHeadAttentionDesc desc{3};
  int64_t d = 9;
  Shape input{1, 7, d}, square{d, d};
  for (bool weightGrads : {false, true}) {
    OpCase op(kProductTolerance);
    int x = op.input(input), dy = op.input(input);
    int weights[4], gradWeights[4] = {-1, -1, -1, -1};
    for (int k = 0; k < 4; ++k)
      weights[k] = op.input(square, -0.5f, 0.5f);
    int y = op.output(input);
    int dx = weightGrads ? -1 : op.output(input);
    if (weightGrads)
      for (int k = 0; k < 4; ++k)
        gradWeights[k] = op.output(square);
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          AttentionWeights w{&t[weights[0]], nullptr, &t[weights[1]], nullptr,
                             &t[weights[2]], nullptr, &t[weights[3]], nullptr};
          AttentionWeightGrads g;
          if (weightGrads)
            g = {&t[gradWeights[0]], nullptr, &t[gradWeights[1]], nullptr,
                 &t[gradWeights[2]], nullptr, &t[gradWeights[3]], nullptr};
          Status status = be.multiHeadAttentionForward(desc, t[x], w, t[y]);
          return status.ok()
                     ? be.multiHeadAttentionBackward(
                           desc, t[x], w, t[dy],
                           weightGrads ? nullptr : &t[dx], g)
                     : status;
        }))
        << (weightGrads ? "weight gradients" : "input gradient");
  }
}

TEST_P(Conformance, AttentionPool) {
  Shape input{3, 4, 5, 7};
  OpCase op(kProductTolerance);
  int x = op.input(input), w = op.input(Shape{1, 4, 1, 1});
  int b = op.input(Shape{1}), dy = op.input(Shape{3, 4, 1, 1});
  int y = op.output(Shape{3, 4, 1, 1}), dx = op.output(input);
  int dw = op.output(Shape{1, 4, 1, 1}), db = op.output(Shape{1});
  EXPECT_TRUE(op.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        Status status = be.attentionPoolForward({}, t[x], t[w], &t[b], t[y]);
        return status.ok() ? be.attentionPoolBackward({}, t[x], t[w], &t[b],
                                                      t[dy], &t[dx], &t[dw],
                                                      &t[db])
                           : status;
      }));
}

} // namespace
} // namespace kdrt::conformance

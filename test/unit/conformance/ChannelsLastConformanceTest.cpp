//===- ChannelsLastConformanceTest.cpp - Entries on channels-last data ----===//
//
// A backend that accepts channels-last activations (Backend::
// acceptsChannelsLast) must compute the same values from them as the
// reference does from row-major tensors. Each case runs the reference on
// row-major tensors and the backend on channels-last copies of the same
// values (some operands left row-major, to cover the mixed calls at layout
// boundaries), converting its outputs back before the comparison. Backends
// that keep every tensor row-major skip these cases.
//
//===----------------------------------------------------------------------===//

#include "ConformanceTest.h"

#include <functional>

namespace kdrt::conformance {
namespace {

/// Host copy of row-major `plain` (rank 4) stored channels-last.
Tensor toChannelsLast(const Tensor &plain) {
  const Shape &s = plain.shape();
  Tensor result = Tensor::owning(s).withLayout(Layout::ChannelsLast);
  int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t p = 0; p < hw; ++p)
        result.data()[(i * hw + p) * c + k] = plain.data()[(i * c + k) * hw + p];
  return result;
}

/// Writes channels-last `from` into row-major `to` of the same shape.
void fromChannelsLast(const Tensor &from, Tensor &to) {
  const Shape &s = to.shape();
  int64_t n = s[0], c = s[1], hw = s[2] * s[3];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t p = 0; p < hw; ++p)
        to.data()[(i * c + k) * hw + p] = from.data()[(i * hw + p) * c + k];
}

/// Runs `call` on channels-last copies of the slots in `channelsLast` (the
/// other slots as they are) and copies those slots back row-major, on a
/// backend that accepts the layout; on the reference, runs `call` on the
/// row-major slots.
Status inChannelsLast(Backend &be, std::vector<Tensor> &t,
                      const std::vector<int> &channelsLast,
                      const std::function<Status(std::vector<Tensor> &)> &call) {
  if (!be.acceptsChannelsLast())
    return call(t);
  std::vector<Tensor> local = t;
  for (int slot : channelsLast)
    local[size_t(slot)] = toChannelsLast(t[size_t(slot)]);
  Status status = call(local);
  for (int slot : channelsLast)
    fromChannelsLast(local[size_t(slot)], t[size_t(slot)]);
  return status;
}

class ChannelsLast : public Conformance {
protected:
  void SetUp() override {
    Conformance::SetUp();
    if (IsSkipped()) // a backend with no device here
      return;
    if (!backend().acceptsChannelsLast())
      GTEST_SKIP() << backend().name() << " keeps every tensor row-major";
  }
};

INSTANTIATE_TEST_SUITE_P(
    Backends, ChannelsLast, ::testing::ValuesIn(registeredBackends()),
    [](const ::testing::TestParamInfo<BackendFactory> &info) {
      return info.param.name;
    });

Conv2dDesc convDesc(int64_t stride, int64_t pad, int64_t groups) {
  Conv2dDesc desc;
  desc.strideH = desc.strideW = stride;
  desc.padH = desc.padW = pad;
  desc.groups = groups;
  return desc;
}

struct ConvShape {
  const char *name;
  Shape input, weight, output;
  Conv2dDesc desc;
};

/// Batch 1 and odd spatial sizes, a strided grouped conv and a pointwise
/// one (oneDNN picks different kernels for each).
std::vector<ConvShape> convShapes() {
  return {
      {"batch1_5x7", {1, 3, 5, 7}, {4, 3, 3, 3}, {1, 4, 5, 7},
       convDesc(1, 1, 1)},
      {"stride2_groups2_9x9", {3, 4, 9, 9}, {6, 2, 3, 3}, {3, 6, 5, 5},
       convDesc(2, 1, 2)},
      {"pointwise_5x7", {2, 16, 5, 7}, {24, 16, 1, 1}, {2, 24, 5, 7},
       convDesc(1, 0, 1)},
  };
}

TEST_P(ChannelsLast, Conv2dForward) {
  for (const ConvShape &c : convShapes())
    for (bool rowMajorInput : {false, true}) {
      SCOPED_TRACE(std::string(c.name) +
                   (rowMajorInput ? " row-major input" : ""));
      OpCase op(kProductTolerance);
      int x = op.input(c.input), w = op.input(c.weight);
      int b = op.input(Shape{c.weight[0]});
      int y = op.output(c.output);
      std::vector<int> converted = {y};
      if (!rowMajorInput)
        converted.push_back(x);
      EXPECT_TRUE(op.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return inChannelsLast(be, t, converted, [&](std::vector<Tensor> &u) {
              return be.conv2dForward(c.desc, u[x], u[w], &u[b], u[y]);
            });
          }));
    }
}

TEST_P(ChannelsLast, Conv2dBackward) {
  for (const ConvShape &c : convShapes()) {
    SCOPED_TRACE(c.name);
    OpCase op(kProductTolerance);
    int x = op.input(c.input), w = op.input(c.weight);
    int dy = op.input(c.output);
    int dx = op.output(c.input), dw = op.output(c.weight);
    int db = op.output(Shape{c.weight[0]});
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return inChannelsLast(be, t, {x, dy, dx}, [&](std::vector<Tensor> &u) {
            return be.conv2dBackward(c.desc, u[x], u[w], u[dy], &u[dx], &u[dw],
                                     &u[db]);
          });
        }));
  }
}

TEST_P(ChannelsLast, BatchNorm) {
  Shape shape{3, 5, 7, 3};
  for (bool training : {true, false})
    for (bool rowMajorOutput : {false, true}) {
      SCOPED_TRACE(std::string(training ? "training" : "inference") +
                   (rowMajorOutput ? " row-major output" : ""));
      BatchNormDesc desc;
      desc.training = training;
      OpCase forward(kNormTolerance);
      int x = forward.input(shape), g = forward.input(Shape{5}, 0.5f, 1.5f);
      int b = forward.input(Shape{5});
      int mean = forward.inout(randomTensor(Shape{5}, 11));
      int var = forward.inout(randomTensor(Shape{5}, 12, 0.5f, 2.0f));
      int y = forward.output(shape);
      std::vector<int> converted = {x};
      if (!rowMajorOutput)
        converted.push_back(y);
      EXPECT_TRUE(forward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return inChannelsLast(be, t, converted, [&](std::vector<Tensor> &u) {
              return be.batchNormForward(desc, u[x], u[g], u[b], u[mean],
                                         u[var], u[y]);
            });
          }));

      OpCase backward(kNormTolerance);
      int bx = backward.input(shape), bg = backward.input(Shape{5}, 0.5f, 1.5f);
      int bmean = backward.input(Shape{5});
      int bvar = backward.input(Shape{5}, 0.5f, 2.0f);
      int dy = backward.input(shape);
      int dx = backward.output(shape), dg = backward.output(Shape{5});
      int dbeta = backward.output(Shape{5});
      std::vector<int> gradients = {bx, dx};
      if (!rowMajorOutput) // a row-major incoming gradient otherwise
        gradients.push_back(dy);
      EXPECT_TRUE(backward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return inChannelsLast(be, t, gradients, [&](std::vector<Tensor> &u) {
              return be.batchNormBackward(desc, u[bx], u[bg], u[bmean],
                                          u[bvar], u[dy], &u[dx], &u[dg],
                                          &u[dbeta]);
            });
          }));
    }
}

TEST_P(ChannelsLast, Pooling) {
  Shape input{2, 6, 7, 5};
  for (PoolMode mode : {PoolMode::Max, PoolMode::Avg}) {
    SCOPED_TRACE(mode == PoolMode::Max ? "max" : "avg");
    Pool2dDesc desc;
    desc.mode = mode;
    desc.kernelH = desc.kernelW = 3;
    desc.strideH = desc.strideW = 2;
    desc.padH = desc.padW = 1;
    Shape output{2, 6, 4, 3};
    OpCase forward(kElementwiseTolerance);
    int x = forward.input(input), y = forward.output(output);
    EXPECT_TRUE(forward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return inChannelsLast(be, t, {x, y}, [&](std::vector<Tensor> &u) {
            return be.pool2dForward(desc, u[x], u[y]);
          });
        }));
    OpCase backward(kElementwiseTolerance);
    int bx = backward.input(input), dy = backward.input(output);
    int dx = backward.output(input);
    // dy row-major: the boundary where a row-major producer feeds the pool.
    EXPECT_TRUE(backward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return inChannelsLast(be, t, {bx, dx}, [&](std::vector<Tensor> &u) {
            return be.pool2dBackward(desc, u[bx], u[dy], u[dx]);
          });
        }));
  }
}

TEST_P(ChannelsLast, AdaptivePooling) {
  // Even bins (global pooling, 6x4 -> 3x2) run as oneDNN pooling in the
  // input's layout; uneven ones (7x5 -> 3x2) on row-major copies.
  struct Case {
    const char *name;
    PoolMode mode;
    Shape input;
    int64_t outH, outW;
  };
  for (const Case &c : {Case{"global_avg", PoolMode::Avg, {2, 6, 7, 5}, 1, 1},
                        Case{"even_max", PoolMode::Max, {1, 5, 6, 4}, 3, 2},
                        Case{"uneven_avg", PoolMode::Avg, {2, 3, 7, 5}, 3, 2}}) {
    SCOPED_TRACE(c.name);
    AdaptivePoolDesc desc;
    desc.mode = c.mode;
    desc.outputH = c.outH;
    desc.outputW = c.outW;
    Shape output{c.input[0], c.input[1], c.outH, c.outW};
    OpCase op(kElementwiseTolerance);
    int x = op.input(c.input), dy = op.input(output);
    int y = op.output(output), dx = op.output(c.input);
    // y row-major (a reshape reads it), dy too; x and dx channels-last.
    EXPECT_TRUE(op.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return inChannelsLast(be, t, {x, dx}, [&](std::vector<Tensor> &u) {
            KDRT_RETURN_IF_ERROR(be.adaptivePoolForward(desc, u[x], u[y]));
            return be.adaptivePoolBackward(desc, u[x], u[dy], u[dx]);
          });
        }));
  }
}

TEST_P(ChannelsLast, ReluAndAdd) {
  Shape shape{1, 5, 3, 7};
  ActivationDesc relu;
  relu.kind = ActivationKind::Relu;
  OpCase activation(kElementwiseTolerance);
  int x = activation.input(shape), dy = activation.input(shape);
  int y = activation.output(shape), dx = activation.output(shape);
  // y row-major: the relu feeding a row-major consumer (global pooling).
  EXPECT_TRUE(activation.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        return inChannelsLast(be, t, {x, dy, dx}, [&](std::vector<Tensor> &u) {
          KDRT_RETURN_IF_ERROR(be.activationForward(relu, u[x], u[y]));
          return be.activationBackward(relu, u[x], u[dy], u[dx]);
        });
      }));

  BinaryDesc add;
  add.kind = BinaryKind::Add;
  OpCase binary(kElementwiseTolerance);
  int a = binary.input(shape), b = binary.input(shape);
  int g = binary.input(shape);
  int sum = binary.output(shape), da = binary.output(shape);
  int dbGrad = binary.output(shape);
  EXPECT_TRUE(binary.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        return inChannelsLast(be, t, {a, b, sum, g, da},
                              [&](std::vector<Tensor> &u) {
          KDRT_RETURN_IF_ERROR(be.binaryForward(add, u[a], u[b], u[sum]));
          return be.binaryBackward(add, u[a], u[b], u[g], &u[da], &u[dbGrad]);
        });
      }));
}

} // namespace
} // namespace kdrt::conformance

//===- PoolingConformanceTest.cpp - pooling and resizing ------------------===//

#include "ConformanceTest.h"

namespace kdrt::conformance {
namespace {

Pool2dDesc poolDesc(PoolMode mode, int64_t kernel, int64_t stride,
                    int64_t pad, bool includePad = false) {
  Pool2dDesc desc;
  desc.mode = mode;
  desc.kernelH = desc.kernelW = kernel;
  desc.strideH = desc.strideW = stride;
  desc.padH = desc.padW = pad;
  desc.countIncludePad = includePad;
  return desc;
}

TEST_P(Conformance, Pool2d) {
  struct Case {
    Shape input;
    Pool2dDesc desc;
  };
  std::vector<Case> cases = {
      {{3, 2, 5, 7}, poolDesc(PoolMode::Max, 2, 2, 0)},
      {{1, 3, 9, 9}, poolDesc(PoolMode::Max, 3, 2, 1)},
      {{3, 2, 5, 7}, poolDesc(PoolMode::Avg, 3, 2, 1)},
      {{1, 3, 9, 9}, poolDesc(PoolMode::Avg, 3, 1, 1, true)},
      {{3, 2, 9, 9}, poolDesc(PoolMode::Avg, 2, 2, 0)},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.input.toString() + " mode " + std::to_string(int(c.desc.mode)));
    const Pool2dDesc &d = c.desc;
    Shape output{c.input[0], c.input[1],
                 (c.input[2] + 2 * d.padH - d.kernelH) / d.strideH + 1,
                 (c.input[3] + 2 * d.padW - d.kernelW) / d.strideW + 1};
    OpCase forward(kElementwiseTolerance);
    int x = forward.input(c.input), y = forward.output(output);
    EXPECT_TRUE(forward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.pool2dForward(d, t[x], t[y]);
        }));
    OpCase backward(kElementwiseTolerance);
    x = backward.input(c.input);
    int dy = backward.input(output), dx = backward.output(c.input);
    EXPECT_TRUE(backward.matchesReference(
        backend(), [&](Backend &be, std::vector<Tensor> &t) {
          return be.pool2dBackward(d, t[x], t[dy], t[dx]);
        }));
  }
}

TEST_P(Conformance, AdaptivePool) {
  for (PoolMode mode : {PoolMode::Avg, PoolMode::Max})
    for (auto [outH, outW] : {std::pair{1, 1}, std::pair{3, 4}}) {
      AdaptivePoolDesc desc{mode, outH, outW};
      Shape input{3, 2, 5, 7}, output{3, 2, outH, outW};
      OpCase forward(kElementwiseTolerance);
      int x = forward.input(input), y = forward.output(output);
      EXPECT_TRUE(forward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.adaptivePoolForward(desc, t[x], t[y]);
          }));
      OpCase backward(kElementwiseTolerance);
      x = backward.input(input);
      int dy = backward.input(output), dx = backward.output(input);
      EXPECT_TRUE(backward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.adaptivePoolBackward(desc, t[x], t[dy], t[dx]);
          }));
    }
}

/// Bilinear must follow PyTorch's align_corners=false, up and down, on
/// sizes that do not divide each other.
TEST_P(Conformance, Resize) {
  for (ResizeMode mode :
       {ResizeMode::Bilinear, ResizeMode::Nearest, ResizeMode::Area})
    for (auto [outH, outW] : {std::pair{9, 13}, std::pair{3, 4}}) {
      SCOPED_TRACE("mode " + std::to_string(int(mode)) + " to " +
                   std::to_string(outH) + "x" + std::to_string(outW));
      ResizeDesc desc{mode, outH, outW};
      Shape input{3, 2, 5, 7}, output{3, 2, outH, outW};
      OpCase forward(kElementwiseTolerance);
      int x = forward.input(input), y = forward.output(output);
      EXPECT_TRUE(forward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.resizeForward(desc, t[x], t[y]);
          }));
      OpCase backward(kElementwiseTolerance);
      int dy = backward.input(output), dx = backward.output(input);
      EXPECT_TRUE(backward.matchesReference(
          backend(), [&](Backend &be, std::vector<Tensor> &t) {
            return be.resizeBackward(desc, t[dy], t[dx]);
          }));
    }
}

} // namespace
} // namespace kdrt::conformance

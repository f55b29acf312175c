//===- Bf16ConformanceTest.cpp - conv2d forward with ConvPrecision::Bf16 --===//
//
// ConvPrecision::Bf16 is a permission: every backend's forward with it
// matches the fp32 reference within bf16 rounding. On oneDNN with native
// bf16 it really runs in bf16 (the result differs from fp32, by no more
// than bf16 rounding), its primitive is not the fp32 one, and the fp32
// forward of the same shapes keeps fp32 accuracy.
//
//===----------------------------------------------------------------------===//

#include "ConformanceTest.h"

#ifdef KDRT_HAVE_ONEDNN
#include "kdrt/OneDnnBackend.h"
#endif

namespace kdrt::conformance {
namespace {

/// Odd sizes everywhere (no vector-width multiple), a strided padded 3x3
/// kernel, bias and the chain a frozen teacher's block fuses.
struct OddConv {
  Conv2dDesc desc;
  Shape input{3, 5, 11, 13}, weight{7, 5, 3, 3}, output{3, 7, 6, 7};
  OddConv() {
    desc.strideH = desc.strideW = 2;
    desc.padH = desc.padW = 1;
    desc.postOps.appendScaleShift();
    desc.postOps.appendSum();
    desc.postOps.appendActivation(ActivationKind::Relu);
  }
};

TEST_P(Conformance, Bf16ConvForwardMatchesFp32WithinBf16Rounding) {
  OddConv conv;
  conv.desc.precision = ConvPrecision::Bf16;
  OpCase op(kBf16Tolerance);
  int x = op.input(conv.input), w = op.input(conv.weight);
  int b = op.input(Shape{7}), scale = op.input(Shape{7}, 0.5f, 2.0f);
  int shift = op.input(Shape{7}), residual = op.input(conv.output);
  int y = op.output(conv.output);
  EXPECT_TRUE(op.matchesReference(
      backend(), [&](Backend &be, std::vector<Tensor> &t) {
        PostOpTensors tensors;
        tensors.scales = {&t[scale]};
        tensors.shifts = {&t[shift]};
        tensors.residuals = {&t[residual]};
        return be.conv2dFusedForward(conv.desc, t[x], t[w], &t[b], tensors,
                                     t[y]);
      }));
}

#ifdef KDRT_HAVE_ONEDNN
TEST(OneDnnBf16Convolution, RunsInBf16AndLeavesFp32Unchanged) {
  std::unique_ptr<OneDnnBackend> backend = createOneDnnBackend(1);
  if (!backend->nativeBf16Convolutions())
    GTEST_SKIP() << "the CPU has no native bf16: Bf16 runs in fp32";
  OddConv conv;
  Tensor x = randomTensor(conv.input, 1), w = randomTensor(conv.weight, 2);
  Tensor b = randomTensor({7}, 3), scale = randomTensor({7}, 4, 0.5f, 2.0f);
  Tensor shift = randomTensor({7}, 5), residual = randomTensor(conv.output, 6);
  PostOpTensors tensors;
  tensors.scales = {&scale};
  tensors.shifts = {&shift};
  tensors.residuals = {&residual};

  std::unique_ptr<Backend> reference = createReferenceBackendForTests();
  Tensor want = Tensor::owning(conv.output);
  ASSERT_TRUE(
      reference->conv2dFusedForward(conv.desc, x, w, &b, tensors, want).ok());

  Tensor fp32 = Tensor::owning(conv.output);
  ASSERT_TRUE(
      backend->conv2dFusedForward(conv.desc, x, w, &b, tensors, fp32).ok());
  EXPECT_TRUE(closeTo(fp32, want, kProductTolerance, "fp32 conv"));
  int64_t fp32Misses = backend->cacheStats().misses;

  Conv2dDesc bf16Desc = conv.desc;
  bf16Desc.precision = ConvPrecision::Bf16;
  Tensor bf16 = Tensor::owning(conv.output);
  ASSERT_TRUE(
      backend->conv2dFusedForward(bf16Desc, x, w, &b, tensors, bf16).ok());
  EXPECT_GT(backend->cacheStats().misses, fp32Misses)
      << "the bf16 forward reused the fp32 primitive";
  EXPECT_TRUE(closeTo(bf16, want, kBf16Tolerance, "bf16 conv"));
  // bf16 inputs lose 16 bits of mantissa: the result must differ from the
  // fp32 one somewhere, by more than fp32 reordering would.
  EXPECT_FALSE(closeTo(bf16, want, kProductTolerance, "bf16 conv"))
      << "the bf16 forward computed in fp32";

  // The fp32 forward after the bf16 one: same primitive as before, same
  // result bit for bit.
  Tensor again = Tensor::owning(conv.output);
  ASSERT_TRUE(
      backend->conv2dFusedForward(conv.desc, x, w, &b, tensors, again).ok());
  for (int64_t i = 0; i < again.numElements(); ++i)
    ASSERT_EQ(again.data()[i], fp32.data()[i]) << "element " << i;
}
#endif

} // namespace
} // namespace kdrt::conformance

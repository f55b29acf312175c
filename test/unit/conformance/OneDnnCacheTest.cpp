//===- OneDnnCacheTest.cpp - Primitives are created once per key ----------===//

#ifdef KDRT_HAVE_ONEDNN

#include "OpCase.h"

#include "kdrt/OneDnnBackend.h"

#include <gtest/gtest.h>

namespace kdrt::conformance {
namespace {

TEST(OneDnnPrimitiveCache, SameConvTwiceCreatesOnePrimitive) {
  std::unique_ptr<OneDnnBackend> backend = createOneDnnBackend(1);
  Conv2dDesc desc;
  desc.padH = desc.padW = 1;
  Tensor x = randomTensor({3, 4, 9, 9}, 1), w = randomTensor({8, 4, 3, 3}, 2);
  Tensor b = randomTensor({8}, 3), y = Tensor::owning({3, 8, 9, 9});
  ASSERT_TRUE(backend->conv2dForward(desc, x, w, &b, y).ok());
  PrimitiveCacheStats first = backend->cacheStats();
  EXPECT_GE(first.misses, 1);

  // New data, same shapes and attributes: nothing new is created.
  Tensor x2 = randomTensor({3, 4, 9, 9}, 4);
  ASSERT_TRUE(backend->conv2dForward(desc, x2, w, &b, y).ok());
  PrimitiveCacheStats second = backend->cacheStats();
  EXPECT_EQ(second.misses, first.misses);
  EXPECT_GT(second.hits, first.hits);

  // Another stride is another primitive.
  Conv2dDesc strided = desc;
  strided.strideH = strided.strideW = 2;
  Tensor y2 = Tensor::owning({3, 8, 5, 5});
  ASSERT_TRUE(backend->conv2dForward(strided, x, w, &b, y2).ok());
  EXPECT_GT(backend->cacheStats().misses, second.misses);
}

TEST(OneDnnPrimitiveCache, ResetClearsTheCounters) {
  std::unique_ptr<OneDnnBackend> backend = createOneDnnBackend(1);
  Tensor x = randomTensor({2, 3}, 1), y = Tensor::owning({2, 3});
  ASSERT_TRUE(backend->activationForward({}, x, y).ok());
  backend->resetCacheStats();
  EXPECT_EQ(backend->cacheStats().hits, 0);
  EXPECT_EQ(backend->cacheStats().misses, 0);
  EXPECT_EQ(backend->threads(), 1);
}

TEST(OneDnnBackendErrors, BadShapesAreErrorsNotCrashes) {
  std::unique_ptr<OneDnnBackend> backend = createOneDnnBackend();
  Tensor x = randomTensor({1, 3, 5, 5}, 1), w = randomTensor({4, 2, 3, 3}, 2);
  Tensor y = Tensor::owning({1, 4, 3, 3});
  EXPECT_EQ(backend->conv2dForward({}, x, w, nullptr, y).code(),
            StatusCode::InvalidArgument);
  Tensor lhs = randomTensor({3, 4}, 3), rhs = randomTensor({5, 6}, 4);
  Tensor out = Tensor::owning({3, 6});
  EXPECT_EQ(backend->matMulForward({}, lhs, rhs, out).code(),
            StatusCode::InvalidArgument);
  Tensor a = randomTensor({3, 4}, 5), b = randomTensor({3}, 6);
  Tensor sum = Tensor::owning({3, 4});
  EXPECT_EQ(backend->binaryForward({}, a, b, sum).code(),
            StatusCode::InvalidArgument);
}

} // namespace
} // namespace kdrt::conformance

#endif // KDRT_HAVE_ONEDNN

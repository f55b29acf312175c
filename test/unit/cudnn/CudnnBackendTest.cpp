//===- CudnnBackendTest.cpp - cuDNN backend specifics ---------------------===//
//
// What the conformance suite does not cover: the device-side dropout mask
// equals the reference's, creation without a device fails with a reason,
// and on a GPU the memory entries round-trip and errors come back as
// Status values. Device cases skip with the reason when no GPU is present.
//
//===----------------------------------------------------------------------===//

#include "DropoutMask.h"

#include "kdrt/CudnnBackend.h"
#include "kdrt/reference/Plumbing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kdrt {
namespace {

TEST(CudnnDropoutMask, EqualsTheReferenceMaskFunction) {
  for (uint64_t seed : {0ull, 1ull, 42ull, 0xDEADBEEFull, ~0ull})
    for (double p : {0.0, 0.1, 0.5, 0.9, 1.0})
      for (uint64_t index = 0; index < 4096; ++index)
        ASSERT_EQ(cudnn::dropoutKeeps(seed, index, p),
                  reference::dropoutKeeps(seed, index, p))
            << "seed " << seed << " index " << index << " p " << p;
}

TEST(CudnnDropoutMask, DropsAboutAFractionP) {
  int kept = 0;
  for (uint64_t index = 0; index < 100000; ++index)
    kept += cudnn::dropoutKeeps(3, index, 0.3);
  EXPECT_NEAR(kept / 100000.0, 0.7, 0.01);
}

TEST(CudnnBackendCreation, FailsWithAReasonWithoutADevice) {
  std::string reason;
  if (cudaDeviceAvailable(&reason))
    GTEST_SKIP() << "a CUDA device is present";
  EXPECT_FALSE(reason.empty());
  std::string error;
  EXPECT_EQ(createCudnnBackend(0, &error), nullptr);
  EXPECT_NE(error.find("no CUDA device"), std::string::npos) << error;
}

class CudnnDevice : public ::testing::Test {
protected:
  void SetUp() override {
    std::string reason;
    if (!cudaDeviceAvailable(&reason))
      GTEST_SKIP() << "no CUDA device: " << reason;
    std::string error;
    backend_ = createCudnnBackend(0, &error);
    ASSERT_NE(backend_, nullptr) << error;
  }
  Backend &backend() { return *backend_; }

  Tensor upload(const std::vector<float> &values, const Shape &shape) {
    void *buffer = nullptr;
    EXPECT_TRUE(backend().allocate(values.size() * sizeof(float), &buffer).ok());
    EXPECT_TRUE(
        backend().copyIn(buffer, values.data(), values.size() * sizeof(float))
            .ok());
    buffers_.push_back(buffer);
    return Tensor::view(static_cast<float *>(buffer), shape);
  }
  std::vector<float> download(const Tensor &tensor) {
    std::vector<float> values(size_t(tensor.numElements()));
    EXPECT_TRUE(backend()
                    .copyOut(values.data(), tensor.data(),
                             tensor.sizeInBytes())
                    .ok());
    return values;
  }
  void TearDown() override {
    if (backend_)
      for (void *buffer : buffers_)
        backend_->deallocate(buffer);
  }

private:
  std::unique_ptr<Backend> backend_;
  std::vector<void *> buffers_;
};

TEST_F(CudnnDevice, NameIsCudnn) { EXPECT_STREQ(backend().name(), "cudnn"); }

TEST_F(CudnnDevice, MemoryRoundTrips) {
  std::vector<float> values = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f};
  Tensor tensor = upload(values, {5});
  EXPECT_EQ(download(tensor), values);
  EXPECT_TRUE(backend().synchronize().ok());
}

TEST_F(CudnnDevice, ReluRunsOnTheDevice) {
  Tensor input = upload({-1.0f, 0.5f, -0.25f, 2.0f}, {4});
  Tensor output = upload({9.0f, 9.0f, 9.0f, 9.0f}, {4});
  ASSERT_TRUE(backend().activationForward(ActivationDesc(), input, output).ok());
  EXPECT_EQ(download(output), (std::vector<float>{0.0f, 0.5f, 0.0f, 2.0f}));
}

TEST_F(CudnnDevice, ShapeErrorsAreStatusValues) {
  Tensor input = upload({1, 2, 3, 4}, {4});
  Tensor output = upload({0, 0, 0}, {3});
  Status status = backend().activationForward(ActivationDesc(), input, output);
  EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
  EXPECT_NE(status.message().find("activation"), std::string::npos);
}

TEST_F(CudnnDevice, BadLabelsAreRejectedBeforeAnyKernel) {
  Tensor logits = upload({0.1f, 0.2f, 0.3f, 0.4f}, {2, 2});
  Tensor labels = upload({0.0f, 5.0f}, {2});
  Tensor loss = upload({0.0f}, {});
  Status status = backend().crossEntropyLoss(CrossEntropyDesc(), logits,
                                             labels, loss, nullptr);
  EXPECT_EQ(status.code(), StatusCode::InvalidArgument);
  EXPECT_NE(status.message().find("label"), std::string::npos)
      << status.message();
}

TEST_F(CudnnDevice, LibraryErrorsNameTheCall) {
  // A device-to-host copy from a host address the device cannot read.
  std::vector<float> host(4), notDevice(4);
  Status status = backend().copyOut(host.data(), nullptr, sizeof(float) * 4);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cudaMemcpyAsync"), std::string::npos)
      << status.message();
}

} // namespace
} // namespace kdrt

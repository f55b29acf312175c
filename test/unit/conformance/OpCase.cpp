//===- OpCase.cpp - Running one call on two backends ----------------------===//

#include "OpCase.h"

#include "kdrt/ReferenceBackend.h"

#include <cmath>
#include <limits>
#include <random>

namespace kdrt::conformance {

Tensor randomTensor(const Shape &shape, uint64_t seed, float low,
                    float high) {
  Tensor tensor = Tensor::owning(shape);
  std::mt19937_64 generator(seed);
  std::uniform_real_distribution<float> distribution(low, high);
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    tensor.data()[i] = distribution(generator);
  return tensor;
}

::testing::AssertionResult closeTo(const Tensor &got, const Tensor &want,
                                   double rtol, const std::string &what,
                                   double atol) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure()
           << what << ": shape " << got.shape().toString() << " vs "
           << want.shape().toString();
  double meanAbs = 0;
  for (int64_t i = 0; i < want.numElements(); ++i)
    meanAbs += std::fabs(want.data()[i]);
  meanAbs /= double(std::max<int64_t>(want.numElements(), 1));
  for (int64_t i = 0; i < want.numElements(); ++i) {
    double g = got.data()[i], w = want.data()[i];
    double bound = rtol * (std::fabs(w) + meanAbs) + atol;
    if (!(std::fabs(g - w) <= bound)) // NaN fails here too.
      return ::testing::AssertionFailure()
             << what << "[" << i << "] = " << g << ", reference " << w
             << " (tolerance " << bound << ")";
  }
  return ::testing::AssertionSuccess();
}

int OpCase::input(const Shape &shape, float low, float high) {
  slots_.push_back({randomTensor(shape, nextSeed_++, low, high), false});
  return int(slots_.size()) - 1;
}

int OpCase::input(const Tensor &host) {
  slots_.push_back({host, false});
  return int(slots_.size()) - 1;
}

int OpCase::output(const Shape &shape, double atol) {
  Tensor tensor = Tensor::owning(shape);
  for (int64_t i = 0; i < tensor.numElements(); ++i)
    tensor.data()[i] = std::numeric_limits<float>::quiet_NaN();
  slots_.push_back({tensor, true, atol});
  return int(slots_.size()) - 1;
}

int OpCase::inout(const Tensor &host) {
  slots_.push_back({host, true});
  return int(slots_.size()) - 1;
}

::testing::AssertionResult OpCase::runOn(Backend &backend, const Run &run,
                                         std::vector<Tensor> &results) const {
  std::vector<void *> buffers;
  std::vector<Tensor> views;
  auto release = [&] {
    for (void *buffer : buffers)
      backend.deallocate(buffer);
  };
  for (const Slot &slot : slots_) {
    void *buffer = nullptr;
    Status status = backend.allocate(slot.host.sizeInBytes(), &buffer);
    if (status.ok())
      status = backend.copyIn(buffer, slot.host.data(),
                              slot.host.sizeInBytes());
    if (!status.ok()) {
      release();
      return ::testing::AssertionFailure() << backend.name() << ": "
                                           << status.message();
    }
    buffers.push_back(buffer);
    views.push_back(Tensor::view(static_cast<float *>(buffer),
                                 slot.host.shape()));
  }
  Status status = run(backend, views);
  if (status.ok())
    status = backend.synchronize();
  results.clear();
  for (size_t k = 0; status.ok() && k < slots_.size(); ++k) {
    Tensor host = Tensor::owning(slots_[k].host.shape());
    status = backend.copyOut(host.data(), buffers[k], host.sizeInBytes());
    results.push_back(host);
  }
  release();
  if (!status.ok())
    return ::testing::AssertionFailure()
           << backend.name() << " failed: " << status.message();
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult
OpCase::matchesReference(Backend &candidate, const Run &run) const {
  std::unique_ptr<Backend> reference = createReferenceBackend();
  std::vector<Tensor> want, got;
  if (auto result = runOn(*reference, run, want); !result)
    return result << " (the reference rejects the case itself)";
  if (auto result = runOn(candidate, run, got); !result)
    return result;
  for (size_t k = 0; k < slots_.size(); ++k) {
    if (!slots_[k].checked)
      continue;
    auto result = closeTo(got[k], want[k], rtol_,
                          std::string(candidate.name()) + " slot " +
                              std::to_string(k),
                          slots_[k].atol);
    if (!result)
      return result;
  }
  return ::testing::AssertionSuccess();
}

} // namespace kdrt::conformance

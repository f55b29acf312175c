//===- BackendRegistry.cpp - The list of backends under test --------------===//

#include "BackendRegistry.h"

#include "kdrt/ReferenceBackend.h"
#ifdef KDRT_HAVE_ONEDNN
#include "kdrt/OneDnnBackend.h"
#endif
#ifdef KDRT_HAVE_CUDNN
#include "kdrt/CudnnBackend.h"

#include <gtest/gtest.h>

#include <string>
#endif

namespace kdrt::conformance {

#ifdef KDRT_HAVE_CUDNN
namespace {
// gtest's SKIP and FAIL return from the calling function, so they live in
// helpers that return void. Either one, recorded during the fixture's SetUp,
// keeps the test body (and its null backend) from running.
void skipCase(const std::string &reason) {
  GTEST_SKIP() << "no CUDA device: " << reason;
}
void failCase(const std::string &error) {
  FAIL() << "cuDNN backend could not be created: " << error;
}
} // namespace
#endif

std::vector<BackendFactory> registeredBackends() {
  std::vector<BackendFactory> factories;
  factories.push_back({"reference", [] { return createReferenceBackend(); }});
#ifdef KDRT_HAVE_ONEDNN
  factories.push_back({"onednn", []() -> std::unique_ptr<Backend> {
                         return createOneDnnBackend();
                       }});
#endif
#ifdef KDRT_HAVE_CUDNN
  // Registered whether or not a GPU is present: without one, every cuDNN
  // case reports itself skipped with the reason instead of vanishing.
  std::string reason;
  if (cudaDeviceAvailable(&reason)) {
    factories.push_back({"cudnn", []() -> std::unique_ptr<Backend> {
                           std::string error;
                           auto backend = createCudnnBackend(0, &error);
                           if (!backend)
                             failCase(error);
                           return backend;
                         }});
  } else {
    factories.push_back({"cudnn", [reason]() -> std::unique_ptr<Backend> {
                           skipCase(reason);
                           return nullptr;
                         }});
  }
#endif
  return factories;
}

} // namespace kdrt::conformance

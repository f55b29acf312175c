//===- CudnnSmoke.cpp - Quick check of the cuDNN backend on a GPU ---------===//
//
// Runs a conv2d forward and backward and a KL-divergence loss on the cuDNN
// backend and on the reference backend, and prints the largest absolute
// difference of every result. Not a test: a fast first look on a machine
// with a GPU. Exits 0 when all differences are below 1e-3, 1 otherwise, and
// 2 when no backend can be created.
//
//===----------------------------------------------------------------------===//

#include "kdrt/CudnnBackend.h"
#include "kdrt/ReferenceBackend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace kdrt;

namespace {

/// A host tensor and its device mirror.
struct Mirrored {
  Tensor host;
  Tensor device;
};

bool check(const Status &status, const char *what) {
  if (status.ok())
    return true;
  std::fprintf(stderr, "%s failed: %s\n", what, status.message().c_str());
  return false;
}

bool mirror(Backend &gpu, const Shape &shape, std::mt19937 &random,
            Mirrored &out) {
  out.host = Tensor::owning(shape);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (int64_t i = 0; i < out.host.numElements(); ++i)
    out.host.data()[i] = uniform(random);
  void *buffer = nullptr;
  if (!check(gpu.allocate(out.host.sizeInBytes(), &buffer), "allocate") ||
      !check(gpu.copyIn(buffer, out.host.data(), out.host.sizeInBytes()),
             "copyIn"))
    return false;
  out.device = Tensor::view(static_cast<float *>(buffer), shape);
  return true;
}

/// Largest |device - host| after copying the device tensor back.
double maxError(Backend &gpu, const Tensor &device, const Tensor &host) {
  std::vector<float> back(size_t(device.numElements()));
  if (!check(gpu.copyOut(back.data(), device.data(), device.sizeInBytes()),
             "copyOut"))
    return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < back.size(); ++i)
    worst = std::max(worst, std::fabs(double(back[i]) - host.data()[i]));
  return worst;
}

} // namespace

int main() {
  std::string error;
  std::unique_ptr<Backend> gpu = createCudnnBackend(0, &error);
  if (!gpu) {
    std::fprintf(stderr, "kdrt_cudnn_smoke: %s\n", error.c_str());
    return 2;
  }
  std::unique_ptr<Backend> reference = createReferenceBackend();
  std::mt19937 random(7);
  bool ok = true;
  auto report = [&](const char *what, double err) {
    std::printf("%-24s max abs error %.3g\n", what, err);
    ok = ok && err < 1e-3;
  };

  // conv2d 3x3, stride 1, pad 1, with bias: forward and backward.
  Conv2dDesc conv;
  conv.padH = conv.padW = 1;
  Mirrored x, w, b, dy, y, dx, dw, db;
  if (!mirror(*gpu, {4, 8, 16, 16}, random, x) ||
      !mirror(*gpu, {16, 8, 3, 3}, random, w) ||
      !mirror(*gpu, {16}, random, b) ||
      !mirror(*gpu, {4, 16, 16, 16}, random, dy) ||
      !mirror(*gpu, {4, 16, 16, 16}, random, y) ||
      !mirror(*gpu, {4, 8, 16, 16}, random, dx) ||
      !mirror(*gpu, {16, 8, 3, 3}, random, dw) ||
      !mirror(*gpu, {16}, random, db))
    return 2;
  if (!check(gpu->conv2dForward(conv, x.device, w.device, &b.device,
                                y.device),
             "cudnn conv2dForward") ||
      !check(reference->conv2dForward(conv, x.host, w.host, &b.host, y.host),
             "reference conv2dForward"))
    return 1;
  report("conv2d forward", maxError(*gpu, y.device, y.host));
  if (!check(gpu->conv2dBackward(conv, x.device, w.device, dy.device,
                                 &dx.device, &dw.device, &db.device),
             "cudnn conv2dBackward") ||
      !check(reference->conv2dBackward(conv, x.host, w.host, dy.host,
                                       &dx.host, &dw.host, &db.host),
             "reference conv2dBackward"))
    return 1;
  report("conv2d grad input", maxError(*gpu, dx.device, dx.host));
  report("conv2d grad weight", maxError(*gpu, dw.device, dw.host));
  report("conv2d grad bias", maxError(*gpu, db.device, db.host));

  // KL divergence at temperature 4 with both gradients.
  KlDivDesc kl;
  kl.temperature = 4.0;
  Mirrored s, t, loss, ds, dt;
  if (!mirror(*gpu, {32, 100}, random, s) ||
      !mirror(*gpu, {32, 100}, random, t) || !mirror(*gpu, {}, random, loss) ||
      !mirror(*gpu, {32, 100}, random, ds) ||
      !mirror(*gpu, {32, 100}, random, dt))
    return 2;
  if (!check(gpu->klDivLoss(kl, s.device, t.device, loss.device, &ds.device,
                            &dt.device),
             "cudnn klDivLoss") ||
      !check(reference->klDivLoss(kl, s.host, t.host, loss.host, &ds.host,
                                  &dt.host),
             "reference klDivLoss"))
    return 1;
  report("kl loss", maxError(*gpu, loss.device, loss.host));
  report("kl grad student", maxError(*gpu, ds.device, ds.host));
  report("kl grad teacher", maxError(*gpu, dt.device, dt.host));

  for (Mirrored *m : {&x, &w, &b, &dy, &y, &dx, &dw, &db, &s, &t, &loss, &ds,
                      &dt})
    gpu->deallocate(m->device.data());
  std::printf("%s\n", ok ? "OK" : "MISMATCH");
  return ok ? 0 : 1;
}

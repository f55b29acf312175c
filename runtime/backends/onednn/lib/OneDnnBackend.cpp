//===- OneDnnBackend.cpp - The backend class: memory and dispatch ---------===//
//
// Host memory, the OpenMP thread count, and one forwarding line per entry:
// to a oneDNN primitive (Ops.h), an OpenMP loop (HostKernels.cpp) or the
// reference kernel (the table in OneDnnBackend.h says which and why).
// Entries that read data and gradients in one layout (batch norm, pooling,
// activations, add / mul) first bring any operand in another layout over
// (onednn::SameLayout); convolutions describe each operand as it lies.
//
//===----------------------------------------------------------------------===//

#include "kdrt/OneDnnBackend.h"

#include "DnnContext.h"
#include "Ops.h"

#include "kdrt/reference/Kernels.h"

#include <cstdlib>
#include <cstring>
#include <optional>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace kdrt {
namespace {

class OneDnnBackendImpl final : public OneDnnBackend {
public:
  explicit OneDnnBackendImpl(int threads) {
#ifdef _OPENMP
    threads_ = threads > 0 ? threads : omp_get_num_procs();
    omp_set_num_threads(threads_);
#else
    threads_ = 1;
#endif
  }

  bool acceptsChannelsLast() const override { return true; }

  PrimitiveCacheStats cacheStats() const override {
    return ctx_.cache.stats();
  }
  void resetCacheStats() override { ctx_.cache.resetStats(); }
  int threads() const override { return threads_; }
  bool nativeBf16Convolutions() const override {
    return onednn::nativeBf16();
  }

  Status synchronize() override {
    ctx_.stream.wait();
    return Status::success();
  }

  // Layers.
  Status conv2dForward(const Conv2dDesc &d, const Tensor &x, const Tensor &w,
                       const Tensor *b, Tensor &y) override {
    KDRT_RETURN_IF_ERROR(rejectPostOps("conv2d", d.postOps));
    return onednn::conv2dForward(ctx_, d, x, w, b, {}, y);
  }
  Status conv2dBackward(const Conv2dDesc &d, const Tensor &x, const Tensor &w,
                        const Tensor &dy, Tensor *dx, Tensor *dw,
                        Tensor *db) override {
    KDRT_RETURN_IF_ERROR(rejectPostOps("conv2d", d.postOps));
    return onednn::conv2dBackward(ctx_, d, x, w, nullptr, dy, dx, dw, db);
  }
  Status conv2dFusedForward(const Conv2dDesc &d, const Tensor &x,
                            const Tensor &w, const Tensor *b,
                            const PostOpTensors &post, Tensor &y) override {
    return onednn::conv2dForward(ctx_, d, x, w, b, post, y);
  }
  Status conv2dFusedBackward(const Conv2dDesc &d, const Tensor &x,
                             const Tensor &w, const Tensor &y,
                             const Tensor &dy, Tensor *dx, Tensor *dw,
                             Tensor *db) override {
    KDRT_RETURN_IF_ERROR(
        reference::checkFusedBackwardChain("conv2d", d.postOps));
    return onednn::conv2dBackward(ctx_, d, x, w, &y, dy, dx, dw, db);
  }
  Status multiHeadAttentionForward(const MultiHeadAttentionDesc &d,
                                   const Tensor &x, const AttentionWeights &w,
                                   Tensor &y) override {
    return onednn::multiHeadAttentionForward(ctx_, d, x, w, y);
  }
  Status multiHeadAttentionBackward(const MultiHeadAttentionDesc &d,
                                    const Tensor &x, const AttentionWeights &w,
                                    const Tensor &dy, Tensor *dx,
                                    const AttentionWeightGrads &dw) override {
    return onednn::multiHeadAttentionBackward(ctx_, d, x, w, dy, dx, dw);
  }
  Status linearForward(const LinearDesc &d, const Tensor &x, const Tensor &w,
                       const Tensor *b, Tensor &y) override {
    KDRT_RETURN_IF_ERROR(rejectPostOps("linear", d.postOps));
    return onednn::linearForward(ctx_, d, x, w, b, {}, y);
  }
  Status linearBackward(const LinearDesc &d, const Tensor &x, const Tensor &w,
                        const Tensor &dy, Tensor *dx, Tensor *dw,
                        Tensor *db) override {
    KDRT_RETURN_IF_ERROR(rejectPostOps("linear", d.postOps));
    return onednn::linearBackward(ctx_, d, x, w, nullptr, dy, dx, dw, db);
  }
  Status linearFusedForward(const LinearDesc &d, const Tensor &x,
                            const Tensor &w, const Tensor *b,
                            const PostOpTensors &post, Tensor &y) override {
    return onednn::linearForward(ctx_, d, x, w, b, post, y);
  }
  Status linearFusedBackward(const LinearDesc &d, const Tensor &x,
                             const Tensor &w, const Tensor &y,
                             const Tensor &dy, Tensor *dx, Tensor *dw,
                             Tensor *db) override {
    KDRT_RETURN_IF_ERROR(
        reference::checkFusedBackwardChain("linear", d.postOps));
    return onednn::linearBackward(ctx_, d, x, w, &y, dy, dx, dw, db);
  }
  Status batchNormForward(const BatchNormDesc &d, const Tensor &x,
                          const Tensor &g, const Tensor &b, Tensor &mean,
                          Tensor &var, Tensor &y) override {
    onednn::SameLayout one(ctx_, x.layout());
    Tensor &out = one.out(y);
    KDRT_RETURN_IF_ERROR(
        onednn::batchNormForward(ctx_, d, x, g, b, mean, var, out));
    one.commit();
    return Status::success();
  }
  Status batchNormBackward(const BatchNormDesc &d, const Tensor &x,
                           const Tensor &g, const Tensor &mean,
                           const Tensor &var, const Tensor &dy, Tensor *dx,
                           Tensor *dg, Tensor *db) override {
    onednn::SameLayout one(ctx_, x.layout());
    KDRT_RETURN_IF_ERROR(onednn::batchNormBackward(
        ctx_, d, x, g, mean, var, one.in(dy), one.out(dx), dg, db));
    one.commit();
    return Status::success();
  }
  Status layerNormForward(const LayerNormDesc &d, const Tensor &x,
                          const Tensor *g, const Tensor *b,
                          Tensor &y) override {
    return onednn::layerNormForward(ctx_, d, x, g, b, y);
  }
  Status layerNormBackward(const LayerNormDesc &d, const Tensor &x,
                           const Tensor *g, const Tensor &dy, Tensor *dx,
                           Tensor *dg, Tensor *db) override {
    return onednn::layerNormBackward(ctx_, d, x, g, dy, dx, dg, db);
  }
  Status groupNormForward(const GroupNormDesc &d, const Tensor &x,
                          const Tensor *g, const Tensor *b,
                          Tensor &y) override {
    return onednn::groupNormForward(d, x, g, b, y);
  }
  Status groupNormBackward(const GroupNormDesc &d, const Tensor &x,
                           const Tensor *g, const Tensor &dy, Tensor *dx,
                           Tensor *dg, Tensor *db) override {
    return onednn::groupNormBackward(d, x, g, dy, dx, dg, db);
  }

  // Elementwise and softmax.
  Status activationForward(const ActivationDesc &d, const Tensor &x,
                           Tensor &y) override {
    onednn::SameLayout one(ctx_, x.layout());
    KDRT_RETURN_IF_ERROR(onednn::activationForward(ctx_, d, x, one.out(y)));
    one.commit();
    return Status::success();
  }
  Status activationBackward(const ActivationDesc &d, const Tensor &x,
                            const Tensor &dy, Tensor &dx) override {
    onednn::SameLayout one(ctx_, x.layout());
    KDRT_RETURN_IF_ERROR(onednn::activationBackward(ctx_, d, x, one.in(dy),
                                                    one.out(dx)));
    one.commit();
    return Status::success();
  }
  Status softmaxForward(const SoftmaxDesc &d, const Tensor &x,
                        Tensor &y) override {
    return onednn::softmaxForward(ctx_, d, x, y);
  }
  Status softmaxBackward(const SoftmaxDesc &d, const Tensor &y,
                         const Tensor &dy, Tensor &dx) override {
    return onednn::softmaxBackward(ctx_, d, y, dy, dx);
  }

  // Pooling and resizing.
  Status pool2dForward(const Pool2dDesc &d, const Tensor &x,
                       Tensor &y) override {
    onednn::SameLayout one(ctx_, x.layout());
    KDRT_RETURN_IF_ERROR(onednn::pool2dForward(ctx_, d, x, one.out(y)));
    one.commit();
    return Status::success();
  }
  Status pool2dBackward(const Pool2dDesc &d, const Tensor &x, const Tensor &dy,
                        Tensor &dx) override {
    onednn::SameLayout one(ctx_, x.layout());
    KDRT_RETURN_IF_ERROR(
        onednn::pool2dBackward(ctx_, d, x, one.in(dy), one.out(dx)));
    one.commit();
    return Status::success();
  }
  // Adaptive pooling whose bins all have one size (global pooling, or an
  // input a multiple of the output) is ordinary pooling with kernel =
  // stride = input / output, on oneDNN's kernel in either layout; uneven
  // bins run the host loop on row-major copies.
  Status adaptivePoolForward(const AdaptivePoolDesc &d, const Tensor &x,
                             Tensor &y) override {
    std::optional<Pool2dDesc> uniform = uniformBins(d, x);
    onednn::SameLayout one(ctx_, uniform ? x.layout() : Layout::RowMajor);
    const Tensor &in = one.in(x);
    Tensor &out = one.out(y);
    KDRT_RETURN_IF_ERROR(uniform
                             ? onednn::pool2dForward(ctx_, *uniform, in, out)
                             : onednn::adaptivePoolForward(d, in, out));
    one.commit();
    return Status::success();
  }
  Status adaptivePoolBackward(const AdaptivePoolDesc &d, const Tensor &x,
                              const Tensor &dy, Tensor &dx) override {
    std::optional<Pool2dDesc> uniform = uniformBins(d, x);
    onednn::SameLayout one(ctx_, uniform ? x.layout() : Layout::RowMajor);
    const Tensor &in = one.in(x);
    const Tensor &grad = one.in(dy);
    Tensor &out = one.out(dx);
    KDRT_RETURN_IF_ERROR(
        uniform ? onednn::pool2dBackward(ctx_, *uniform, in, grad, out)
                : onednn::adaptivePoolBackward(d, in, grad, out));
    one.commit();
    return Status::success();
  }
  Status resizeForward(const ResizeDesc &d, const Tensor &x,
                       Tensor &y) override {
    if (d.mode == ResizeMode::Bilinear)
      return onednn::bilinearResizeForward(ctx_, d, x, y);
    return onednn::slicedResizeForward(d, x, y);
  }
  Status resizeBackward(const ResizeDesc &d, const Tensor &dy,
                        Tensor &dx) override {
    if (d.mode == ResizeMode::Bilinear)
      return onednn::bilinearResizeBackward(ctx_, d, dy, dx);
    return onednn::slicedResizeBackward(d, dy, dx);
  }

  // Plumbing.
  Status binaryForward(const BinaryDesc &d, const Tensor &a, const Tensor &b,
                       Tensor &y) override {
    onednn::SameLayout one(ctx_, elementwiseLayout(a, b));
    KDRT_RETURN_IF_ERROR(
        onednn::binaryForward(ctx_, d, one.in(a), one.in(b), one.out(y)));
    one.commit();
    return Status::success();
  }
  Status binaryBackward(const BinaryDesc &d, const Tensor &a, const Tensor &b,
                        const Tensor &dy, Tensor *da, Tensor *db) override {
    onednn::SameLayout one(ctx_, elementwiseLayout(a, b));
    KDRT_RETURN_IF_ERROR(onednn::binaryBackward(ctx_, d, one.in(a), one.in(b),
                                                one.in(dy), one.out(da),
                                                one.out(db)));
    one.commit();
    return Status::success();
  }
  Status concatForward(const ConcatDesc &d,
                       const std::vector<const Tensor *> &xs,
                       Tensor &y) override {
    return onednn::concatForward(ctx_, d, xs, y);
  }
  Status concatBackward(const ConcatDesc &d, const Tensor &dy,
                        const std::vector<Tensor *> &dxs) override {
    return onednn::concatBackward(d, dy, dxs);
  }
  Status reshapeForward(const ReshapeDesc &, const Tensor &x,
                        Tensor &y) override {
    return onednn::reshapeCopy(x, y);
  }
  Status reshapeBackward(const ReshapeDesc &, const Tensor &dy,
                         Tensor &dx) override {
    return onednn::reshapeCopy(dy, dx);
  }
  Status dropoutForward(const DropoutDesc &d, const Tensor &x, Tensor &y,
                        Tensor &mask) override {
    return onednn::dropoutForward(d, x, y, mask);
  }
  Status dropoutBackward(const DropoutDesc &d, const Tensor &mask,
                         const Tensor &dy, Tensor &dx) override {
    return onednn::dropoutBackward(d, mask, dy, dx);
  }
  Status matMulForward(const MatMulDesc &d, const Tensor &a, const Tensor &b,
                       Tensor &y) override {
    return onednn::matMulForward(ctx_, d, a, b, y);
  }
  Status matMulBackward(const MatMulDesc &d, const Tensor &a, const Tensor &b,
                        const Tensor &dy, Tensor *da, Tensor *db) override {
    return onednn::matMulBackward(ctx_, d, a, b, dy, da, db);
  }
  Status l2NormalizeForward(const L2NormalizeDesc &d, const Tensor &x,
                            Tensor &y) override {
    return onednn::l2NormalizeForward(d, x, y);
  }
  Status l2NormalizeBackward(const L2NormalizeDesc &d, const Tensor &x,
                             const Tensor &dy, Tensor &dx) override {
    return onednn::l2NormalizeBackward(d, x, dy, dx);
  }

  // Attention, attention pooling, class token, position embedding, select
  // token and every loss are the reference backend's entries (the base).
  Status tokensForward(const TokensDesc &, const Tensor &x,
                       Tensor &y) override {
    return onednn::tokensForward(x, y);
  }
  Status tokensBackward(const TokensDesc &, const Tensor &dy,
                        Tensor &dx) override {
    return onednn::tokensBackward(dy, dx);
  }
private:
  /// The pooling equal to adaptive pooling `d` of `x` when every bin has
  /// the same size (PyTorch's bins [floor(i*H/out), ceil((i+1)*H/out)) are
  /// then [i*k, (i+1)*k) with k = H / out).
  static std::optional<Pool2dDesc> uniformBins(const AdaptivePoolDesc &d,
                                               const Tensor &x) {
    if (x.rank() != 4 || d.outputH <= 0 || d.outputW <= 0 ||
        x.dim(2) % d.outputH != 0 || x.dim(3) % d.outputW != 0 ||
        x.dim(2) < d.outputH || x.dim(3) < d.outputW)
      return std::nullopt;
    Pool2dDesc pool;
    pool.mode = d.mode;
    pool.kernelH = pool.strideH = x.dim(2) / d.outputH;
    pool.kernelW = pool.strideW = x.dim(3) / d.outputW;
    pool.padH = pool.padW = 0;
    return pool;
  }

  /// add / mul read their operands as flat arrays: in one layout when the
  /// shapes are equal (lhs's), row-major when one broadcasts.
  static Layout elementwiseLayout(const Tensor &a, const Tensor &b) {
    return a.shape() == b.shape() ? a.layout() : Layout::RowMajor;
  }

  onednn::DnnContext ctx_;
  int threads_ = 1;
};

} // namespace

std::unique_ptr<OneDnnBackend> createOneDnnBackend(int threads) {
  return std::make_unique<OneDnnBackendImpl>(threads);
}

} // namespace kdrt

//===- OneDnnBackend.cpp - The backend class: memory and dispatch ---------===//
//
// Host memory, the OpenMP thread count, and one forwarding line per entry:
// to a oneDNN primitive (Ops.h), an OpenMP loop (HostKernels.cpp) or the
// reference kernel (the table in OneDnnBackend.h says which and why).
//
//===----------------------------------------------------------------------===//

#include "kdrt/OneDnnBackend.h"

#include "DnnContext.h"
#include "Ops.h"

#include "kdrt/reference/Kernels.h"

#include <cstdlib>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace kdrt {
namespace {

using reference::TensorRef;
using In = TensorRef<const float>;
using Out = TensorRef<float>;

In in(const Tensor &t) { return In(t.data(), t.shape()); }
In in(const Tensor *t) { return t ? in(*t) : In(); }
Out out(Tensor &t) { return Out(t.data(), t.shape()); }
Out out(Tensor *t) { return t ? out(*t) : Out(); }

Status rejectPostOps(const char *op, const PostOpChain &chain) {
  if (chain.empty())
    return Status::success();
  return Status::invalidArgument(std::string(op) +
                                 ": post-ops need the fused entry");
}

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

  PrimitiveCacheStats cacheStats() const override {
    return ctx_.cache.stats();
  }
  void resetCacheStats() override { ctx_.cache.resetStats(); }
  int threads() const override { return threads_; }

  Status allocate(size_t bytes, void **buffer) override {
    // 64 bytes: one cache line and one AVX-512 vector.
    size_t rounded = (bytes + 63) / 64 * 64;
    *buffer = std::aligned_alloc(64, rounded ? rounded : 64);
    if (!*buffer)
      return Status::outOfMemory("onednn: cannot allocate " +
                                 std::to_string(bytes) + " bytes");
    return Status::success();
  }
  void deallocate(void *buffer) override { std::free(buffer); }
  Status copyIn(void *dst, const void *hostSrc, size_t bytes) override {
    std::memcpy(dst, hostSrc, bytes);
    return Status::success();
  }
  Status copyOut(void *hostDst, const void *src, size_t bytes) override {
    std::memcpy(hostDst, src, bytes);
    return Status::success();
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
    return onednn::batchNormForward(ctx_, d, x, g, b, mean, var, y);
  }
  Status batchNormBackward(const BatchNormDesc &d, const Tensor &x,
                           const Tensor &g, const Tensor &mean,
                           const Tensor &var, const Tensor &dy, Tensor *dx,
                           Tensor *dg, Tensor *db) override {
    return onednn::batchNormBackward(ctx_, d, x, g, mean, var, dy, dx, dg,
                                     db);
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
    // gamma/beta gradients sum over samples: the reference's single pass.
    return reference::groupNormBackward<float>(d, in(x), in(g), in(dy),
                                               out(dx), out(dg), out(db));
  }

  // Elementwise and softmax.
  Status activationForward(const ActivationDesc &d, const Tensor &x,
                           Tensor &y) override {
    return onednn::activationForward(ctx_, d, x, y);
  }
  Status activationBackward(const ActivationDesc &d, const Tensor &x,
                            const Tensor &dy, Tensor &dx) override {
    return onednn::activationBackward(ctx_, d, x, dy, dx);
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
    return onednn::pool2dForward(ctx_, d, x, y);
  }
  Status pool2dBackward(const Pool2dDesc &d, const Tensor &x, const Tensor &dy,
                        Tensor &dx) override {
    return onednn::pool2dBackward(ctx_, d, x, dy, dx);
  }
  Status adaptivePoolForward(const AdaptivePoolDesc &d, const Tensor &x,
                             Tensor &y) override {
    return onednn::adaptivePoolForward(d, x, y);
  }
  Status adaptivePoolBackward(const AdaptivePoolDesc &d, const Tensor &x,
                              const Tensor &dy, Tensor &dx) override {
    return onednn::adaptivePoolBackward(d, x, dy, dx);
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
    return onednn::binaryForward(ctx_, d, a, b, y);
  }
  Status binaryBackward(const BinaryDesc &d, const Tensor &a, const Tensor &b,
                        const Tensor &dy, Tensor *da, Tensor *db) override {
    return onednn::binaryBackward(ctx_, d, a, b, dy, da, db);
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

  // Attention and tokens: reference kernels.
  static reference::AttentionParams<float>
  attentionParams(const AttentionWeights &w) {
    reference::AttentionParams<float> p;
    const Tensor *weights[4] = {w.queryWeight, w.keyWeight, w.valueWeight,
                                w.outputWeight};
    const Tensor *biases[4] = {w.queryBias, w.keyBias, w.valueBias,
                               w.outputBias};
    for (int k = 0; k < 4; ++k) {
      p.weight[k] = in(weights[k]);
      p.bias[k] = in(biases[k]);
    }
    return p;
  }
  Status multiHeadAttentionForward(const MultiHeadAttentionDesc &d,
                                   const Tensor &x, const AttentionWeights &w,
                                   Tensor &y) override {
    return reference::multiHeadAttentionForward<float>(
        d, in(x), attentionParams(w), out(y));
  }
  Status multiHeadAttentionBackward(const MultiHeadAttentionDesc &d,
                                    const Tensor &x, const AttentionWeights &w,
                                    const Tensor &dy, Tensor *dx,
                                    const AttentionWeightGrads &dw) override {
    reference::AttentionParamGrads<float> grads;
    Tensor *weights[4] = {dw.queryWeight, dw.keyWeight, dw.valueWeight,
                          dw.outputWeight};
    Tensor *biases[4] = {dw.queryBias, dw.keyBias, dw.valueBias,
                         dw.outputBias};
    for (int k = 0; k < 4; ++k) {
      grads.weight[k] = out(weights[k]);
      grads.bias[k] = out(biases[k]);
    }
    return reference::multiHeadAttentionBackward<float>(
        d, in(x), attentionParams(w), in(dy), out(dx), grads);
  }
  Status attentionPoolForward(const AttentionPoolDesc &d, const Tensor &x,
                              const Tensor &w, const Tensor *b,
                              Tensor &y) override {
    return reference::attentionPoolForward<float>(d, in(x), in(w), in(b),
                                                  out(y));
  }
  Status attentionPoolBackward(const AttentionPoolDesc &d, const Tensor &x,
                               const Tensor &w, const Tensor *b,
                               const Tensor &dy, Tensor *dx, Tensor *dw,
                               Tensor *db) override {
    return reference::attentionPoolBackward<float>(
        d, in(x), in(w), in(b), in(dy), out(dx), out(dw), out(db));
  }
  Status tokensForward(const TokensDesc &, const Tensor &x,
                       Tensor &y) override {
    return onednn::tokensForward(x, y);
  }
  Status tokensBackward(const TokensDesc &, const Tensor &dy,
                        Tensor &dx) override {
    return onednn::tokensBackward(dy, dx);
  }
  Status clsTokenPrependForward(const ClsTokenPrependDesc &d, const Tensor &x,
                                const Tensor &token, Tensor &y) override {
    return reference::clsTokenPrependForward<float>(d, in(x), in(token),
                                                    out(y));
  }
  Status clsTokenPrependBackward(const ClsTokenPrependDesc &d,
                                 const Tensor &dy, Tensor *dx,
                                 Tensor *dtoken) override {
    return reference::clsTokenPrependBackward<float>(d, in(dy), out(dx),
                                                     out(dtoken));
  }
  Status positionEmbeddingAddForward(const PositionEmbeddingAddDesc &d,
                                     const Tensor &x, const Tensor &e,
                                     Tensor &y) override {
    return reference::positionEmbeddingAddForward<float>(d, in(x), in(e),
                                                         out(y));
  }
  Status positionEmbeddingAddBackward(const PositionEmbeddingAddDesc &d,
                                      const Tensor &dy, Tensor *dx,
                                      Tensor *de) override {
    return reference::positionEmbeddingAddBackward<float>(d, in(dy), out(dx),
                                                          out(de));
  }
  Status selectTokenForward(const SelectTokenDesc &d, const Tensor &x,
                            Tensor &y) override {
    return reference::selectTokenForward<float>(d, in(x), out(y));
  }
  Status selectTokenBackward(const SelectTokenDesc &d, const Tensor &dy,
                             Tensor &dx) override {
    return reference::selectTokenBackward<float>(d, in(dy), out(dx));
  }

  // Losses: reference kernels.
  Status crossEntropyLoss(const CrossEntropyDesc &d, const Tensor &z,
                          const Tensor &t, Tensor &loss,
                          Tensor *dz) override {
    return reference::crossEntropyLoss<float>(d, in(z), in(t), out(loss),
                                              out(dz));
  }
  Status klDivLoss(const KlDivDesc &d, const Tensor &s, const Tensor &t,
                   Tensor &loss, Tensor *ds, Tensor *dt) override {
    return reference::klDivLoss<float>(d, in(s), in(t), out(loss), out(ds),
                                       out(dt));
  }
  Status regressionLoss(const RegressionLossDesc &d, const Tensor &x,
                        const Tensor &t, Tensor &loss, Tensor *dx,
                        Tensor *dt) override {
    return reference::regressionLoss<float>(d, in(x), in(t), out(loss),
                                            out(dx), out(dt));
  }
  Status cosineLoss(const CosineLossDesc &d, const Tensor &a, const Tensor &b,
                    Tensor &loss, Tensor *da, Tensor *db) override {
    return reference::cosineLoss<float>(d, in(a), in(b), out(loss), out(da),
                                        out(db));
  }
  Status attentionTransferLoss(const AttentionTransferDesc &d,
                               const Tensor &s, const Tensor &t, Tensor &loss,
                               Tensor *ds, Tensor *dt) override {
    return reference::attentionTransferLoss<float>(d, in(s), in(t), out(loss),
                                                   out(ds), out(dt));
  }
  Status rkdDistanceLoss(const RkdDesc &d, const Tensor &s, const Tensor &t,
                         Tensor &loss, Tensor *ds) override {
    return reference::rkdDistanceLoss<float>(d, in(s), in(t), out(loss),
                                             out(ds));
  }
  Status rkdAngleLoss(const RkdDesc &d, const Tensor &s, const Tensor &t,
                      Tensor &loss, Tensor *ds) override {
    return reference::rkdAngleLoss<float>(d, in(s), in(t), out(loss),
                                          out(ds));
  }
  Status dkdLoss(const DkdDesc &d, const Tensor &s, const Tensor &t,
                 const Tensor &labels, Tensor &loss, Tensor *ds) override {
    return reference::dkdLoss<float>(d, in(s), in(t), in(labels), out(loss),
                                     out(ds));
  }
  Status logitLossGroup(const LogitLossGroupDesc &d, const Tensor &z,
                        const std::vector<const Tensor *> &targets,
                        Tensor &losses, Tensor *dz) override {
    std::vector<In> targetRefs;
    for (const Tensor *target : targets)
      targetRefs.push_back(in(target));
    return reference::logitLossGroup<float>(d, in(z), targetRefs, out(losses),
                                            out(dz));
  }

private:
  onednn::DnnContext ctx_;
  int threads_ = 1;
};

} // namespace

std::unique_ptr<OneDnnBackend> createOneDnnBackend(int threads) {
  return std::make_unique<OneDnnBackendImpl>(threads);
}

} // namespace kdrt

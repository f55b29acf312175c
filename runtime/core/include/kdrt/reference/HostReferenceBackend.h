//===- HostReferenceBackend.h - The reference kernels as a backend -*- C++ -*-===//
//
// Host memory and the fp32 instantiation of the reference kernels. Each
// entry only converts Tensors into typed views; all checking and math lives
// in the kernels. The reference backend is this class; a host backend that
// accelerates some entries (oneDNN) derives from it and overrides only
// those, so every other entry falls back to the oracle's own code.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_HOSTREFERENCEBACKEND_H
#define KDRT_REFERENCE_HOSTREFERENCEBACKEND_H

#include "kdrt/Backend.h"
#include "kdrt/reference/Kernels.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace kdrt {
namespace host_reference {

using reference::TensorRef;
using In = TensorRef<const float>;
using Out = TensorRef<float>;

inline In in(const Tensor &t) { return In(t.data(), t.shape()); }
inline In in(const Tensor *t) { return t ? in(*t) : In(); }
inline Out out(Tensor &t) { return Out(t.data(), t.shape()); }
inline Out out(Tensor *t) { return t ? out(*t) : Out(); }

inline reference::PostOpRefs<float> postOpRefs(const PostOpTensors &tensors) {
  reference::PostOpRefs<float> refs;
  for (const Tensor *t : tensors.residuals)
    refs.residuals.push_back(in(t));
  for (const Tensor *t : tensors.scales)
    refs.scales.push_back(in(t));
  for (const Tensor *t : tensors.shifts)
    refs.shifts.push_back(in(t));
  return refs;
}

/// The plain entries never drop a post-op silently.
inline Status rejectPostOps(const char *op, const PostOpChain &chain) {
  if (chain.empty())
    return Status::success();
  return Status::invalidArgument(std::string(op) +
                                 ": post-ops need the fused entry");
}

} // namespace host_reference

class HostReferenceBackend : public Backend {
protected:
  // Tensor -> typed view conversions, shared with derived host backends.
  using In = host_reference::In;
  using Out = host_reference::Out;
  static In in(const Tensor &t) { return host_reference::in(t); }
  static In in(const Tensor *t) { return host_reference::in(t); }
  static Out out(Tensor &t) { return host_reference::out(t); }
  static Out out(Tensor *t) { return host_reference::out(t); }
  static reference::PostOpRefs<float> postOpRefs(const PostOpTensors &t) {
    return host_reference::postOpRefs(t);
  }
  static Status rejectPostOps(const char *op, const PostOpChain &chain) {
    return host_reference::rejectPostOps(op, chain);
  }


public:
  const char *name() const override { return "reference"; }

  Status allocate(size_t bytes, void **buffer) override {
    // 64-byte alignment suits any vector width; aligned_alloc wants a
    // multiple of the alignment.
    size_t rounded = (bytes + 63) / 64 * 64;
    *buffer = std::aligned_alloc(64, rounded ? rounded : 64);
    if (!*buffer)
      return Status::outOfMemory(std::string(name()) + ": cannot allocate " +
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

  Status conv2dForward(const Conv2dDesc &d, const Tensor &x, const Tensor &w,
                       const Tensor *b, Tensor &y) override {
    KDRT_RETURN_IF_ERROR(rejectPostOps("conv2d", d.postOps));
    return reference::conv2dForward<float>(d, in(x), in(w), in(b), out(y));
  }
  Status conv2dBackward(const Conv2dDesc &d, const Tensor &x, const Tensor &w,
                        const Tensor &dy, Tensor *dx, Tensor *dw,
                        Tensor *db) override {
    KDRT_RETURN_IF_ERROR(rejectPostOps("conv2d", d.postOps));
    return reference::conv2dBackward<float>(d, in(x), in(w), in(dy), out(dx),
                                            out(dw), out(db));
  }
  Status conv2dFusedForward(const Conv2dDesc &d, const Tensor &x,
                            const Tensor &w, const Tensor *b,
                            const PostOpTensors &post, Tensor &y) override {
    auto refs = postOpRefs(post);
    if (y.rank() != 4)
      return Status::invalidArgument("conv2d: output must have rank 4");
    KDRT_RETURN_IF_ERROR(reference::checkPostOps("conv2d", d.postOps, refs,
                                                 y.shape(), y.dim(1)));
    KDRT_RETURN_IF_ERROR(
        reference::conv2dForward<float>(d, in(x), in(w), in(b), out(y)));
    reference::applyPostOps<float>(d.postOps, refs, out(y), y.dim(1),
                                   y.dim(2) * y.dim(3));
    return Status::success();
  }
  Status conv2dFusedBackward(const Conv2dDesc &d, const Tensor &x,
                             const Tensor &w, const Tensor &y,
                             const Tensor &dy, Tensor *dx, Tensor *dw,
                             Tensor *db) override {
    KDRT_RETURN_IF_ERROR(
        reference::checkFusedBackwardChain("conv2d", d.postOps));
    if (y.shape() != dy.shape())
      return Status::invalidArgument("conv2d: output " + y.shape().toString() +
                                     " and gradOutput " +
                                     dy.shape().toString() + " differ");
    std::vector<float> gradPre;
    reference::postOpGradient<float>(d.postOps, in(y), in(dy), gradPre);
    return reference::conv2dBackward<float>(d, in(x), in(w),
                                            In(gradPre.data(), dy.shape()),
                                            out(dx), out(dw), out(db));
  }
  Status linearForward(const LinearDesc &d, const Tensor &x, const Tensor &w,
                       const Tensor *b, Tensor &y) override {
    KDRT_RETURN_IF_ERROR(rejectPostOps("linear", d.postOps));
    return reference::linearForward<float>(d, in(x), in(w), in(b), out(y));
  }
  Status linearBackward(const LinearDesc &d, const Tensor &x, const Tensor &w,
                        const Tensor &dy, Tensor *dx, Tensor *dw,
                        Tensor *db) override {
    KDRT_RETURN_IF_ERROR(rejectPostOps("linear", d.postOps));
    return reference::linearBackward<float>(d, in(x), in(w), in(dy), out(dx),
                                            out(dw), out(db));
  }
  Status linearFusedForward(const LinearDesc &d, const Tensor &x,
                            const Tensor &w, const Tensor *b,
                            const PostOpTensors &post, Tensor &y) override {
    auto refs = postOpRefs(post);
    if (y.rank() < 1)
      return Status::invalidArgument("linear: output must have rank >= 1");
    int64_t channels = y.dim(y.rank() - 1);
    KDRT_RETURN_IF_ERROR(reference::checkPostOps("linear", d.postOps, refs,
                                                 y.shape(), channels));
    KDRT_RETURN_IF_ERROR(
        reference::linearForward<float>(d, in(x), in(w), in(b), out(y)));
    reference::applyPostOps<float>(d.postOps, refs, out(y), channels, 1);
    return Status::success();
  }
  Status linearFusedBackward(const LinearDesc &d, const Tensor &x,
                             const Tensor &w, const Tensor &y,
                             const Tensor &dy, Tensor *dx, Tensor *dw,
                             Tensor *db) override {
    KDRT_RETURN_IF_ERROR(
        reference::checkFusedBackwardChain("linear", d.postOps));
    if (y.shape() != dy.shape())
      return Status::invalidArgument("linear: output " + y.shape().toString() +
                                     " and gradOutput " +
                                     dy.shape().toString() + " differ");
    std::vector<float> gradPre;
    reference::postOpGradient<float>(d.postOps, in(y), in(dy), gradPre);
    return reference::linearBackward<float>(d, in(x), in(w),
                                            In(gradPre.data(), dy.shape()),
                                            out(dx), out(dw), out(db));
  }
  Status batchNormForward(const BatchNormDesc &d, const Tensor &x,
                          const Tensor &g, const Tensor &b, Tensor &mean,
                          Tensor &var, Tensor &y) override {
    return reference::batchNormForward<float>(d, in(x), in(g), in(b),
                                              out(mean), out(var), out(y));
  }
  Status batchNormBackward(const BatchNormDesc &d, const Tensor &x,
                           const Tensor &g, const Tensor &mean,
                           const Tensor &var, const Tensor &dy, Tensor *dx,
                           Tensor *dg, Tensor *db) override {
    return reference::batchNormBackward<float>(d, in(x), in(g), in(mean),
                                               in(var), in(dy), out(dx),
                                               out(dg), out(db));
  }
  Status foldBatchNorm(const FoldBatchNormDesc &d, const Tensor &w,
                       const Tensor *b, const Tensor &g, const Tensor &beta,
                       const Tensor &mean, const Tensor &var, Tensor &fw,
                       Tensor &fb) override {
    return reference::foldBatchNorm<float>(d, in(w), in(b), in(g), in(beta),
                                           in(mean), in(var), out(fw),
                                           out(fb));
  }
  Status batchNormScaleShift(const BatchNormScaleShiftDesc &d,
                             const Tensor &g, const Tensor &beta,
                             const Tensor &mean, const Tensor &var,
                             Tensor &scale, Tensor &shift) override {
    return reference::batchNormScaleShift<float>(d, in(g), in(beta), in(mean),
                                                 in(var), out(scale),
                                                 out(shift));
  }
  Status layerNormForward(const LayerNormDesc &d, const Tensor &x,
                          const Tensor *g, const Tensor *b,
                          Tensor &y) override {
    return reference::layerNormForward<float>(d, in(x), in(g), in(b), out(y));
  }
  Status layerNormBackward(const LayerNormDesc &d, const Tensor &x,
                           const Tensor *g, const Tensor &dy, Tensor *dx,
                           Tensor *dg, Tensor *db) override {
    return reference::layerNormBackward<float>(d, in(x), in(g), in(dy),
                                               out(dx), out(dg), out(db));
  }
  Status groupNormForward(const GroupNormDesc &d, const Tensor &x,
                          const Tensor *g, const Tensor *b,
                          Tensor &y) override {
    return reference::groupNormForward<float>(d, in(x), in(g), in(b), out(y));
  }
  Status groupNormBackward(const GroupNormDesc &d, const Tensor &x,
                           const Tensor *g, const Tensor &dy, Tensor *dx,
                           Tensor *dg, Tensor *db) override {
    return reference::groupNormBackward<float>(d, in(x), in(g), in(dy),
                                               out(dx), out(dg), out(db));
  }
  Status activationForward(const ActivationDesc &d, const Tensor &x,
                           Tensor &y) override {
    return reference::activationForward<float>(d, in(x), out(y));
  }
  Status activationBackward(const ActivationDesc &d, const Tensor &x,
                            const Tensor &dy, Tensor &dx) override {
    return reference::activationBackward<float>(d, in(x), in(dy), out(dx));
  }
  Status softmaxForward(const SoftmaxDesc &d, const Tensor &x,
                        Tensor &y) override {
    return reference::softmaxForward<float>(d, in(x), out(y));
  }
  Status softmaxBackward(const SoftmaxDesc &d, const Tensor &y,
                         const Tensor &dy, Tensor &dx) override {
    return reference::softmaxBackward<float>(d, in(y), in(dy), out(dx));
  }
  Status pool2dForward(const Pool2dDesc &d, const Tensor &x,
                       Tensor &y) override {
    return reference::pool2dForward<float>(d, in(x), out(y));
  }
  Status pool2dBackward(const Pool2dDesc &d, const Tensor &x, const Tensor &dy,
                        Tensor &dx) override {
    return reference::pool2dBackward<float>(d, in(x), in(dy), out(dx));
  }
  Status adaptivePoolForward(const AdaptivePoolDesc &d, const Tensor &x,
                             Tensor &y) override {
    return reference::adaptivePoolForward<float>(d, in(x), out(y));
  }
  Status adaptivePoolBackward(const AdaptivePoolDesc &d, const Tensor &x,
                              const Tensor &dy, Tensor &dx) override {
    return reference::adaptivePoolBackward<float>(d, in(x), in(dy), out(dx));
  }
  Status resizeForward(const ResizeDesc &d, const Tensor &x,
                       Tensor &y) override {
    return reference::resizeForward<float>(d, in(x), out(y));
  }
  Status resizeBackward(const ResizeDesc &d, const Tensor &dy,
                        Tensor &dx) override {
    return reference::resizeBackward<float>(d, in(dy), out(dx));
  }
  Status binaryForward(const BinaryDesc &d, const Tensor &a, const Tensor &b,
                       Tensor &y) override {
    return reference::binaryForward<float>(d, in(a), in(b), out(y));
  }
  Status binaryBackward(const BinaryDesc &d, const Tensor &a, const Tensor &b,
                        const Tensor &dy, Tensor *da, Tensor *db) override {
    return reference::binaryBackward<float>(d, in(a), in(b), in(dy), out(da),
                                            out(db));
  }
  Status concatForward(const ConcatDesc &d,
                       const std::vector<const Tensor *> &xs,
                       Tensor &y) override {
    std::vector<In> views;
    for (const Tensor *x : xs) {
      if (!x)
        return Status::invalidArgument("concat: input is missing");
      views.push_back(in(*x));
    }
    return reference::concatForward<float>(d, views, out(y));
  }
  Status concatBackward(const ConcatDesc &d, const Tensor &dy,
                        const std::vector<Tensor *> &dxs) override {
    std::vector<Out> views;
    for (Tensor *dx : dxs)
      views.push_back(out(dx));
    return reference::concatBackward<float>(d, in(dy), views);
  }
  Status reshapeForward(const ReshapeDesc &, const Tensor &x,
                        Tensor &y) override {
    return reference::reshapeCopy<float>(in(x), out(y));
  }
  Status reshapeBackward(const ReshapeDesc &, const Tensor &dy,
                         Tensor &dx) override {
    return reference::reshapeCopy<float>(in(dy), out(dx));
  }
  Status dropoutForward(const DropoutDesc &d, const Tensor &x, Tensor &y,
                        Tensor &mask) override {
    return reference::dropoutForward<float>(d, in(x), out(y), out(mask));
  }
  Status dropoutBackward(const DropoutDesc &d, const Tensor &mask,
                         const Tensor &dy, Tensor &dx) override {
    return reference::dropoutBackward<float>(d, in(mask), in(dy), out(dx));
  }
  Status matMulForward(const MatMulDesc &d, const Tensor &a, const Tensor &b,
                       Tensor &y) override {
    return reference::matMulForward<float>(d, in(a), in(b), out(y));
  }
  Status matMulBackward(const MatMulDesc &d, const Tensor &a, const Tensor &b,
                        const Tensor &dy, Tensor *da, Tensor *db) override {
    return reference::matMulBackward<float>(d, in(a), in(b), in(dy), out(da),
                                            out(db));
  }
  Status l2NormalizeForward(const L2NormalizeDesc &d, const Tensor &x,
                            Tensor &y) override {
    return reference::l2NormalizeForward<float>(d, in(x), out(y));
  }
  Status l2NormalizeBackward(const L2NormalizeDesc &d, const Tensor &x,
                             const Tensor &dy, Tensor &dx) override {
    return reference::l2NormalizeBackward<float>(d, in(x), in(dy), out(dx));
  }

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
  Status tokensForward(const TokensDesc &d, const Tensor &x,
                       Tensor &y) override {
    return reference::tokensForward<float>(d, in(x), out(y));
  }
  Status tokensBackward(const TokensDesc &d, const Tensor &dy,
                        Tensor &dx) override {
    return reference::tokensBackward<float>(d, in(dy), out(dx));
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
                         Tensor &loss, Tensor *ds, Tensor *dt) override {
    return reference::rkdDistanceLoss<float>(d, in(s), in(t), out(loss),
                                             out(ds), out(dt));
  }
  Status rkdAngleLoss(const RkdDesc &d, const Tensor &s, const Tensor &t,
                      Tensor &loss, Tensor *ds, Tensor *dt) override {
    return reference::rkdAngleLoss<float>(d, in(s), in(t), out(loss),
                                          out(ds), out(dt));
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
  Status ensembleCombine(const EnsembleCombineDesc &d,
                         const std::vector<const Tensor *> &members,
                         const Tensor *weights, const Tensor *labels,
                         Tensor &output) override {
    std::vector<In> memberRefs;
    for (const Tensor *member : members)
      memberRefs.push_back(in(member));
    return reference::ensembleCombine<float>(d, memberRefs, in(weights),
                                             in(labels), out(output));
  }
};


} // namespace kdrt

#endif // KDRT_REFERENCE_HOSTREFERENCEBACKEND_H

//===- Backend.cpp - Defaults of the backend interface ---------------------===//
//
// Every op entry starts out unimplemented so that a new backend can be
// brought up one op at a time; the executor reports which entry is missing.
//
//===----------------------------------------------------------------------===//

#include "kdrt/Backend.h"

#include "kdrt/reference/Attention.h"

#include <string>

namespace kdrt {

Status checkAttentionWeights(const MultiHeadAttentionDesc &desc,
                             const Tensor &input,
                             const AttentionWeights &weights) {
  const Tensor *w[4] = {weights.queryWeight, weights.keyWeight,
                        weights.valueWeight, weights.outputWeight};
  const Tensor *b[4] = {weights.queryBias, weights.keyBias, weights.valueBias,
                        weights.outputBias};
  Shape weightShapes[4], biasShapes[4];
  for (int i = 0; i < 4; ++i) {
    if (!w[i])
      return reference::shapeError("multi_head_attention",
                                   "projection weights are required");
    weightShapes[i] = w[i]->shape();
    if (b[i])
      biasShapes[i] = b[i]->shape();
  }
  return reference::detail::attentionCheck(desc, input.shape(), weightShapes,
                                           biasShapes);
}

Backend::~Backend() = default;

Status Backend::unimplemented(const char *entry) const {
  return Status::unimplemented(std::string(name()) + " backend does not implement " + entry);
}

Status Backend::conv2dForward(const Conv2dDesc &, const Tensor &, const Tensor &, const Tensor *, Tensor &) {
  return unimplemented("conv2dForward");
}

Status Backend::conv2dBackward(const Conv2dDesc &, const Tensor &, const Tensor &, const Tensor &, Tensor *, Tensor *, Tensor *) {
  return unimplemented("conv2dBackward");
}

Status Backend::conv2dFusedForward(const Conv2dDesc &, const Tensor &, const Tensor &, const Tensor *, const PostOpTensors &, Tensor &) {
  return unimplemented("conv2dFusedForward");
}

Status Backend::conv2dFusedBackward(const Conv2dDesc &, const Tensor &, const Tensor &, const Tensor &, const Tensor &, Tensor *, Tensor *, Tensor *) {
  return unimplemented("conv2dFusedBackward");
}

Status Backend::linearFusedForward(const LinearDesc &, const Tensor &, const Tensor &, const Tensor *, const PostOpTensors &, Tensor &) {
  return unimplemented("linearFusedForward");
}

Status Backend::linearFusedBackward(const LinearDesc &, const Tensor &, const Tensor &, const Tensor &, const Tensor &, Tensor *, Tensor *, Tensor *) {
  return unimplemented("linearFusedBackward");
}

Status Backend::linearForward(const LinearDesc &, const Tensor &, const Tensor &, const Tensor *, Tensor &) {
  return unimplemented("linearForward");
}

Status Backend::linearBackward(const LinearDesc &, const Tensor &, const Tensor &, const Tensor &, Tensor *, Tensor *, Tensor *) {
  return unimplemented("linearBackward");
}

Status Backend::batchNormForward(const BatchNormDesc &, const Tensor &, const Tensor &, const Tensor &, Tensor &, Tensor &, Tensor &) {
  return unimplemented("batchNormForward");
}

Status Backend::batchNormBackward(const BatchNormDesc &, const Tensor &, const Tensor &, const Tensor &, const Tensor &, const Tensor &, Tensor *, Tensor *, Tensor *) {
  return unimplemented("batchNormBackward");
}

Status Backend::foldBatchNorm(const FoldBatchNormDesc &, const Tensor &, const Tensor *, const Tensor &, const Tensor &, const Tensor &, const Tensor &, Tensor &, Tensor &) {
  return unimplemented("foldBatchNorm");
}

Status Backend::batchNormScaleShift(const BatchNormScaleShiftDesc &, const Tensor &, const Tensor &, const Tensor &, const Tensor &, Tensor &, Tensor &) {
  return unimplemented("batchNormScaleShift");
}

Status Backend::layerNormForward(const LayerNormDesc &, const Tensor &, const Tensor *, const Tensor *, Tensor &) {
  return unimplemented("layerNormForward");
}

Status Backend::layerNormBackward(const LayerNormDesc &, const Tensor &, const Tensor *, const Tensor &, Tensor *, Tensor *, Tensor *) {
  return unimplemented("layerNormBackward");
}

Status Backend::groupNormForward(const GroupNormDesc &, const Tensor &, const Tensor *, const Tensor *, Tensor &) {
  return unimplemented("groupNormForward");
}

Status Backend::groupNormBackward(const GroupNormDesc &, const Tensor &, const Tensor *, const Tensor &, Tensor *, Tensor *, Tensor *) {
  return unimplemented("groupNormBackward");
}

Status Backend::activationForward(const ActivationDesc &, const Tensor &, Tensor &) {
  return unimplemented("activationForward");
}

Status Backend::activationBackward(const ActivationDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("activationBackward");
}

Status Backend::softmaxForward(const SoftmaxDesc &, const Tensor &, Tensor &) {
  return unimplemented("softmaxForward");
}

Status Backend::softmaxBackward(const SoftmaxDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("softmaxBackward");
}

Status Backend::pool2dForward(const Pool2dDesc &, const Tensor &, Tensor &) {
  return unimplemented("pool2dForward");
}

Status Backend::pool2dBackward(const Pool2dDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("pool2dBackward");
}

Status Backend::adaptivePoolForward(const AdaptivePoolDesc &, const Tensor &, Tensor &) {
  return unimplemented("adaptivePoolForward");
}

Status Backend::adaptivePoolBackward(const AdaptivePoolDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("adaptivePoolBackward");
}

Status Backend::resizeForward(const ResizeDesc &, const Tensor &, Tensor &) {
  return unimplemented("resizeForward");
}

Status Backend::resizeBackward(const ResizeDesc &, const Tensor &, Tensor &) {
  return unimplemented("resizeBackward");
}

Status Backend::binaryForward(const BinaryDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("binaryForward");
}

Status Backend::binaryBackward(const BinaryDesc &, const Tensor &, const Tensor &, const Tensor &, Tensor *, Tensor *) {
  return unimplemented("binaryBackward");
}

Status Backend::concatForward(const ConcatDesc &, const std::vector<const Tensor *> &, Tensor &) {
  return unimplemented("concatForward");
}

Status Backend::concatBackward(const ConcatDesc &, const Tensor &, const std::vector<Tensor *> &) {
  return unimplemented("concatBackward");
}

Status Backend::reshapeForward(const ReshapeDesc &, const Tensor &, Tensor &) {
  return unimplemented("reshapeForward");
}

Status Backend::reshapeBackward(const ReshapeDesc &, const Tensor &, Tensor &) {
  return unimplemented("reshapeBackward");
}

Status Backend::dropoutForward(const DropoutDesc &, const Tensor &, Tensor &, Tensor &) {
  return unimplemented("dropoutForward");
}

Status Backend::dropoutBackward(const DropoutDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("dropoutBackward");
}

Status Backend::matMulForward(const MatMulDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("matMulForward");
}

Status Backend::matMulBackward(const MatMulDesc &, const Tensor &, const Tensor &, const Tensor &, Tensor *, Tensor *) {
  return unimplemented("matMulBackward");
}

Status Backend::l2NormalizeForward(const L2NormalizeDesc &, const Tensor &, Tensor &) {
  return unimplemented("l2NormalizeForward");
}

Status Backend::l2NormalizeBackward(const L2NormalizeDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("l2NormalizeBackward");
}

Status Backend::multiHeadAttentionForward(const MultiHeadAttentionDesc &, const Tensor &, const AttentionWeights &, Tensor &) {
  return unimplemented("multiHeadAttentionForward");
}

Status Backend::multiHeadAttentionBackward(const MultiHeadAttentionDesc &, const Tensor &, const AttentionWeights &, const Tensor &, Tensor *, const AttentionWeightGrads &) {
  return unimplemented("multiHeadAttentionBackward");
}

Status Backend::attentionPoolForward(const AttentionPoolDesc &, const Tensor &, const Tensor &, const Tensor *, Tensor &) {
  return unimplemented("attentionPoolForward");
}

Status Backend::attentionPoolBackward(const AttentionPoolDesc &, const Tensor &, const Tensor &, const Tensor *, const Tensor &, Tensor *, Tensor *, Tensor *) {
  return unimplemented("attentionPoolBackward");
}

Status Backend::tokensForward(const TokensDesc &, const Tensor &, Tensor &) {
  return unimplemented("tokensForward");
}

Status Backend::tokensBackward(const TokensDesc &, const Tensor &, Tensor &) {
  return unimplemented("tokensBackward");
}

Status Backend::clsTokenPrependForward(const ClsTokenPrependDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("clsTokenPrependForward");
}

Status Backend::clsTokenPrependBackward(const ClsTokenPrependDesc &, const Tensor &, Tensor *, Tensor *) {
  return unimplemented("clsTokenPrependBackward");
}

Status Backend::positionEmbeddingAddForward(const PositionEmbeddingAddDesc &, const Tensor &, const Tensor &, Tensor &) {
  return unimplemented("positionEmbeddingAddForward");
}

Status Backend::positionEmbeddingAddBackward(const PositionEmbeddingAddDesc &, const Tensor &, Tensor *, Tensor *) {
  return unimplemented("positionEmbeddingAddBackward");
}

Status Backend::selectTokenForward(const SelectTokenDesc &, const Tensor &, Tensor &) {
  return unimplemented("selectTokenForward");
}

Status Backend::selectTokenBackward(const SelectTokenDesc &, const Tensor &, Tensor &) {
  return unimplemented("selectTokenBackward");
}

Status Backend::crossEntropyLoss(const CrossEntropyDesc &, const Tensor &, const Tensor &, Tensor &, Tensor *) {
  return unimplemented("crossEntropyLoss");
}

Status Backend::klDivLoss(const KlDivDesc &, const Tensor &, const Tensor &, Tensor &, Tensor *, Tensor *) {
  return unimplemented("klDivLoss");
}

Status Backend::regressionLoss(const RegressionLossDesc &, const Tensor &, const Tensor &, Tensor &, Tensor *, Tensor *) {
  return unimplemented("regressionLoss");
}

Status Backend::cosineLoss(const CosineLossDesc &, const Tensor &, const Tensor &, Tensor &, Tensor *, Tensor *) {
  return unimplemented("cosineLoss");
}

Status Backend::attentionTransferLoss(const AttentionTransferDesc &, const Tensor &, const Tensor &, Tensor &, Tensor *, Tensor *) {
  return unimplemented("attentionTransferLoss");
}

Status Backend::rkdDistanceLoss(const RkdDesc &, const Tensor &, const Tensor &, Tensor &, Tensor *, Tensor *) {
  return unimplemented("rkdDistanceLoss");
}

Status Backend::rkdAngleLoss(const RkdDesc &, const Tensor &, const Tensor &, Tensor &, Tensor *, Tensor *) {
  return unimplemented("rkdAngleLoss");
}

Status Backend::dkdLoss(const DkdDesc &, const Tensor &, const Tensor &, const Tensor &, Tensor &, Tensor *) {
  return unimplemented("dkdLoss");
}

Status Backend::logitLossGroup(const LogitLossGroupDesc &, const Tensor &, const std::vector<const Tensor *> &,
                               Tensor &, Tensor *) {
  return unimplemented("logitLossGroup");
}

Status Backend::ensembleCombine(const EnsembleCombineDesc &, const std::vector<const Tensor *> &, const Tensor *,
                                const Tensor *, Tensor &) {
  return unimplemented("ensembleCombine");
}

} // namespace kdrt

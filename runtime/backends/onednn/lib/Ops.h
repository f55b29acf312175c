//===- Ops.h - The oneDNN backend's op implementations ----------*- C++ -*-===//
//
// One function per Backend entry that runs on oneDNN primitives; the
// backend class forwards to these. Shapes are validated with the reference
// kernels' own checks, so both backends reject the same inputs with the
// same messages.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_ONEDNN_OPS_H
#define KDRT_ONEDNN_OPS_H

#include "DnnContext.h"

#include "kdrt/Backend.h"

namespace kdrt::onednn {

// Attention.cpp
Status multiHeadAttentionForward(DnnContext &ctx,
                                 const MultiHeadAttentionDesc &desc,
                                 const Tensor &input,
                                 const AttentionWeights &weights,
                                 Tensor &output);
Status multiHeadAttentionBackward(DnnContext &ctx,
                                  const MultiHeadAttentionDesc &desc,
                                  const Tensor &input,
                                  const AttentionWeights &weights,
                                  const Tensor &gradOutput, Tensor *gradInput,
                                  const AttentionWeightGrads &grads);

// Convolution.cpp
/// Whether oneDNN's effective CPU ISA has native bf16 convolutions
/// (avx512_core_bf16 or above).
bool nativeBf16();

Status conv2dForward(DnnContext &ctx, const Conv2dDesc &desc,
                     const Tensor &input, const Tensor &weight,
                     const Tensor *bias, const PostOpTensors &postOpTensors,
                     Tensor &output);
Status conv2dBackward(DnnContext &ctx, const Conv2dDesc &desc,
                      const Tensor &input, const Tensor &weight,
                      const Tensor *output, const Tensor &gradOutput,
                      Tensor *gradInput, Tensor *gradWeight, Tensor *gradBias);

// MatMul.cpp
Status linearForward(DnnContext &ctx, const LinearDesc &desc,
                     const Tensor &input, const Tensor &weight,
                     const Tensor *bias, const PostOpTensors &postOpTensors,
                     Tensor &output);
Status linearBackward(DnnContext &ctx, const LinearDesc &desc,
                      const Tensor &input, const Tensor &weight,
                      const Tensor *output, const Tensor &gradOutput,
                      Tensor *gradInput, Tensor *gradWeight, Tensor *gradBias);
Status matMulForward(DnnContext &ctx, const MatMulDesc &desc, const Tensor &lhs,
                     const Tensor &rhs, Tensor &output);
Status matMulBackward(DnnContext &ctx, const MatMulDesc &desc,
                      const Tensor &lhs, const Tensor &rhs,
                      const Tensor &gradOutput, Tensor *gradLhs,
                      Tensor *gradRhs);

// Normalization.cpp
Status batchNormForward(DnnContext &ctx, const BatchNormDesc &desc,
                        const Tensor &input, const Tensor &gamma,
                        const Tensor &beta, Tensor &runningMean,
                        Tensor &runningVar, Tensor &output);
Status batchNormBackward(DnnContext &ctx, const BatchNormDesc &desc,
                         const Tensor &input, const Tensor &gamma,
                         const Tensor &runningMean, const Tensor &runningVar,
                         const Tensor &gradOutput, Tensor *gradInput,
                         Tensor *gradGamma, Tensor *gradBeta);
Status layerNormForward(DnnContext &ctx, const LayerNormDesc &desc,
                        const Tensor &input, const Tensor *gamma,
                        const Tensor *beta, Tensor &output);
Status layerNormBackward(DnnContext &ctx, const LayerNormDesc &desc,
                         const Tensor &input, const Tensor *gamma,
                         const Tensor &gradOutput, Tensor *gradInput,
                         Tensor *gradGamma, Tensor *gradBeta);

// Eltwise.cpp
Status activationForward(DnnContext &ctx, const ActivationDesc &desc,
                         const Tensor &input, Tensor &output);
Status activationBackward(DnnContext &ctx, const ActivationDesc &desc,
                          const Tensor &input, const Tensor &gradOutput,
                          Tensor &gradInput);
Status softmaxForward(DnnContext &ctx, const SoftmaxDesc &desc,
                      const Tensor &input, Tensor &output);
Status softmaxBackward(DnnContext &ctx, const SoftmaxDesc &desc,
                       const Tensor &output, const Tensor &gradOutput,
                       Tensor &gradInput);
/// y = scale * x with an eltwise linear primitive (x and y may alias).
void scaleInPlace(DnnContext &ctx, const memory &data, float scale);

// Pooling.cpp
Status pool2dForward(DnnContext &ctx, const Pool2dDesc &desc,
                     const Tensor &input, Tensor &output);
Status pool2dBackward(DnnContext &ctx, const Pool2dDesc &desc,
                      const Tensor &input, const Tensor &gradOutput,
                      Tensor &gradInput);
Status bilinearResizeForward(DnnContext &ctx, const ResizeDesc &desc,
                             const Tensor &input, Tensor &output);
Status bilinearResizeBackward(DnnContext &ctx, const ResizeDesc &desc,
                              const Tensor &gradOutput, Tensor &gradInput);

// Binary.cpp
Status binaryForward(DnnContext &ctx, const BinaryDesc &desc,
                     const Tensor &lhs, const Tensor &rhs, Tensor &output);
Status binaryBackward(DnnContext &ctx, const BinaryDesc &desc,
                      const Tensor &lhs, const Tensor &rhs,
                      const Tensor &gradOutput, Tensor *gradLhs,
                      Tensor *gradRhs);
/// dst = sum of src over the dimensions where dst has size 1 (same rank).
void reduceSum(DnnContext &ctx, const memory &src, const memory &dst);
Status concatForward(DnnContext &ctx, const ConcatDesc &desc,
                     const std::vector<const Tensor *> &inputs,
                     Tensor &output);

// HostKernels.cpp: ops oneDNN 2.6 lacks, as OpenMP loops over samples or
// planes (the reference kernel runs on each slice, so the math is the
// oracle's).
Status reshapeCopy(const Tensor &from, Tensor &to);
Status dropoutForward(const DropoutDesc &desc, const Tensor &input,
                      Tensor &output, Tensor &mask);
Status dropoutBackward(const DropoutDesc &desc, const Tensor &mask,
                       const Tensor &gradOutput, Tensor &gradInput);
Status concatBackward(const ConcatDesc &desc, const Tensor &gradOutput,
                      const std::vector<Tensor *> &gradInputs);
Status tokensForward(const Tensor &input, Tensor &output);
Status tokensBackward(const Tensor &gradOutput, Tensor &gradInput);
Status slicedResizeForward(const ResizeDesc &desc, const Tensor &input,
                           Tensor &output);
Status slicedResizeBackward(const ResizeDesc &desc, const Tensor &gradOutput,
                            Tensor &gradInput);
Status adaptivePoolForward(const AdaptivePoolDesc &desc, const Tensor &input,
                           Tensor &output);
Status adaptivePoolBackward(const AdaptivePoolDesc &desc, const Tensor &input,
                            const Tensor &gradOutput, Tensor &gradInput);
// GroupNorm.cpp: row-major host loops (oneDNN 2.6 has no group norm).
Status groupNormForward(const GroupNormDesc &desc, const Tensor &input,
                        const Tensor *gamma, const Tensor *beta,
                        Tensor &output);
Status groupNormBackward(const GroupNormDesc &desc, const Tensor &input,
                         const Tensor *gamma, const Tensor &gradOutput,
                         Tensor *gradInput, Tensor *gradGamma,
                         Tensor *gradBeta);
Status l2NormalizeForward(const L2NormalizeDesc &desc, const Tensor &input,
                          Tensor &output);
Status l2NormalizeBackward(const L2NormalizeDesc &desc, const Tensor &input,
                           const Tensor &gradOutput, Tensor &gradInput);

} // namespace kdrt::onednn

#endif // KDRT_ONEDNN_OPS_H

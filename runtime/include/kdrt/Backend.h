//===- Backend.h - The interface every execution backend implements -*- C++ -*-===//
//
// How a backend slots in
// ----------------------
// A backend is one subclass of Backend (reference, oneDNN, cuDNN, ...). The
// plan executor owns one Backend and, for every op of a compiled plan, calls
// the entry that its OpKind maps to (table below). Nothing else in the
// runtime knows which backend runs.
//
//  * Memory. The executor never dereferences tensor data itself: it asks the
//    backend for buffers (allocate), fills them from host memory (copyIn) and
//    reads results back (copyOut). A host backend returns host pointers; a
//    device backend returns device pointers and may run its kernels
//    asynchronously on its own stream, as long as copyOut and synchronize()
//    observe every earlier call. Tensors are views over such buffers.
//  * Ops. Every entry takes the op's attribute struct (OpDesc.h) and its
//    tensors. Inputs are `const Tensor &`; optional inputs are `const Tensor *`
//    (nullptr = absent, e.g. a conv without bias). Outputs are `Tensor &`,
//    already allocated with the right shape by the executor. Backward entries
//    are stateless: they receive the forward's inputs again (and its outputs
//    where the math is cheaper from them) plus the output gradient, and write
//    gradients into the given tensors; a nullptr gradient is not wanted and
//    must not be computed. Gradients overwrite, they do not accumulate.
//  * Losses are fused: one call writes the value and the gradients.
//  * Errors. Entries validate shapes and return Status::invalidArgument with
//    a message naming the op and the offending shape; they never abort.
//  * Incremental backends. Every op entry defaults to returning
//    Status::unimplemented, so a new backend can start with a few ops; the
//    conformance suite compares each implemented entry against the
//    reference backend, whose kernels are the oracle.
//
// OpKind -> entry
//   Conv2d -> conv2d* (conv2dFused* with post-ops)
//   Linear -> linear* (linearFused* with post-ops)
//   BatchNorm -> batchNorm*           LayerNorm -> layerNorm*
//   (plan op fold_batch_norm) -> foldBatchNorm
//   (plan op batch_norm_scale_shift) -> batchNormScaleShift
//   GroupNorm -> groupNorm*           Relu|Gelu|Sigmoid|Tanh -> activation*
//   Softmax|LogSoftmax -> softmax*    MaxPool2d|AvgPool2d -> pool2d*
//   GlobalAvgPool|AdaptiveAvgPool|AdaptiveMaxPool -> adaptivePool*
//   Add|Mul -> binary*                Concat -> concat*
//   Reshape -> reshape*               Resize -> resize*
//   Dropout -> dropout*               MatMul -> matMul*
//   L2Normalize -> l2Normalize*       MultiHeadAttention -> multiHeadAttention*
//   AttentionPool -> attentionPool*   Tokens -> tokens*
//   ClsTokenPrepend -> clsTokenPrepend*
//   PositionEmbeddingAdd -> positionEmbeddingAdd*
//   SelectToken -> selectToken*       CrossEntropyLoss -> crossEntropyLoss
//   KlDivLoss -> klDivLoss            MseLoss|L1Loss|SmoothL1Loss -> regressionLoss
//   CosineLoss -> cosineLoss          AttentionTransferLoss -> attentionTransferLoss
//   RkdDistanceLoss -> rkdDistanceLoss  RkdAngleLoss -> rkdAngleLoss
//   DkdLoss -> dkdLoss                LogitLossGroup -> logitLossGroup
//   ensemble_combine -> ensembleCombine
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_BACKEND_H
#define KDRT_BACKEND_H

#include "kdrt/OpDesc.h"
#include "kdrt/OpKind.h"
#include "kdrt/Status.h"
#include "kdrt/Tensor.h"

#include <cstddef>
#include <vector>

namespace kdrt {

/// Weights of multi-head self-attention; every matrix is [D, D] (out, in),
/// every bias [D] and optional.
struct AttentionWeights {
  const Tensor *queryWeight = nullptr, *queryBias = nullptr;
  const Tensor *keyWeight = nullptr, *keyBias = nullptr;
  const Tensor *valueWeight = nullptr, *valueBias = nullptr;
  const Tensor *outputWeight = nullptr, *outputBias = nullptr;
};

/// Gradients of AttentionWeights; nullptr entries are not wanted.
struct AttentionWeightGrads {
  Tensor *queryWeight = nullptr, *queryBias = nullptr;
  Tensor *keyWeight = nullptr, *keyBias = nullptr;
  Tensor *valueWeight = nullptr, *valueBias = nullptr;
  Tensor *outputWeight = nullptr, *outputBias = nullptr;
};

/// The shape checks every backend's multi-head attention makes: a rank-3
/// input whose width the heads divide, [D, D] projection weights (all four
/// required) and [D] biases where present.
Status checkAttentionWeights(const MultiHeadAttentionDesc &desc,
                             const Tensor &input,
                             const AttentionWeights &weights);

/// The tensors that a post-op chain reads, consumed in chain order: each
/// Sum takes the next residual (shaped like the output), each ScaleShift the
/// next scale and shift ([O], O = output channels).
struct PostOpTensors {
  std::vector<const Tensor *> residuals;
  std::vector<const Tensor *> scales;
  std::vector<const Tensor *> shifts;
};

class Backend {
public:
  virtual ~Backend();

  /// Short stable name: "reference", "onednn", "cudnn".
  virtual const char *name() const = 0;

  /// Whether the entries that take activations (conv2d, batch norm,
  /// pooling, activations, add / mul of equal shapes) accept rank-4 tensors
  /// in Layout::ChannelsLast. The executor places activations channels-last
  /// only where this says so (runtime/exec/lib/LayoutAssignment.cpp); every
  /// other entry always sees row-major tensors.
  virtual bool acceptsChannelsLast() const { return false; }

  //===--------------------------------------------------------------------===//
  // Memory
  //===--------------------------------------------------------------------===//

  /// Allocates `bytes` of backend memory, suitably aligned for fp32 vectors.
  virtual Status allocate(size_t bytes, void **buffer) = 0;
  /// Frees memory from allocate(); nullptr is a no-op.
  virtual void deallocate(void *buffer) = 0;
  /// Host -> backend memory.
  virtual Status copyIn(void *dst, const void *hostSrc, size_t bytes) = 0;
  /// Backend -> host memory; waits for the kernels that write `src`.
  virtual Status copyOut(void *hostDst, const void *src, size_t bytes) = 0;
  /// Waits until every call issued so far has finished.
  virtual Status synchronize() { return Status::success(); }

  //===--------------------------------------------------------------------===//
  // Layers
  //===--------------------------------------------------------------------===//

  virtual Status conv2dForward(const Conv2dDesc &desc, const Tensor &input,
                               const Tensor &weight, const Tensor *bias,
                               Tensor &output);
  virtual Status conv2dBackward(const Conv2dDesc &desc, const Tensor &input,
                                const Tensor &weight,
                                const Tensor &gradOutput, Tensor *gradInput,
                                Tensor *gradWeight, Tensor *gradBias);

  /// Fused conv: conv + bias, then desc.postOps in order, in one call; the
  /// result equals the unfused sequence of ops. The plain entries above
  /// reject a non-empty chain, so a post-op is never silently dropped.
  virtual Status conv2dFusedForward(const Conv2dDesc &desc,
                                    const Tensor &input, const Tensor &weight,
                                    const Tensor *bias,
                                    const PostOpTensors &postOpTensors,
                                    Tensor &output);
  /// Backward of a fused conv whose chain is one activation that its own
  /// output determines the slope of (relu, sigmoid, tanh), e.g. conv+relu in
  /// training. Contract: `output` is the forward's post-activation output;
  /// the gradient is first multiplied by the activation's slope computed from
  /// it (relu: output > 0), then goes through the conv backward. Any other
  /// chain (gelu, sum, scale-shift) is an inference-only fusion and returns
  /// invalidArgument: training keeps those ops unfused.
  virtual Status conv2dFusedBackward(const Conv2dDesc &desc,
                                     const Tensor &input,
                                     const Tensor &weight,
                                     const Tensor &output,
                                     const Tensor &gradOutput,
                                     Tensor *gradInput, Tensor *gradWeight,
                                     Tensor *gradBias);

  virtual Status linearForward(const LinearDesc &desc, const Tensor &input,
                               const Tensor &weight, const Tensor *bias,
                               Tensor &output);
  virtual Status linearBackward(const LinearDesc &desc, const Tensor &input,
                                const Tensor &weight,
                                const Tensor &gradOutput, Tensor *gradInput,
                                Tensor *gradWeight, Tensor *gradBias);

  /// As conv2dFusedForward / conv2dFusedBackward; the channel of the
  /// post-ops is the last dimension.
  virtual Status linearFusedForward(const LinearDesc &desc,
                                    const Tensor &input, const Tensor &weight,
                                    const Tensor *bias,
                                    const PostOpTensors &postOpTensors,
                                    Tensor &output);
  virtual Status linearFusedBackward(const LinearDesc &desc,
                                     const Tensor &input,
                                     const Tensor &weight,
                                     const Tensor &output,
                                     const Tensor &gradOutput,
                                     Tensor *gradInput, Tensor *gradWeight,
                                     Tensor *gradBias);

  /// In training mode runningMean/runningVar are updated in place.
  virtual Status batchNormForward(const BatchNormDesc &desc,
                                  const Tensor &input, const Tensor &gamma,
                                  const Tensor &beta, Tensor &runningMean,
                                  Tensor &runningVar, Tensor &output);
  /// Training mode differentiates through the batch statistics (recomputed
  /// from input); inference mode uses the running statistics.
  virtual Status batchNormBackward(const BatchNormDesc &desc,
                                   const Tensor &input, const Tensor &gamma,
                                   const Tensor &runningMean,
                                   const Tensor &runningVar,
                                   const Tensor &gradOutput, Tensor *gradInput,
                                   Tensor *gradGamma, Tensor *gradBeta);

  /// Folds an inference batch norm into the layer before it: with
  /// s = gamma / sqrt(var + eps), foldedWeight[o, ...] = weight[o, ...] * s[o]
  /// and foldedBias = (bias - mean) * s + beta (bias 0 when absent), so the
  /// layer with the folded weights computes batch_norm(layer(x)) with the
  /// running statistics. `weight` is [O, ...] (conv [O, I/g, kh, kw],
  /// linear [O, I]), the vectors [O]. Not differentiated: it runs once per
  /// export, on trained parameters.
  virtual Status foldBatchNorm(const FoldBatchNormDesc &desc,
                               const Tensor &weight, const Tensor *bias,
                               const Tensor &gamma, const Tensor &beta,
                               const Tensor &runningMean,
                               const Tensor &runningVar, Tensor &foldedWeight,
                               Tensor &foldedBias);
  /// An inference batch norm as a scale_shift post-op's operands:
  /// scale = gamma / sqrt(var + eps), shift = beta - mean * scale, all [C],
  /// so that x * scale + shift is the batch norm of x on the running
  /// statistics. Not differentiated: it serves frozen and inference layers.
  virtual Status batchNormScaleShift(const BatchNormScaleShiftDesc &desc,
                                     const Tensor &gamma, const Tensor &beta,
                                     const Tensor &runningMean,
                                     const Tensor &runningVar, Tensor &scale,
                                     Tensor &shift);
  virtual Status layerNormForward(const LayerNormDesc &desc,
                                  const Tensor &input, const Tensor *gamma,
                                  const Tensor *beta, Tensor &output);
  virtual Status layerNormBackward(const LayerNormDesc &desc,
                                   const Tensor &input, const Tensor *gamma,
                                   const Tensor &gradOutput, Tensor *gradInput,
                                   Tensor *gradGamma, Tensor *gradBeta);

  virtual Status groupNormForward(const GroupNormDesc &desc,
                                  const Tensor &input, const Tensor *gamma,
                                  const Tensor *beta, Tensor &output);
  virtual Status groupNormBackward(const GroupNormDesc &desc,
                                   const Tensor &input, const Tensor *gamma,
                                   const Tensor &gradOutput, Tensor *gradInput,
                                   Tensor *gradGamma, Tensor *gradBeta);

  //===--------------------------------------------------------------------===//
  // Elementwise and softmax
  //===--------------------------------------------------------------------===//

  virtual Status activationForward(const ActivationDesc &desc,
                                   const Tensor &input, Tensor &output);
  virtual Status activationBackward(const ActivationDesc &desc,
                                    const Tensor &input,
                                    const Tensor &gradOutput,
                                    Tensor &gradInput);

  virtual Status softmaxForward(const SoftmaxDesc &desc, const Tensor &input,
                                Tensor &output);
  /// Takes the forward output (probabilities or log-probabilities).
  virtual Status softmaxBackward(const SoftmaxDesc &desc,
                                 const Tensor &output,
                                 const Tensor &gradOutput, Tensor &gradInput);

  //===--------------------------------------------------------------------===//
  // Pooling and resizing
  //===--------------------------------------------------------------------===//

  virtual Status pool2dForward(const Pool2dDesc &desc, const Tensor &input,
                               Tensor &output);
  /// Max pooling routes the gradient to the first maximum of each window.
  virtual Status pool2dBackward(const Pool2dDesc &desc, const Tensor &input,
                                const Tensor &gradOutput, Tensor &gradInput);

  virtual Status adaptivePoolForward(const AdaptivePoolDesc &desc,
                                     const Tensor &input, Tensor &output);
  virtual Status adaptivePoolBackward(const AdaptivePoolDesc &desc,
                                      const Tensor &input,
                                      const Tensor &gradOutput,
                                      Tensor &gradInput);

  virtual Status resizeForward(const ResizeDesc &desc, const Tensor &input,
                               Tensor &output);
  virtual Status resizeBackward(const ResizeDesc &desc,
                                const Tensor &gradOutput, Tensor &gradInput);

  //===--------------------------------------------------------------------===//
  // Tensor plumbing
  //===--------------------------------------------------------------------===//

  virtual Status binaryForward(const BinaryDesc &desc, const Tensor &lhs,
                               const Tensor &rhs, Tensor &output);
  virtual Status binaryBackward(const BinaryDesc &desc, const Tensor &lhs,
                                const Tensor &rhs, const Tensor &gradOutput,
                                Tensor *gradLhs, Tensor *gradRhs);

  virtual Status concatForward(const ConcatDesc &desc,
                               const std::vector<const Tensor *> &inputs,
                               Tensor &output);
  /// Every gradInputs[i] must be given: its shape tells where input i's
  /// slice of the concatenation lies.
  virtual Status concatBackward(const ConcatDesc &desc,
                                const Tensor &gradOutput,
                                const std::vector<Tensor *> &gradInputs);

  virtual Status reshapeForward(const ReshapeDesc &desc, const Tensor &input,
                                Tensor &output);
  virtual Status reshapeBackward(const ReshapeDesc &desc,
                                 const Tensor &gradOutput, Tensor &gradInput);

  /// Writes the output and the mask (0 or 1/(1-p) per element).
  virtual Status dropoutForward(const DropoutDesc &desc, const Tensor &input,
                                Tensor &output, Tensor &mask);
  virtual Status dropoutBackward(const DropoutDesc &desc, const Tensor &mask,
                                 const Tensor &gradOutput, Tensor &gradInput);

  virtual Status matMulForward(const MatMulDesc &desc, const Tensor &lhs,
                               const Tensor &rhs, Tensor &output);
  virtual Status matMulBackward(const MatMulDesc &desc, const Tensor &lhs,
                                const Tensor &rhs, const Tensor &gradOutput,
                                Tensor *gradLhs, Tensor *gradRhs);

  virtual Status l2NormalizeForward(const L2NormalizeDesc &desc,
                                    const Tensor &input, Tensor &output);
  virtual Status l2NormalizeBackward(const L2NormalizeDesc &desc,
                                     const Tensor &input,
                                     const Tensor &gradOutput,
                                     Tensor &gradInput);

  //===--------------------------------------------------------------------===//
  // Attention and tokens
  //===--------------------------------------------------------------------===//

  virtual Status multiHeadAttentionForward(const MultiHeadAttentionDesc &desc,
                                           const Tensor &input,
                                           const AttentionWeights &weights,
                                           Tensor &output);
  virtual Status multiHeadAttentionBackward(
      const MultiHeadAttentionDesc &desc, const Tensor &input,
      const AttentionWeights &weights, const Tensor &gradOutput,
      Tensor *gradInput, const AttentionWeightGrads &gradWeights);

  virtual Status attentionPoolForward(const AttentionPoolDesc &desc,
                                      const Tensor &input,
                                      const Tensor &weight, const Tensor *bias,
                                      Tensor &output);
  virtual Status attentionPoolBackward(const AttentionPoolDesc &desc,
                                       const Tensor &input,
                                       const Tensor &weight,
                                       const Tensor *bias,
                                       const Tensor &gradOutput,
                                       Tensor *gradInput, Tensor *gradWeight,
                                       Tensor *gradBias);

  virtual Status tokensForward(const TokensDesc &desc, const Tensor &input,
                               Tensor &output);
  virtual Status tokensBackward(const TokensDesc &desc,
                                const Tensor &gradOutput, Tensor &gradInput);

  virtual Status clsTokenPrependForward(const ClsTokenPrependDesc &desc,
                                        const Tensor &input,
                                        const Tensor &token, Tensor &output);
  virtual Status clsTokenPrependBackward(const ClsTokenPrependDesc &desc,
                                         const Tensor &gradOutput,
                                         Tensor *gradInput, Tensor *gradToken);

  virtual Status
  positionEmbeddingAddForward(const PositionEmbeddingAddDesc &desc,
                              const Tensor &input, const Tensor &embedding,
                              Tensor &output);
  virtual Status
  positionEmbeddingAddBackward(const PositionEmbeddingAddDesc &desc,
                               const Tensor &gradOutput, Tensor *gradInput,
                               Tensor *gradEmbedding);

  virtual Status selectTokenForward(const SelectTokenDesc &desc,
                                    const Tensor &input, Tensor &output);
  virtual Status selectTokenBackward(const SelectTokenDesc &desc,
                                     const Tensor &gradOutput,
                                     Tensor &gradInput);

  //===--------------------------------------------------------------------===//
  // Losses: `loss` is a one-element tensor.
  //===--------------------------------------------------------------------===//

  virtual Status crossEntropyLoss(const CrossEntropyDesc &desc,
                                  const Tensor &logits, const Tensor &targets,
                                  Tensor &loss, Tensor *gradLogits);
  virtual Status klDivLoss(const KlDivDesc &desc, const Tensor &studentLogits,
                           const Tensor &teacherLogits, Tensor &loss,
                           Tensor *gradStudent, Tensor *gradTeacher);
  virtual Status regressionLoss(const RegressionLossDesc &desc,
                                const Tensor &input, const Tensor &target,
                                Tensor &loss, Tensor *gradInput,
                                Tensor *gradTarget);
  virtual Status cosineLoss(const CosineLossDesc &desc, const Tensor &lhs,
                            const Tensor &rhs, Tensor &loss, Tensor *gradLhs,
                            Tensor *gradRhs);
  virtual Status attentionTransferLoss(const AttentionTransferDesc &desc,
                                       const Tensor &student,
                                       const Tensor &teacher, Tensor &loss,
                                       Tensor *gradStudent,
                                       Tensor *gradTeacher);
  /// Either side of RKD may be trainable (a fusion module or an adapter
  /// on the teacher side); each gradient is written when given.
  virtual Status rkdDistanceLoss(const RkdDesc &desc, const Tensor &student,
                                 const Tensor &teacher, Tensor &loss,
                                 Tensor *gradStudent, Tensor *gradTeacher);
  virtual Status rkdAngleLoss(const RkdDesc &desc, const Tensor &student,
                              const Tensor &teacher, Tensor &loss,
                              Tensor *gradStudent, Tensor *gradTeacher);
  virtual Status dkdLoss(const DkdDesc &desc, const Tensor &studentLogits,
                         const Tensor &teacherLogits, const Tensor &labels,
                         Tensor &loss, Tensor *gradStudent);
  /// CE and KL terms on the same logits with one shared log-softmax per
  /// temperature (LogitLossGroupDesc): `targets` has one tensor per term,
  /// `losses` is [count] and receives each term's value; `gradLogits`, when
  /// given, the weighted sum of the terms' gradients.
  virtual Status logitLossGroup(const LogitLossGroupDesc &desc,
                                const Tensor &logits,
                                const std::vector<const Tensor *> &targets,
                                Tensor &losses, Tensor *gradLogits);

  //===--------------------------------------------------------------------===//
  // Ensembles
  //===--------------------------------------------------------------------===//

  /// The members' logits [B, K] combined into the ensemble's logits at the
  /// desc's temperature (EnsembleCombineDesc). `weights` ([M]) is required
  /// for the Fixed weighting, `labels` ([B], class indices) for
  /// ConfidenceAware; both are ignored otherwise.
  virtual Status ensembleCombine(const EnsembleCombineDesc &desc,
                                 const std::vector<const Tensor *> &members,
                                 const Tensor *weights, const Tensor *labels,
                                 Tensor &output);

protected:
  /// What every op entry returns until a backend overrides it.
  Status unimplemented(const char *entry) const;
};

} // namespace kdrt

#endif // KDRT_BACKEND_H

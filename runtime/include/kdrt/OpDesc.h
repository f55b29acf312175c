//===- OpDesc.h - Attributes of runtime ops ---------------------*- C++ -*-===//
//
// Plain attribute structs, one per op family. They hold only what is fixed at
// compile time (strides, epsilons, temperatures); tensors are passed beside
// them. Plain data on purpose: a plan loader fills them field by field, and a
// device backend can copy them into its own descriptors.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_OPDESC_H
#define KDRT_OPDESC_H

#include <cstdint>

namespace kdrt {

enum class ActivationKind { Relu, Gelu, Sigmoid, Tanh };

//===----------------------------------------------------------------------===//
// Post-ops: what a conv or linear applies to its result (after the bias) in
// the same call, in order. Fusing them saves a pass over the output; every
// backend must give the same result as the unfused sequence of ops.
//===----------------------------------------------------------------------===//

enum class PostOpKind {
  /// y = act(y).
  Activation,
  /// y = y + scale * residual, residual shaped like the output (the add of
  /// a residual block). Reads the next residual of PostOpTensors.
  Sum,
  /// y = y * scale[c] + shift[c] per output channel: an inference batch
  /// norm folded to scale = gamma / sqrt(var + eps), shift = beta - mean *
  /// scale. Reads the next scale and shift of PostOpTensors.
  ScaleShift,
};

struct PostOp {
  PostOpKind kind = PostOpKind::Activation;
  ActivationKind activation = ActivationKind::Relu;
  double sumScale = 1.0;
};

/// An ordered chain of post-ops. A fixed capacity keeps the op descriptors
/// plain data, copyable into a device backend's own descriptors.
struct PostOpChain {
  static constexpr int kCapacity = 6;
  PostOp ops[kCapacity];
  int count = 0;

  bool empty() const { return count == 0; }
  /// Appends `op`; false (and no change) when the chain is full.
  bool append(const PostOp &op) {
    if (count == kCapacity)
      return false;
    ops[count++] = op;
    return true;
  }
  bool appendActivation(ActivationKind kind) {
    PostOp op;
    op.kind = PostOpKind::Activation;
    op.activation = kind;
    return append(op);
  }
  bool appendSum(double scale = 1.0) {
    PostOp op;
    op.kind = PostOpKind::Sum;
    op.sumScale = scale;
    return append(op);
  }
  bool appendScaleShift() {
    PostOp op;
    op.kind = PostOpKind::ScaleShift;
    return append(op);
  }
};

/// The arithmetic a forward convolution may use. A permission, not a demand:
/// Bf16 lets a backend read the input and weight as bf16 (accumulating in
/// fp32, bias, post-ops and output in fp32) where it has native bf16
/// convolutions (oneDNN on a CPU with AVX512-BF16 or better); the reference
/// and cuDNN backends, and oneDNN without native bf16, compute in fp32. The
/// compiler sets it only on a frozen teacher's forward in a training stage
/// (`kdc --teacher-precision bf16`); backward entries ignore it.
enum class ConvPrecision { Fp32, Bf16 };

/// conv2d: input [N, C, H, W], weight [O, C/groups, KH, KW], bias [O].
struct Conv2dDesc {
  int64_t strideH = 1, strideW = 1;
  int64_t padH = 0, padW = 0;
  int64_t dilationH = 1, dilationW = 1;
  int64_t groups = 1;
  /// Applied after the bias; see Backend::conv2dFusedForward.
  PostOpChain postOps;
  /// The plan's `precision` attribute of conv2d.fwd.
  ConvPrecision precision = ConvPrecision::Fp32;
};

/// linear: input [..., I], weight [O, I], bias [O] -> [..., O]. The post-ops'
/// channel is the last dimension.
struct LinearDesc {
  PostOpChain postOps;
};

/// batch_norm: input [N, C, ...]; gamma, beta, running stats [C].
/// Training normalizes with batch statistics and updates the running stats
/// as PyTorch does (unbiased variance, running = (1-m)*running + m*batch).
struct BatchNormDesc {
  bool training = true;
  double eps = 1e-5;
  double momentum = 0.1;
};

/// fold_batch_norm: an inference batch norm folded into the convolution or
/// linear layer before it (computed once, when a .kdx export is written).
struct FoldBatchNormDesc {
  double eps = 1e-5;
};

/// batch_norm_scale_shift: an inference batch norm as the per-channel scale
/// and shift that a conv / linear scale_shift post-op applies.
struct BatchNormScaleShiftDesc {
  double eps = 1e-5;
};

/// layer_norm over the trailing `normalizedRank` dimensions: 1 for tokens
/// [B, N, D], 3 for images [N, C, H, W] (over C, H, W). gamma and beta, when
/// given, have the shape of those trailing dimensions.
struct LayerNormDesc {
  int64_t normalizedRank = 1;
  double eps = 1e-5;
};

/// group_norm: input [N, C, ...], C divisible by groups; gamma, beta [C].
struct GroupNormDesc {
  int64_t groups = 1;
  double eps = 1e-5;
};

/// Elementwise activation; gelu is the exact erf form.
struct ActivationDesc {
  ActivationKind kind = ActivationKind::Relu;
};

/// softmax / log_softmax of input / temperature over the last dimension.
struct SoftmaxDesc {
  double temperature = 1.0;
  bool log = false;
};

enum class PoolMode { Max, Avg };

/// 2-D pooling on [N, C, H, W]. Padding is implicit -inf for max and is
/// excluded from the divisor of avg unless countIncludePad.
struct Pool2dDesc {
  PoolMode mode = PoolMode::Max;
  int64_t kernelH = 2, kernelW = 2;
  int64_t strideH = 2, strideW = 2;
  int64_t padH = 0, padW = 0;
  bool countIncludePad = false;
};

/// Adaptive pooling to [N, C, outputH, outputW] with PyTorch's bins:
/// [floor(i*H/outH), ceil((i+1)*H/outH)). GlobalAvgPool is {Avg, 1, 1}.
struct AdaptivePoolDesc {
  PoolMode mode = PoolMode::Avg;
  int64_t outputH = 1, outputW = 1;
};

enum class BinaryKind { Add, Mul };

/// out = lhs (op) rhs; rhs broadcasts to lhs numpy-style (right-aligned,
/// each dimension equal or 1), e.g. [C, 1, 1] or [N, C, 1, 1] over
/// [N, C, H, W]. The output has lhs's shape.
struct BinaryDesc {
  BinaryKind kind = BinaryKind::Add;
};

/// concat along `axis` (1 = channels).
struct ConcatDesc {
  int64_t axis = 1;
};

/// reshape / flatten: the output tensor's shape is the target shape.
struct ReshapeDesc {};

enum class ResizeMode { Bilinear, Nearest, Area };

/// resize [N, C, H, W] -> [N, C, outputH, outputW]. Bilinear uses
/// align_corners=false (half-pixel centers, as PyTorch); nearest uses
/// floor(dst * in / out); area equals adaptive average pooling.
struct ResizeDesc {
  ResizeMode mode = ResizeMode::Bilinear;
  int64_t outputH = 1, outputW = 1;
};

/// dropout with drop probability p. The mask element i is a pure function of
/// (seed, i) (see dropoutKeeps() in the reference backend), so every backend
/// draws the same mask; the forward writes it out and the backward reads it.
struct DropoutDesc {
  double p = 0.5;
  uint64_t seed = 0;
};

/// matmul: [M, K] x [K, N] or batched [B, M, K] x [B, K, N]; the transpose
/// flags swap the last two dimensions of an operand.
struct MatMulDesc {
  bool transposeLhs = false;
  bool transposeRhs = false;
};

/// Per-sample L2 normalization over all non-batch dimensions:
/// x / max(||x||, eps), as torch.nn.functional.normalize.
struct L2NormalizeDesc {
  double eps = 1e-12;
};

/// Multi-head self-attention on [B, N, D]: Q, K, V = x W^T + b (weights
/// [D, D]), per head softmax(Q K^T / sqrt(D/heads)) V, then the output
/// projection.
struct MultiHeadAttentionDesc {
  int64_t numHeads = 1;
};

/// GC-block attention pooling: logits = conv1x1_{C->1}(x) (weight [1, C, 1, 1],
/// bias [1]), softmax over H*W, out[n, c] = sum_j p_j x[n, c, j]
/// -> [N, C, 1, 1].
struct AttentionPoolDesc {};

/// tokens: [N, C, H, W] -> [N, H*W, C].
struct TokensDesc {};

/// cls-token prepend: x [N, L, D], token [1, 1, D] -> [N, L + 1, D].
struct ClsTokenPrependDesc {};

/// position-embedding add: x [N, L, D] + embedding [1, L, D].
struct PositionEmbeddingAddDesc {};

/// select token `index` of [N, L, D] -> [N, D] (negative counts from the end).
struct SelectTokenDesc {
  int64_t index = 0;
};

//===----------------------------------------------------------------------===//
// Losses. Each writes its value into a one-element tensor and, in the same
// call, the gradient of (gradScale * value) w.r.t. each input whose gradient
// tensor is given. gradScale lets the compiler fold a loss weight in.
//===----------------------------------------------------------------------===//

/// Cross-entropy of logits [B, K], mean over the batch. Targets are labels
/// [B] (integral values stored as fp32) or, with softTargets, probabilities
/// [B, K]. Label smoothing mixes the one-hot target with the uniform one.
struct CrossEntropyDesc {
  double labelSmoothing = 0.0;
  bool softTargets = false;
  double gradScale = 1.0;
};

enum class Reduction { BatchMean, Sum, Mean };

/// KL(softmax(teacher/T) || softmax(student/T)) on logits [B, K]; summed,
/// then divided by B (BatchMean), 1 (Sum) or B*K (Mean); times T^2 when
/// scaleByTemperatureSquared.
struct KlDivDesc {
  double temperature = 1.0;
  bool scaleByTemperatureSquared = true;
  Reduction reduction = Reduction::BatchMean;
  double gradScale = 1.0;
};

enum class RegressionKind { Mse, L1, SmoothL1 };

/// Elementwise regression losses, mean over all elements. SmoothL1 is
/// 0.5 d^2 / beta for |d| < beta and |d| - 0.5 beta otherwise.
struct RegressionLossDesc {
  RegressionKind kind = RegressionKind::Mse;
  double beta = 1.0;
  double gradScale = 1.0;
};

/// mean over the batch of 1 - cos(a_i, b_i), samples flattened;
/// the norms are clamped below by eps.
struct CosineLossDesc {
  double eps = 1e-8;
  double gradScale = 1.0;
};

/// Attention transfer: Q = normalize_L2(mean_c |A_c|^p) flattened per sample
/// (student and teacher may differ in channels, not in H, W); the loss is the
/// mean over batch and positions of (Q_s - Q_t)^2.
struct AttentionTransferDesc {
  double p = 2.0;
  double eps = 1e-12;
  double gradScale = 1.0;
};

/// RKD on embeddings [B, D] (student and teacher widths may differ).
/// Distance: pairwise distances divided by their mean over nonzero pairs.
/// Angle: cosines <e_ji, e_ki> of unit difference vectors. Both compare
/// student and teacher potentials with smooth-L1 (beta 1), mean over entries.
struct RkdDesc {
  double gradScale = 1.0;
};

/// Decoupled KD (Zhao et al. 2022) on logits [B, K] with labels [B]:
/// alpha * TCKD + beta * NCKD, each T^2-scaled and divided by B.
struct DkdDesc {
  double alpha = 1.0;
  double beta = 8.0;
  double temperature = 4.0;
  double gradScale = 1.0;
};

/// One term of a logit loss group: a cross-entropy or a KL divergence on the
/// group's shared logits, with the fields of CrossEntropyDesc / KlDivDesc.
/// `weight` is the term's gradScale: its weight in the stage's loss.
enum class LogitLossTermKind { CrossEntropy, KlDiv };

struct LogitLossTerm {
  LogitLossTermKind kind = LogitLossTermKind::CrossEntropy;
  /// KlDiv only; cross-entropy works on the logits at temperature 1.
  double temperature = 1.0;
  bool scaleByTemperatureSquared = true;
  Reduction reduction = Reduction::BatchMean;
  /// CrossEntropy only.
  double labelSmoothing = 0.0;
  bool softTargets = false;
  double weight = 1.0;
};

/// Several CE / KL losses of the same logits [B, K] in one call: the
/// log-softmax of the logits is computed once per distinct temperature and
/// shared by the terms at that temperature. Term i reads targets[i] (labels,
/// probabilities or teacher logits) and writes its value, exactly as the
/// separate loss call would, to losses[i]; the gradient is the sum over the
/// terms of weight * d(value)/d(logits). A teacher gradient is not offered:
/// only frozen targets are grouped. A fixed capacity keeps the descriptor
/// plain data, as PostOpChain.
struct LogitLossGroupDesc {
  static constexpr int kCapacity = 8;
  LogitLossTerm terms[kCapacity];
  int count = 0;

  /// Appends `term`; false (and no change) when the group is full.
  bool append(const LogitLossTerm &term) {
    if (count == kCapacity)
      return false;
    terms[count++] = term;
    return true;
  }
};

/// How an ensemble weighs its members (ensembleCombine): with the given
/// weights (equal, a fixed list or accuracy-based, all decided before the
/// step), or per sample from the members' predictions.
enum class EnsembleWeighting {
  /// w_m = weights[m] / sum_j weights[j].
  Fixed,
  /// w_m = (1 - H_m / sum_j H_j) / (M - 1), H_m the entropy of member m's
  /// prediction at the temperature; equal weights when M = 1 or every
  /// H_m = 0.
  Entropy,
  /// CA-MKD: w_m = (1 - softmax_m(CE_m)) / (M - 1), CE_m member m's
  /// cross-entropy with the label at temperature 1 (softmax over the
  /// members); w = 1 when M = 1.
  ConfidenceAware,
};

/// The ensemble's prediction p = sum_m w_m softmax(member_m / T) written as
/// logits at temperature T: output = T * log(p), so softmax(output / T) = p
/// exactly and the KL / DKD kernels read the mixture as they read one
/// teacher's logits. Forward only: the teacher side carries no gradient.
struct EnsembleCombineDesc {
  EnsembleWeighting weighting = EnsembleWeighting::Fixed;
  double temperature = 1.0;
};

} // namespace kdrt

#endif // KDRT_OPDESC_H

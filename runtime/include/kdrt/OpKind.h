//===- OpKind.h - The closed set of runtime ops -----------------*- C++ -*-===//
//
// Every op a compiled plan can name. The compiler lowers a checked pipeline
// one-to-one onto these; a plan stores the spelling from opKindName(), so
// spellings are stable and only ever appended to.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_OPKIND_H
#define KDRT_OPKIND_H

#include <optional>
#include <string_view>

namespace kdrt {

enum class OpKind {
  // Layers.
  Conv2d,
  Linear,
  BatchNorm,
  LayerNorm,
  GroupNorm,
  // Elementwise activations (one Backend entry, ActivationDesc::kind).
  Relu,
  Gelu,
  Sigmoid,
  Tanh,
  // Softmax family over the last dimension, with temperature.
  Softmax,
  LogSoftmax,
  // Pooling.
  MaxPool2d,
  AvgPool2d,
  GlobalAvgPool,
  AdaptiveAvgPool,
  AdaptiveMaxPool,
  // Tensor plumbing.
  Add,
  Mul,
  Concat,
  Reshape,
  Resize,
  Dropout,
  MatMul,
  L2Normalize,
  // Attention and token ops.
  MultiHeadAttention,
  AttentionPool,
  Tokens,
  ClsTokenPrepend,
  PositionEmbeddingAdd,
  SelectToken,
  // Losses: fused value + gradient.
  CrossEntropyLoss,
  KlDivLoss,
  MseLoss,
  L1Loss,
  SmoothL1Loss,
  CosineLoss,
  AttentionTransferLoss,
  RkdDistanceLoss,
  RkdAngleLoss,
  DkdLoss,
};

/// The stable spelling used in plans, e.g. "conv2d", "kl_div_loss".
std::string_view opKindName(OpKind kind);
/// Inverse of opKindName(); std::nullopt for an unknown spelling.
std::optional<OpKind> parseOpKind(std::string_view name);
/// True for the fused loss kinds (they have no separate backward entry).
bool isLoss(OpKind kind);

/// Number of enumerators, for iteration in tables and tests.
inline constexpr int kNumOpKinds = static_cast<int>(OpKind::DkdLoss) + 1;

} // namespace kdrt

#endif // KDRT_OPKIND_H

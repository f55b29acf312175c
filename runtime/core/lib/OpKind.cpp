//===- OpKind.cpp - Stable spellings of op kinds --------------------------===//

#include "kdrt/OpKind.h"

namespace kdrt {

namespace {
struct OpKindSpelling {
  OpKind kind;
  std::string_view name;
};

// Plans store these spellings: never rename one, only append.
constexpr OpKindSpelling kSpellings[] = {
    {OpKind::Conv2d, "conv2d"},
    {OpKind::Linear, "linear"},
    {OpKind::BatchNorm, "batch_norm"},
    {OpKind::LayerNorm, "layer_norm"},
    {OpKind::GroupNorm, "group_norm"},
    {OpKind::Relu, "relu"},
    {OpKind::Gelu, "gelu"},
    {OpKind::Sigmoid, "sigmoid"},
    {OpKind::Tanh, "tanh"},
    {OpKind::Softmax, "softmax"},
    {OpKind::LogSoftmax, "log_softmax"},
    {OpKind::MaxPool2d, "max_pool2d"},
    {OpKind::AvgPool2d, "avg_pool2d"},
    {OpKind::GlobalAvgPool, "global_avg_pool"},
    {OpKind::AdaptiveAvgPool, "adaptive_avg_pool"},
    {OpKind::AdaptiveMaxPool, "adaptive_max_pool"},
    {OpKind::Add, "add"},
    {OpKind::Mul, "mul"},
    {OpKind::Concat, "concat"},
    {OpKind::Reshape, "reshape"},
    {OpKind::Resize, "resize"},
    {OpKind::Dropout, "dropout"},
    {OpKind::MatMul, "matmul"},
    {OpKind::L2Normalize, "l2_normalize"},
    {OpKind::MultiHeadAttention, "multi_head_attention"},
    {OpKind::AttentionPool, "attention_pool"},
    {OpKind::Tokens, "tokens"},
    {OpKind::ClsTokenPrepend, "cls_token_prepend"},
    {OpKind::PositionEmbeddingAdd, "position_embedding_add"},
    {OpKind::SelectToken, "select_token"},
    {OpKind::CrossEntropyLoss, "cross_entropy_loss"},
    {OpKind::KlDivLoss, "kl_div_loss"},
    {OpKind::MseLoss, "mse_loss"},
    {OpKind::L1Loss, "l1_loss"},
    {OpKind::SmoothL1Loss, "smooth_l1_loss"},
    {OpKind::CosineLoss, "cosine_loss"},
    {OpKind::AttentionTransferLoss, "attention_transfer_loss"},
    {OpKind::RkdDistanceLoss, "rkd_distance_loss"},
    {OpKind::RkdAngleLoss, "rkd_angle_loss"},
    {OpKind::DkdLoss, "dkd_loss"},
};
static_assert(sizeof(kSpellings) / sizeof(kSpellings[0]) == kNumOpKinds,
              "every OpKind needs a spelling");
} // namespace

std::string_view opKindName(OpKind kind) {
  for (const OpKindSpelling &spelling : kSpellings)
    if (spelling.kind == kind)
      return spelling.name;
  return "unknown";
}

std::optional<OpKind> parseOpKind(std::string_view name) {
  for (const OpKindSpelling &spelling : kSpellings)
    if (spelling.name == name)
      return spelling.kind;
  return std::nullopt;
}

bool isLoss(OpKind kind) {
  return static_cast<int>(kind) >= static_cast<int>(OpKind::CrossEntropyLoss);
}

} // namespace kdrt

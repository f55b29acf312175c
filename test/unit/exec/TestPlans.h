//===- TestPlans.h - Small plans and data sets for executor tests -*- C++ -*-===//
//
// Plans built with the plan writer's structs, as the compiler would emit
// them, over a synthetic IDX data set of two separable classes (class 0
// bright on the left half, class 1 on the right half, with noise).
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TEST_EXEC_TESTPLANS_H
#define KDRT_TEST_EXEC_TESTPLANS_H

#include "kdrt/plan/PlanFormat.h"

#include <string>
#include <vector>

namespace kdrt::test {

inline constexpr int64_t kImageSize = 8;

/// Writes one IDX file of unsigned bytes.
void writeIdx(const std::string &path, const std::vector<uint32_t> &dims,
              const std::vector<uint8_t> &data);

/// Writes `train` (count images) and `t10k` (count / 2) IDX files into
/// `directory`.
void writeSeparableIdx(const std::string &directory, int64_t count,
                       uint64_t seed = 1);

struct PlanSettings {
  std::string dataPath; // the IDX directory
  int64_t epochs = 3;
  int64_t batch = 16;
  double lr = 0.1;
  uint64_t seed = 7;
};

/// reshape + linear + cross-entropy, SGD with momentum and a cosine
/// schedule; evaluation and export of model S after the stage.
plan::Plan makeLinearPlan(const PlanSettings &settings);
/// conv 3x3 + relu + max-pool + linear, the same loss and outputs.
plan::Plan makeConvPlan(const PlanSettings &settings);
/// makeConvPlan with two stages over the same graph: "warmup" (SGD with
/// momentum, cosine) then "finetune" (Adam, constant rate), for resuming.
plan::Plan makeTwoStagePlan(const PlanSettings &settings);
/// makeLinearPlan whose evaluation runs a residual conv block on
/// `channels` channels: conv a, then conv b with an inference batch norm,
/// the sum with a's output and a relu, then conv h to one channel and the
/// linear layer. `fused` writes b's chain as conv2d.fwd post-ops
/// [scale_shift, sum, relu] reading a batch_norm_scale_shift's outputs, else
/// as batch_norm.fwd, add.fwd and relu.fwd. The batch norm's parameters are
/// far from the identity.
plan::Plan makePostOpPlan(const PlanSettings &settings, int64_t channels,
                          bool fused);
/// A linear student distilled from a fixed linear teacher (weights in the
/// blob): 0.5 CE + 0.5 KL(T=2). `cached` puts the teacher in a teacher
/// cache program instead of the main program.
plan::Plan makeDistillPlan(const PlanSettings &settings, bool cached);

} // namespace kdrt::test

#endif // KDRT_TEST_EXEC_TESTPLANS_H

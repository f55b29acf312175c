//===- FrozenMarks.h - Attributes that carry freezing decisions -*- C++ -*-===//
//
// --kd-freeze-teachers decides what is frozen in each stage and records it
// as attributes; --kd-inline-models carries them onto the stage's
// parameters; --kd-autodiff reads them to decide which parameters train.
// The names live here so the three passes agree.
//
//===----------------------------------------------------------------------===//
#ifndef KD_TRANSFORMS_FROZENMARKS_H
#define KD_TRANSFORMS_FROZENMARKS_H

#include "kd/Dialect/KD/KDOps.h"

namespace kd {

/// Unit attribute on a `kd.apply` of a frozen model (a teacher, a frozen
/// student) and on every stage-level `kd.param` inlined from one, and on a
/// `kd.param` a `freeze` statement covers: no gradient flows into it.
inline constexpr llvm::StringLiteral kFrozenAttrName = "frozen";

/// String array on the `kd.apply` of a trained model: the parameters of it
/// that the stage's `freeze` statements keep fixed.
inline constexpr llvm::StringLiteral kFrozenParamsAttrName = "frozen_params";

/// Symbol reference on a pruned inference copy of a model: the model it was
/// cloned from.
inline constexpr llvm::StringLiteral kFrozenFromAttrName = "frozen_from";

/// Unit attribute on a `kd.batch_norm` that runs on its running statistics
/// even in a training stage (the batch norms of a frozen model).
inline constexpr llvm::StringLiteral kInferenceAttrName = "inference";

/// String attribute on a `kd.conv2d` / `kd.conv2d_fused` of a training stage
/// whose weight is frozen: the arithmetic its forward may use ("bf16"), set
/// by --kd-teacher-precision and carried onto `kdrt.conv2d.fwd`.
inline constexpr llvm::StringLiteral kPrecisionAttrName = "precision";

/// Whether the stage-level parameter `param` is trained by its stage: not
/// persistent state, and not frozen.
inline bool isTrainableParam(ParamOp param) {
  return param.getRole() != ParamRole::State && !param->hasAttr(kFrozenAttrName);
}

} // namespace kd

#endif // KD_TRANSFORMS_FROZENMARKS_H

//===- Initializers.h - Initial parameter values from a seed ----*- C++ -*-===//
//
// Each parameter draws from its own random stream, keyed by the plan's seed
// and a stable hash of the parameter's name. Values therefore do not depend
// on the order of the manifest, on which other parameters exist, or on the
// backend: the same seed gives the same initial weights everywhere.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_INITIALIZERS_H
#define KDRT_EXEC_INITIALIZERS_H

#include "kdrt/plan/PlanFormat.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::exec {

/// 64-bit FNV-1a of the name: stable across platforms and releases.
uint64_t stableNameHash(const std::string &name);

/// fan_in and fan_out as PyTorch computes them: [out, in, k...] gives
/// fan_in = in * prod(k), fan_out = out * prod(k); a vector has both equal
/// to its length.
std::pair<double, double> fansOf(const std::vector<int64_t> &shape);

/// The initial values of `parameter` under `init` (its blob is not read).
/// Throws plan::PlanError for a kaiming/xavier init of a parameter with a
/// zero fan.
std::vector<float> initialValues(const plan::ParameterSpec &parameter,
                                 uint64_t seed);

} // namespace kdrt::exec

#endif // KDRT_EXEC_INITIALIZERS_H

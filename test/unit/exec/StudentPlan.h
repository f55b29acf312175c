//===- StudentPlan.h - The stdlib Student as a hand-written plan -*- C++ -*-===//
//
// The plan the compiler would emit for stdlib/models/student.kd on a 1x28x28,
// 10-class data set, written without the compiler so that the Python interop
// test can check a kdrt checkpoint against bench/pytorch/models.py's Student.
// Parameter names follow the compiler's scheme (docs/kdx.md):
// S/l1.conv0.weight, S/l1.bn0.{weight,bias,running_mean,running_var}, ...,
// S/linear0.{weight,bias}.
//
// Batch-norm scales, shifts and running statistics are drawn away from their
// initial values (ones and zeros) into the blob, so that a name or layout
// mix-up between kdrt and PyTorch changes the logits. One stage, "head",
// trains the classifier on frozen features (batch norm in inference mode);
// the evaluation runs the whole Student; the export writes every S/ tensor.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TEST_EXEC_STUDENTPLAN_H
#define KDRT_TEST_EXEC_STUDENTPLAN_H

#include "kdrt/plan/PlanFormat.h"

#include <string>

namespace kdrt::test {

inline constexpr int64_t kStudentImageSize = 28;
inline constexpr int64_t kStudentClasses = 10;

/// Writes `train` (count images) and `t10k` (count / 2) 28x28 IDX files of
/// ten classes into `directory`.
void writeStudentIdx(const std::string &directory, int64_t count);

/// The Student plan over the IDX data set at `dataPath`.
plan::Plan makeStudentPlan(const std::string &dataPath, int64_t batch,
                           uint64_t seed);

} // namespace kdrt::test

#endif // KDRT_TEST_EXEC_STUDENTPLAN_H

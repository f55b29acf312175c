//===- Inspect.h - kdrt inspect: a readable summary of a plan ---*- C++ -*-===//

#ifndef KDRT_TOOLS_INSPECT_H
#define KDRT_TOOLS_INSPECT_H

#include "kdrt/plan/PlanFormat.h"

#include <ostream>

namespace kdrt::tools {

/// Datasets, parameters, then per stage and evaluation: data, batch,
/// arena bytes, buffers and the op sequence with operands.
void printPlanSummary(const plan::Plan &plan, std::ostream &out);

} // namespace kdrt::tools

#endif // KDRT_TOOLS_INSPECT_H

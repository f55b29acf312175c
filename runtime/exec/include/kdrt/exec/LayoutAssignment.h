//===- LayoutAssignment.h - Which buffers live channels-last ----*- C++ -*-===//
//
// The executor's layout decision for a graph on a backend that accepts
// channels-last activations (Backend::acceptsChannelsLast): see
// LayoutAssignment.cpp for the rules.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_LAYOUTASSIGNMENT_H
#define KDRT_EXEC_LAYOUTASSIGNMENT_H

#include "kdrt/Tensor.h"
#include "kdrt/plan/PlanFormat.h"

#include <set>
#include <vector>

namespace kdrt::exec {

/// One layout per buffer of `graph` (in graph.buffers order), for the ops
/// of every program in `programs` (the graph's own and any extra program
/// sharing its arena). Buffers in `keepRowMajor` (read or filled by the
/// executor) stay row-major.
std::vector<Layout>
assignLayouts(const plan::GraphSpec &graph,
              const std::vector<const std::vector<plan::OpSpec> *> &programs,
              const std::set<int64_t> &keepRowMajor);

} // namespace kdrt::exec

#endif // KDRT_EXEC_LAYOUTASSIGNMENT_H

//===- LayoutAssignment.cpp - Channels-last activations between kernels ---===//
//
// oneDNN's convolutions run fastest on channels-last (NHWC) activations, and
// its batch norm, pooling and eltwise kernels have vectorised channels-last
// paths too, while on row-major NCHW data every convolution reorders its
// input and output and the batch norm falls back to a scalar path. So once
// per graph, before its arena is laid out, the executor decides which
// buffers live channels-last: those whose every reader and writer is a
// kernel that takes that layout natively. Consecutive layers then hand their
// activations over without a reorder; a reorder happens only where a
// consumer needs row-major data (a reshape, a loss) and the
// producer is a kernel that writes any layout.
//
// Each operand of an op has a rule:
//  - Free:  the backend entry takes this operand in either layout (conv
//           describes each operand as it lies and reorders inside the
//           primitive where its kernel wants another layout; batch norm,
//           pooling, activations and equal-shape add / mul bring a
//           mismatched operand over with one reorder);
//  - Tied:  the op reads its Tied operands as flat arrays of one layout
//           (scale_add, a host loop), so they are all channels-last or
//           all row-major;
//  - Plain: the op reads row-major data only (everything else: reshapes,
//           losses, the host-side loops and every reference entry).
// A buffer is channels-last when it is an activation (rank 4) written and
// read by kernels, none of which needs it row-major, that the data loader
// does not fill and the executor does not read; Tied groups (union-find)
// decide together.
//
//===----------------------------------------------------------------------===//

#include "kdrt/exec/LayoutAssignment.h"

#include <numeric>
#include <set>

namespace kdrt::exec {
namespace {

enum class Rule { Plain, Free, Tied };

/// The rule for operand `index` of `op`'s inputs (`output` false) or
/// outputs. `shapeOf` gives a buffer operand's planned shape.
template <typename ShapeOf>
Rule ruleOf(const plan::OpSpec &op, bool output, size_t index,
            ShapeOf shapeOf) {
  const std::string &name = op.op;
  auto suffixed = [&](std::initializer_list<const char *> bases) {
    for (const char *base : bases)
      if (name == std::string(base) + ".fwd" ||
          name == std::string(base) + ".bwd")
        return true;
    return false;
  };
  if (name == "conv2d.fwd") {
    // in (x, w, b, post-op operands...), out (y). A sum post-op's residual
    // (shaped like y) starts as a copy in y, so it shares y's layout; the
    // other post-op operands are per-channel vectors.
    if (output)
      return Rule::Tied;
    if (index >= 3)
      return shapeOf(op.in[index].buffer).size() == 4 ? Rule::Tied
                                                      : Rule::Plain;
    return index == 0 ? Rule::Free : Rule::Plain;
  }
  if (name == "conv2d.bwd") // in (x, w, dy), out (dx, dw, db)
    return (output ? index == 0 : index != 1) ? Rule::Free : Rule::Plain;
  // batch_norm.bwd: in (x, gamma, mean, var, dy), out (dx, dgamma, dbeta);
  // the per-channel operands are parameters, never buffers.
  if (name == "batch_norm.fwd" || name == "batch_norm.bwd" ||
      suffixed({"relu", "gelu", "sigmoid", "tanh", "max_pool2d",
                "avg_pool2d", "global_avg_pool", "adaptive_avg_pool",
                "adaptive_max_pool"}))
    return Rule::Free;
  if (suffixed({"add", "mul"}) || name == "scale_add") {
    // Elementwise only when nothing broadcasts: every buffer operand has
    // the same shape.
    std::set<std::vector<int64_t>> shapes;
    for (const auto *list : {&op.in, &op.out})
      for (const plan::Operand &operand : *list) {
        if (operand.kind == plan::Operand::Kind::None)
          continue; // a gradient nobody asked for
        if (operand.kind != plan::Operand::Kind::Buffer)
          return Rule::Plain; // a parameter is row-major
        shapes.insert(shapeOf(operand.buffer));
      }
    if (shapes.size() != 1)
      return Rule::Plain;
    return name == "scale_add" ? Rule::Tied : Rule::Free;
  }
  return Rule::Plain;
}

} // namespace

std::vector<Layout>
assignLayouts(const plan::GraphSpec &graph,
              const std::vector<const std::vector<plan::OpSpec> *> &programs,
              const std::set<int64_t> &keepRowMajor) {
  size_t count = graph.buffers.size();
  std::map<int64_t, size_t> indexOf;
  for (size_t i = 0; i < count; ++i)
    indexOf[graph.buffers[i].id] = i;
  auto shapeOf = [&](int64_t id) -> std::vector<int64_t> {
    auto it = indexOf.find(id);
    return it == indexOf.end() ? std::vector<int64_t>{}
                               : graph.buffers[it->second].shape;
  };

  std::vector<size_t> parent(count);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](size_t i) {
    while (parent[i] != i)
      i = parent[i] = parent[parent[i]];
    return i;
  };
  std::vector<bool> plain(count, false), written(count, false),
      read(count, false);

  for (const auto *program : programs)
    for (const plan::OpSpec &op : *program) {
      long tiedTo = -1;
      for (bool output : {false, true}) {
        const auto &operands = output ? op.out : op.in;
        for (size_t k = 0; k < operands.size(); ++k) {
          if (operands[k].kind != plan::Operand::Kind::Buffer)
            continue;
          auto it = indexOf.find(operands[k].buffer);
          if (it == indexOf.end())
            continue; // the plan reader reports unknown buffers
          size_t buffer = it->second;
          (output ? written : read)[buffer] = true;
          switch (ruleOf(op, output, k, shapeOf)) {
          case Rule::Plain:
            plain[buffer] = true;
            break;
          case Rule::Free:
            break;
          case Rule::Tied:
            if (tiedTo < 0)
              tiedTo = long(buffer);
            else
              parent[find(buffer)] = find(size_t(tiedTo));
            break;
          }
        }
      }
    }

  for (const plan::InputSpec &input : graph.inputs)
    if (auto it = indexOf.find(input.buffer); it != indexOf.end())
      plain[it->second] = true;
  for (int64_t id : keepRowMajor)
    if (auto it = indexOf.find(id); it != indexOf.end())
      plain[it->second] = true;
  for (size_t i = 0; i < count; ++i)
    // Filled or read by the executor rather than by a kernel, or not an
    // activation: row-major.
    if (!written[i] || !read[i] || graph.buffers[i].shape.size() != 4)
      plain[i] = true;

  std::vector<bool> groupPlain(count, false);
  for (size_t i = 0; i < count; ++i)
    if (plain[i])
      groupPlain[find(i)] = true;
  std::vector<Layout> layouts(count, Layout::RowMajor);
  for (size_t i = 0; i < count; ++i)
    if (!groupPlain[find(i)])
      layouts[i] = Layout::ChannelsLast;
  return layouts;
}

} // namespace kdrt::exec

//===- GraphBuilder.h - Writing plan graphs by hand in tests ----*- C++ -*-===//
//
// Lays buffers out one after another (64-byte aligned) and appends ops, as
// the compiler's memory planner and serialiser would, so tests can build
// plans without the compiler.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TEST_EXEC_GRAPHBUILDER_H
#define KDRT_TEST_EXEC_GRAPHBUILDER_H

#include "kdrt/plan/PlanFormat.h"

namespace kdrt::test {

struct GraphBuilder {
  plan::GraphSpec graph;
  int64_t nextId = 0;

  int64_t buffer(std::vector<int64_t> shape) {
    plan::BufferSpec spec;
    spec.id = nextId++;
    spec.shape = std::move(shape);
    spec.offset = graph.arenaBytes;
    graph.arenaBytes += (spec.sizeInBytes() + 63) / 64 * 64;
    graph.buffers.push_back(spec);
    return spec.id;
  }
  void op(std::string name, std::vector<plan::Operand> in,
          std::vector<plan::Operand> out,
          nlohmann::json attrs = nlohmann::json::object()) {
    plan::OpSpec spec;
    spec.op = std::move(name);
    spec.in = std::move(in);
    spec.out = std::move(out);
    spec.attrs = std::move(attrs);
    graph.program.push_back(std::move(spec));
  }
};

inline plan::Operand buf(int64_t id) { return plan::Operand::buf(id); }
inline plan::Operand param(const std::string &name) {
  return plan::Operand::param(name);
}
inline plan::Operand grad(const std::string &name) {
  return plan::Operand::grad(name);
}

} // namespace kdrt::test

#endif // KDRT_TEST_EXEC_GRAPHBUILDER_H

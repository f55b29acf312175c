//===- BoundGraph.cpp - A graph's ops on its arena ------------------------===//

#include "kdrt/exec/BoundGraph.h"
#include "kdrt/exec/LayoutAssignment.h"
#include "kdrt/plan/PlanIo.h"

#include <cstdlib>
#include <cstring>

namespace kdrt::exec {

Status withContext(const Status &status, const std::string &where) {
  std::string message = where + ": " + status.message();
  switch (status.code()) {
  case StatusCode::Ok:
    return status;
  case StatusCode::InvalidArgument:
    return Status::invalidArgument(message);
  case StatusCode::OutOfMemory:
    return Status::outOfMemory(message);
  case StatusCode::Unimplemented:
    return Status::unimplemented(message);
  case StatusCode::Internal:
    break;
  }
  return Status::internal(message);
}

BoundGraph::BoundGraph(
    const plan::GraphSpec &graph, int64_t batch, ParameterStore &parameters,
    const std::string &source, const std::string &path,
    const std::vector<std::pair<std::string,
                                const std::vector<plan::OpSpec> *>>
        &extraPrograms)
    : graph(graph), maxBatch(batch), parameters(parameters) {
  tensors.resize(graph.buffers.size());
  layouts.assign(graph.buffers.size(), Layout::RowMajor);
  for (size_t i = 0; i < graph.buffers.size(); ++i)
    indexOf[graph.buffers[i].id] = i;

  std::vector<std::pair<std::string, const std::vector<plan::OpSpec> *>> all;
  all.emplace_back(path + ".program", &graph.program);
  all.insert(all.end(), extraPrograms.begin(), extraPrograms.end());
  for (const auto &[programPath, program] : all) {
    programSpecs.push_back(program);
    std::vector<Op> ops;
    for (size_t i = 0; i < program->size(); ++i) {
      const plan::OpSpec &spec = (*program)[i];
      std::string opPath = programPath + "[" + std::to_string(i) + "]";
      Op op;
      op.call = bindOp(spec, source, opPath);
      for (const plan::Operand &operand : spec.in)
        op.in.push_back(resolve(operand));
      for (const plan::Operand &operand : spec.out) {
        op.out.push_back(const_cast<Tensor *>(resolve(operand)));
        if (operand.kind == plan::Operand::Kind::Param)
          op.writtenParams.push_back(op.out.back());
      }
      op.where = opPath + " (" + spec.op +
                 (spec.loc.empty() ? "" : " at " + spec.loc) + ")";
      ops.push_back(std::move(op));
    }
    programs.push_back(std::move(ops));
  }
}

BoundGraph::~BoundGraph() { release(); }

const Tensor *BoundGraph::resolve(const plan::Operand &operand) {
  switch (operand.kind) {
  case plan::Operand::Kind::None:
    return nullptr;
  case plan::Operand::Kind::Buffer:
    return &tensors[indexOf.at(operand.buffer)];
  case plan::Operand::Kind::Param:
    return &parameters.value(operand.name);
  case plan::Operand::Kind::Grad:
    return &parameters.gradient(operand.name);
  }
  return nullptr;
}

Status BoundGraph::allocate(Backend &backend) {
  if (arena)
    return Status::success();
  KDRT_RETURN_IF_ERROR(
      backend.allocate(std::max<uint64_t>(graph.arenaBytes, 64), &arena));
  owner = &backend;
  const char *setting = std::getenv("KDRT_CHANNELS_LAST");
  bool channelsLast = backend.acceptsChannelsLast() &&
                      !(setting && std::strcmp(setting, "0") == 0);
  layouts = channelsLast ? assignLayouts(graph, programSpecs, rowMajor)
                         : std::vector<Layout>(graph.buffers.size(),
                                               Layout::RowMajor);
  viewBatch = -1;
  setBatch(maxBatch);
  return Status::success();
}

void BoundGraph::release() {
  if (arena && owner)
    owner->deallocate(arena);
  arena = nullptr;
  viewBatch = -1;
  for (Tensor &tensor : tensors)
    tensor = Tensor();
}

void BoundGraph::setBatch(int64_t count) {
  // The views only change with the count (allocate() resets it): batch-1
  // inference calls this for every image.
  if (count == viewBatch)
    return;
  viewBatch = count;
  auto *base = static_cast<uint8_t *>(arena);
  for (size_t i = 0; i < graph.buffers.size(); ++i) {
    const plan::BufferSpec &spec = graph.buffers[i];
    std::vector<int64_t> dims = spec.shape;
    // Activation buffers lead with B; scalars (loss values), buffers of
    // another leading size and those the plan marks unbatched keep their
    // shape.
    if (spec.batched && !dims.empty() && dims[0] == maxBatch)
      dims[0] = count;
    tensors[i] = Tensor::view(reinterpret_cast<float *>(base + spec.offset),
                              Shape(dims), layouts[i]);
  }
}

Status BoundGraph::run(OpContext &context, size_t program) {
  if (!arena)
    return Status::internal("graph run before its arena was allocated");
  for (Op &op : programs.at(program)) {
    Status status = op.call(context, op.in, op.out);
    for (Tensor *param : op.writtenParams)
      param->touch();
    if (!status.ok())
      return withContext(status, op.where);
  }
  return Status::success();
}

} // namespace kdrt::exec

//===- BoundGraph.h - A stage's or evaluation's ops on an arena -*- C++ -*-===//
//
// The executable form of a GraphSpec: its ops bound (OpBinding.h), its
// buffers as tensor views into one arena allocated through the backend,
// and its operands resolved to those views and to the parameter store.
// setBatch(n) re-shapes every batch buffer (leading dimension B) to n, so a
// shorter last batch runs without copying. On a backend that accepts
// channels-last activations, allocate() first decides each buffer's layout
// (LayoutAssignment.h); buffer(id) views carry it.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_BOUNDGRAPH_H
#define KDRT_EXEC_BOUNDGRAPH_H

#include "kdrt/exec/OpBinding.h"
#include "kdrt/exec/ParameterStore.h"
#include "kdrt/plan/PlanFormat.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace kdrt::exec {

/// `status` with its message prefixed by `where`, keeping the code.
Status withContext(const Status &status, const std::string &where);

class BoundGraph {
public:
  /// Binds `graph.program` and `extraPrograms` (e.g. a teacher-cache
  /// program, index 1 onwards of program()); throws plan::PlanError. `path`
  /// is the JSON path of the graph ("stages[0]"); `batch` its B.
  BoundGraph(const plan::GraphSpec &graph, int64_t batch,
             ParameterStore &parameters, const std::string &source,
             const std::string &path,
             const std::vector<std::pair<std::string,
                                         const std::vector<plan::OpSpec> *>>
                 &extraPrograms = {});
  ~BoundGraph();
  BoundGraph(const BoundGraph &) = delete;
  BoundGraph &operator=(const BoundGraph &) = delete;

  /// Keeps buffer `id` row-major whatever the backend: the executor reads
  /// or fills it directly (a cached teacher output, an evaluated
  /// prediction). Call before allocate().
  void keepRowMajor(int64_t id) { rowMajor.insert(id); }

  /// Allocates the arena (one allocation of arena.bytes) on first use and
  /// decides the buffers' layouts for `backend`. Channels-last placement
  /// is on for a backend that accepts it unless the environment sets
  /// KDRT_CHANNELS_LAST=0.
  Status allocate(Backend &backend);
  /// Frees the arena; the graph can be allocated again later.
  void release();

  /// Sets the leading dimension of every batch buffer to `count` (<= B).
  void setBatch(int64_t count);
  int64_t batch() const { return maxBatch; }

  /// Runs program 0 (the graph's own) or an extra program.
  Status run(OpContext &context, size_t program = 0);

  /// The current view of buffer `id`; the id must exist.
  Tensor &buffer(int64_t id) { return tensors[indexOf.at(id)]; }
  const plan::GraphSpec &spec() const { return graph; }

private:
  struct Op {
    BoundOpFn call;
    OpInputs in;
    OpOutputs out;
    /// Parameter values the op writes (a batch-norm fold): touched after
    /// each run so that backends drop what they derived from them.
    std::vector<Tensor *> writtenParams;
    std::string where; // "stages[0].program[3] (conv2d.fwd at s.kd:3:1)"
  };
  const Tensor *resolve(const plan::Operand &operand);

  const plan::GraphSpec &graph;
  int64_t maxBatch;
  /// The count the views were last made for; -1: none yet.
  int64_t viewBatch = -1;
  ParameterStore &parameters;
  Backend *owner = nullptr;
  void *arena = nullptr;
  std::map<int64_t, size_t> indexOf;
  /// Fixed size after construction: ops keep pointers into it.
  std::vector<Tensor> tensors;
  std::vector<std::vector<Op>> programs;
  std::vector<const std::vector<plan::OpSpec> *> programSpecs;
  std::set<int64_t> rowMajor;
  /// Per buffer (graph.buffers order); all row-major until allocate().
  std::vector<Layout> layouts;
};

} // namespace kdrt::exec

#endif // KDRT_EXEC_BOUNDGRAPH_H

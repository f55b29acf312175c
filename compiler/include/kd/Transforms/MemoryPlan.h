//===- MemoryPlan.h - Buffer sizes and the memory report --------*- C++ -*-===//
//
// What --kd-plan-memory and `kdc --emit=memory-report` share: which values
// live in a graph's arena, how many bytes each takes, and the report of the
// attributes the pass wrote.
//
// The pass writes, on every op with arena results, `offsets` (one entry per
// result: the byte offset in the arena, -1 for a value outside it) and, on
// each planned `kd.stage` / `kd.evaluate`: `arena_bytes` (the peak),
// `naive_bytes` (every buffer on its own), `param_bytes`, `grad_bytes` and
// `optimizer_state_bytes` (the runtime's parameter store, not in the arena).
//
//===----------------------------------------------------------------------===//
#ifndef KD_TRANSFORMS_MEMORYPLAN_H
#define KD_TRANSFORMS_MEMORYPLAN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace kd {

/// Every buffer offset and size is a multiple of this many bytes.
inline constexpr int64_t kArenaAlignment = 64;

/// The batch an evaluation is planned for when nothing else says.
inline constexpr int64_t kDefaultEvaluationBatch = 256;

/// Whether `value` is an activation, gradient or loss buffer of the arena:
/// false for parameters, values computed from parameters only (folded
/// batch norms), and parameter gradients (bound by kd.param_grad), which
/// live in the runtime's parameter store.
bool isArenaValue(mlir::Value value);

/// The bytes of a tensor with the batch dimension set to `batch`, rounded
/// up to kArenaAlignment; every runtime tensor is fp32. Fails when a
/// dimension other than the first is dynamic.
mlir::FailureOr<int64_t> alignedBufferBytes(mlir::Type type, int64_t batch);

/// The unrounded bytes of a static tensor (parameters), 0 if not static.
int64_t staticTensorBytes(mlir::Type type);

/// Prints, per planned stage and evaluation: peak arena bytes, naive sum
/// and their ratio, parameter / gradient / optimizer-state bytes, and the
/// `largest` biggest buffers with their source locations. Fails (after an
/// error on the module) when --kd-plan-memory has not run.
mlir::LogicalResult printMemoryReport(mlir::ModuleOp module, llvm::raw_ostream &os, unsigned largest = 5);

} // namespace kd

#endif // KD_TRANSFORMS_MEMORYPLAN_H

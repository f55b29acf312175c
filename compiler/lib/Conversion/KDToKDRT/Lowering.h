//===- Lowering.h - Shared state of the kd -> kdrt lowering -----*- C++ -*-===//
#ifndef KD_LIB_CONVERSION_KDTOKDRT_LOWERING_H
#define KD_LIB_CONVERSION_KDTOKDRT_LOWERING_H

#include "kd/Dialect/KDRT/KDRTOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <optional>
#include <string>

namespace kd::lowering {

/// Why `op` cannot run on `target`, or nothing when it can.
std::optional<std::string> unsupportedReason(mlir::Operation *op, llvm::StringRef target);
/// True for the kd ops the lowering knows.
bool isLowerable(mlir::Operation *op);

/// One graph being lowered (a stage body, a teacher program, an evaluation):
/// the kd value -> kdrt operand map and the arena its buffers go into.
class GraphLowering {
public:
  GraphLowering(mlir::OpBuilder &builder, int64_t batch, bool training)
      : builder(builder), batch(batch), training(training) {}

  /// Lowers `op` at the builder's insertion point; an error at the op when
  /// it has no kernel.
  mlir::LogicalResult lower(mlir::Operation *op);

  /// The kdrt operand of a kd value (a null operand for a null value).
  mlir::Value operand(mlir::Value kdValue);
  /// Binds a kd value to an existing kdrt value (a model input).
  void bind(mlir::Value kdValue, mlir::Value lowered) { values.map(kdValue, lowered); }
  /// A new arena buffer for the kd value `kdValue` (or the gradient it is
  /// bound to by kd.param_grad), bound to it.
  mlir::Value define(mlir::Value kdValue);
  /// A fresh buffer of `type` not bound to any kd value (dropout masks).
  mlir::Value scratch(mlir::MemRefType type);
  mlir::MemRefType memrefFor(mlir::Type kdType);

  /// Gradient names of kd values (from kd.param_grad), set before lowering.
  llvm::DenseMap<mlir::Value, std::string> gradientNames;
  /// Parameter names whose gradient the stage computes.
  llvm::StringSet<> trainedParameters;
  int64_t arenaBytes() const { return arenaEnd; }
  mlir::Value lossBuffer;

private:
  mlir::Value newBuffer(mlir::MemRefType type, std::optional<int64_t> plannedOffset);
  mlir::Value null();
  template <typename KernelOp>
  KernelOp kernel(mlir::Location loc, mlir::ValueRange ins, mlir::ValueRange outs,
                  llvm::ArrayRef<mlir::NamedAttribute> attrs = {});
  mlir::LogicalResult lowerBackward(mlir::Operation *op);
  mlir::LogicalResult lowerLoss(mlir::Operation *op);

  mlir::OpBuilder &builder;
  int64_t batch;
  bool training;
  mlir::IRMapping values;
  /// Dropout masks by seed, for the backward of the same dropout.
  llvm::DenseMap<int64_t, mlir::Value> dropoutMasks;
  int64_t nextId = 0;
  int64_t arenaEnd = 0;
};

template <typename KernelOp>
KernelOp GraphLowering::kernel(mlir::Location loc, mlir::ValueRange ins, mlir::ValueRange outs,
                               llvm::ArrayRef<mlir::NamedAttribute> attrs) {
  mlir::OperationState state(loc, KernelOp::getOperationName());
  state.addOperands(ins);
  state.addOperands(outs);
  state.addAttributes(attrs);
  state.addAttribute("operandSegmentSizes",
                     builder.getDenseI32ArrayAttr({int32_t(ins.size()), int32_t(outs.size())}));
  return llvm::cast<KernelOp>(builder.create(state));
}

} // namespace kd::lowering

#endif // KD_LIB_CONVERSION_KDTOKDRT_LOWERING_H

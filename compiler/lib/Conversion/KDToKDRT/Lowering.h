//===- Lowering.h - Shared state of the kd -> kdrt lowering -----*- C++ -*-===//
#ifndef KD_LIB_CONVERSION_KDTOKDRT_LOWERING_H
#define KD_LIB_CONVERSION_KDTOKDRT_LOWERING_H

#include "kd/Dialect/KD/KDOps.h"
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
/// True for the kd loss ops that are one fused runtime loss kernel.
bool isFusedLossKernel(mlir::Operation *op);
/// The state tensor that holds an ensemble's weights when they are known
/// before the step (equal, fixed, accuracy): `<E>/weights`.
std::string ensembleWeightsName(kd::EnsembleOp op);

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
  /// bound to by kd.param_grad), bound to it; at the offset the memory plan
  /// gave it when `planned` and there is one, else after the arena.
  mlir::Value define(mlir::Value kdValue, bool planned = true);
  /// A fresh buffer of `type` not bound to any kd value (dropout masks).
  mlir::Value scratch(mlir::MemRefType type);
  mlir::MemRefType memrefFor(mlir::Type kdType);

  /// Gradient names of kd values (from kd.param_grad), set before lowering.
  llvm::DenseMap<mlir::Value, std::string> gradientNames;
  /// Parameter names whose gradient the stage computes.
  llvm::StringSet<> trainedParameters;
  /// Whether the target's backends have the logit_loss_group entry (the CPU
  /// ones); without it a kd.loss.logit_group becomes one kernel per term.
  bool logitLossGroupKernel = true;
  /// Whether they have the batch_norm_scale_shift entry (the CPU ones):
  /// with it a fused layer's scale_shift post-op reads the scale and shift
  /// that kernel writes; without it the chain runs unfused.
  bool scaleShiftKernel = true;
  int64_t arenaBytes() const { return arenaEnd; }
  /// Places buffers the memory plan did not (scratch, masks, values it
  /// left out) after the planned arena of `bytes`, so they overlap nothing.
  void reserveArena(int64_t bytes) { arenaEnd = std::max(arenaEnd, bytes); }
  mlir::Value lossBuffer;

private:
  mlir::Value newBuffer(mlir::MemRefType type, std::optional<int64_t> plannedOffset);
  mlir::Value null();
  template <typename KernelOp>
  KernelOp kernel(mlir::Location loc, mlir::ValueRange ins, mlir::ValueRange outs,
                  llvm::ArrayRef<mlir::NamedAttribute> attrs = {});
  mlir::LogicalResult lowerBackward(mlir::Operation *op);
  mlir::LogicalResult lowerLoss(mlir::Operation *op);
  mlir::LogicalResult lowerFused(mlir::Operation *op);
  /// A kd.loss.logit_group as one logit_loss_group kernel.
  mlir::LogicalResult lowerLogitLossGroup(kd::LogitLossGroupOp group);
  /// The one kd.loss.grad of a loss (null if none); an error if several.
  mlir::FailureOr<kd::LossGradOp> lossGradientOf(mlir::Operation *loss);
  /// A loss kernel's outs: the value, then `slots` gradient slots filled
  /// from `grad`'s wanted results (`swapped`: the kernel's inputs are the kd
  /// operands in reverse order).
  llvm::SmallVector<mlir::Value> lossOutputs(mlir::Operation *loss, kd::LossGradOp grad, unsigned slots,
                                             bool swapped);
  /// The post-op chain of a fused layer whose raw result is `raw`.
  mlir::LogicalResult lowerPostOps(mlir::Operation *op, mlir::Value raw, mlir::ArrayAttr postOps,
                                   mlir::ValueRange postOperands);

  mlir::OpBuilder &builder;
  int64_t batch;
  bool training;
  mlir::IRMapping values;
  /// Dropout masks by seed, for the backward of the same dropout.
  llvm::DenseMap<int64_t, mlir::Value> dropoutMasks;
  /// The pre-activation buffer of a training fused layer whose activation's
  /// backward needs its input (sigmoid, tanh), by the kd result.
  llvm::DenseMap<mlir::Value, mlir::Value> preActivations;
  int64_t nextId = 0;
  int64_t arenaEnd = 0;
};

/// The plan's input transform ({op = "resize", h, w}) for a model's
/// `transform`, which the importer spells as a call ({kind = "resize", h, w});
/// null without one.
mlir::DictionaryAttr inputTransform(mlir::Builder &b, mlir::DictionaryAttr transform);

/// The attributes of the conv2d.fwd kernel of a `kd.conv2d` or
/// `kd.conv2d_fused`: its geometry, and the `precision` --kd-teacher-precision
/// may have set.
template <typename ConvOp>
llvm::SmallVector<mlir::NamedAttribute> convForwardAttrs(mlir::Builder &b, ConvOp conv) {
  llvm::SmallVector<mlir::NamedAttribute> attrs = {
      b.getNamedAttr("stride", b.getDenseI64ArrayAttr(conv.getStride())),
      b.getNamedAttr("pad", b.getDenseI64ArrayAttr(conv.getPad())),
      b.getNamedAttr("dilation", b.getDenseI64ArrayAttr(conv.getDilation())),
      b.getNamedAttr("groups", b.getI64IntegerAttr(conv.getGroups()))};
  if (auto precision = conv->template getAttrOfType<mlir::StringAttr>("precision"))
    attrs.push_back(b.getNamedAttr("precision", precision));
  return attrs;
}

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

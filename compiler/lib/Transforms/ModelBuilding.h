//===- ModelBuilding.h - Building learned modules inside passes -*- C++ -*-===//
//
// Passes that add trainable modules (adapters, fusion, graft adapters) build
// the same ops the importer does: kd.param with a plan-format init, then the
// layer op with its exact result type.
//
//===----------------------------------------------------------------------===//
#ifndef KD_LIB_TRANSFORMS_MODELBUILDING_H
#define KD_LIB_TRANSFORMS_MODELBUILDING_H

#include "kd/Dialect/KD/KDOps.h"

#include "mlir/IR/Builders.h"

namespace kd {

/// How a new weight is initialised.
enum class WeightInit {
  /// PyTorch's default for conv and linear layers: kaiming_uniform with
  /// a = sqrt(5) (gain sqrt(1/3), fan_in), bias uniform in 1/sqrt(fan_in).
  TorchDefault,
  /// Kaiming normal, fan_out, ReLU gain; bias zeros (NetGraft's adapters,
  /// its init_conv).
  KaimingFanOut,
};

/// A batched type [?, dims...] of f32.
mlir::RankedTensorType batchedType(mlir::MLIRContext *context, llvm::ArrayRef<int64_t> perSample);

mlir::Value buildParam(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef name, ParamRole role,
                       InitKind init, llvm::ArrayRef<int64_t> shape, llvm::StringRef fan = {},
                       std::optional<double> gain = {}, std::optional<double> bound = {});

/// A k x k convolution to `outChannels`, stride 1, "same" padding, with a
/// bias under TorchDefault; parameters `<prefix>.weight` / `<prefix>.bias`.
mlir::Value buildConv(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input, int64_t outChannels,
                      int64_t kernel, llvm::StringRef prefix, WeightInit init);

/// A linear layer of the last dimension to `outFeatures`, with bias.
mlir::Value buildLinear(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input, int64_t outFeatures,
                        llvm::StringRef prefix, WeightInit init = WeightInit::TorchDefault);

/// Reshape keeping the batch dimension.
mlir::Value buildReshape(mlir::OpBuilder &b, mlir::Location loc, mlir::Value input,
                         llvm::ArrayRef<int64_t> perSample);

/// A new kd.model `name` from `inputType`, its body built by `body`, which
/// returns the output value; the output is also tapped as "output".
ModelOp buildModel(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef name, mlir::Type inputType,
                   llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Value)> body);

} // namespace kd

#endif // KD_LIB_TRANSFORMS_MODELBUILDING_H

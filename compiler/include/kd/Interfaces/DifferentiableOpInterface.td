//===- DifferentiableOpInterface.td - Backward rules of ops -*- tablegen -*-===//
//
// The contract between a forward op and the autodiff pass: given the
// gradients of its results, an op builds the backward ops that compute the
// gradients of the operands the pass asks for. Each op family overrides
// `buildBackward`; the default is an error, so a missing rule is reported at
// the op rather than producing a silently wrong gradient.
//
//===----------------------------------------------------------------------===//
#ifndef KD_INTERFACES_DIFFERENTIABLEOPINTERFACE_TD
#define KD_INTERFACES_DIFFERENTIABLEOPINTERFACE_TD

include "mlir/IR/OpBase.td"

def KD_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::kd";
  let description = [{
    An op whose gradient the autodiff pass can build. `resultGrads` holds one
    gradient per result (a null value when that result receives none);
    `wantedOperandGrads` has one flag per operand. On success the method
    appends one value per operand to `operandGrads`: the gradient when it was
    wanted, a null value otherwise. Ops are built with `builder`, whose
    insertion point the caller has set after the forward op.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"Builds the backward ops of this op.",
      /*retTy=*/"::mlir::LogicalResult",
      /*methodName=*/"buildBackward",
      /*args=*/(ins "::mlir::OpBuilder &":$builder,
                    "::mlir::ValueRange":$resultGrads,
                    "::llvm::ArrayRef<bool>":$wantedOperandGrads,
                    "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads),
      /*methodBody=*/"",
      /*defaultImplementation=*/[{
        return $_op->emitOpError("has no backward rule");
      }]>
  ];
}

def KD_DifferentiableLossOpInterface : OpInterface<"DifferentiableLossOpInterface"> {
  let cppNamespace = "::kd";
  let description = [{
    A loss whose runtime kernel is fused: one call writes the value and, in
    the same call, the gradient of `gradScale * value` towards each input
    whose gradient is asked for. The autodiff pass starts every stage's
    backward from its losses: `gradScale` is the loss's weight in the stage's
    `kd.loss.combine`. `wantedOperandGrads` has one flag per operand; on
    success `operandGrads` receives one value per operand (null where not
    wanted). Asking for the gradient of an operand the runtime kernel cannot
    differentiate (labels, the teacher side of RKD) is an error at the loss.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/"Whether the runtime kernel can write the gradient of operand `index`.",
      /*retTy=*/"bool",
      /*methodName=*/"hasGradientSlot",
      /*args=*/(ins "unsigned":$index)>,
    InterfaceMethod<
      /*desc=*/"Builds the gradient op of this loss scaled by `gradScale`.",
      /*retTy=*/"::mlir::LogicalResult",
      /*methodName=*/"buildLossBackward",
      /*args=*/(ins "::mlir::OpBuilder &":$builder, "double":$gradScale,
                    "::llvm::ArrayRef<bool>":$wantedOperandGrads,
                    "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // KD_INTERFACES_DIFFERENTIABLEOPINTERFACE_TD

//===- KDOps.td - Ops of the kd dialect --------------------*- tablegen -*-===//
#ifndef KD_DIALECT_KD_KDOPS_TD
#define KD_DIALECT_KD_KDOPS_TD

include "kd/Dialect/KD/KDDialect.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

def KD_ReluOp : KD_Op<"relu", [Pure, SameOperandsAndResultType]> {
  let summary = "Rectified linear unit";
  let description = [{
    `max(x, 0)` elementwise.

    ```mlir
    %y = kd.relu %x : tensor<?x16x28x28xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

#endif // KD_DIALECT_KD_KDOPS_TD

//===- KDLossOps.td - Loss ops -----------------------------*- tablegen -*-===//
//
// One op per loss of the catalogue, each producing a scalar `tensor<f32>`,
// and `kd.loss.combine`, the weighted sum the loss expression of a stage
// reduces to. Attributes mirror the runtime's loss descriptors; the gradient
// scale is folded in later from the combine weights.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDLOSSOPS_TD
#define KD_DIALECT_KD_KDLOSSOPS_TD

include "kd/Dialect/KD/KDDialect.td"
include "kd/Dialect/KD/KDEnums.td"
include "kd/Dialect/KD/KDTypes.td"
include "kd/Interfaces/DifferentiableOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// A loss of two features with its attributes (`attrs`) spelled in the custom
// syntax by `attrFormat`; each op's verifier checks its shape rule.
class KD_PairLossOp<string mnemonic, string what, dag attrs = (ins),
                    string attrFormat = "">
    : KD_Op<"loss." # mnemonic, [Pure, DeclareOpInterfaceMethods<KD_DifferentiableLossOpInterface>]> {
  let summary = what;
  let description = what # ".\n\n```mlir\n%l = kd.loss." # mnemonic
      # " %s, %t" # " : tensor<?x10xf32>, tensor<?x10xf32>\n```";
  let arguments = !con((ins KD_Tensor:$lhs, KD_Tensor:$rhs), attrs);
  let results = (outs KD_LossValue:$result);
  let assemblyFormat = "$lhs `,` $rhs " # attrFormat
      # " attr-dict `:` type($lhs) `,` type($rhs)";
  let hasVerifier = 1;
}

def KD_CrossEntropyLossOp : KD_Op<"loss.ce", [Pure, DeclareOpInterfaceMethods<KD_DifferentiableLossOpInterface>]> {
  let summary = "Cross-entropy of logits against labels or soft targets";
  let description = [{
    logits `[N, K]` against labels `tensor<?xi64>` or probabilities `[N, K]`,
    mean over the batch, with label smoothing.

    ```mlir
    %l = kd.loss.ce %logits, %labels smoothing 0.0 : tensor<?x10xf32>, tensor<?xi64>
    ```
  }];
  let arguments = (ins KD_Tensor:$logits, AnyTypeOf<[KD_Tensor, KD_Labels]>:$target,
                       F64Attr:$smoothing);
  let results = (outs KD_LossValue:$result);
  let assemblyFormat = [{
    $logits `,` $target `smoothing` $smoothing attr-dict `:` type($logits) `,` type($target)
  }];
  let hasVerifier = 1;
}

def KD_KlDivLossOp : KD_PairLossOp<"kl",
    "KL divergence of the softened target from the softened input distribution",
    (ins F64Attr:$temperature, KD_Reduction:$reduction, BoolAttr:$t2, BoolAttr:$reverse),
    "`temperature` $temperature `reduction` $reduction `t2` $t2 `reverse` $reverse">;

def KD_MseLossOp : KD_PairLossOp<"mse", "Mean squared error",
    (ins KD_Reduction:$reduction), "`reduction` $reduction">;
def KD_L1LossOp : KD_PairLossOp<"l1", "Mean absolute error",
    (ins KD_Reduction:$reduction), "`reduction` $reduction">;
def KD_SmoothL1LossOp : KD_PairLossOp<"smooth_l1", "Smooth L1 (Huber) error",
    (ins F64Attr:$beta), "`beta` $beta">;
def KD_CosineLossOp : KD_PairLossOp<"cosine",
    "Mean over the batch of 1 - cos(a, b), samples flattened">;
def KD_AttentionTransferLossOp : KD_PairLossOp<"at",
    "Attention transfer between image features of equal spatial size",
    (ins F64Attr:$p), "`p` $p">;
def KD_RkdDistanceLossOp : KD_PairLossOp<"rkd_distance",
    "Relational KD, distance potential, between embeddings of any widths">;
def KD_RkdAngleLossOp : KD_PairLossOp<"rkd_angle",
    "Relational KD, angle potential, between embeddings of any widths">;

def KD_DkdLossOp : KD_Op<"loss.dkd", [Pure, DeclareOpInterfaceMethods<KD_DifferentiableLossOpInterface>]> {
  let summary = "Decoupled knowledge distillation";
  let description = [{
    Student and teacher logits `[N, K]`, labels `tensor<?xi64>`:
    `alpha * TCKD + beta * NCKD`.

    ```mlir
    %l = kd.loss.dkd %s, %t, %y alpha 1.0 beta 8.0 temperature 4.0
        : tensor<?x10xf32>, tensor<?x10xf32>, tensor<?xi64>
    ```
  }];
  let arguments = (ins KD_Tensor:$lhs, KD_Tensor:$rhs, KD_Labels:$labels,
                       F64Attr:$alpha, F64Attr:$beta, F64Attr:$temperature);
  let results = (outs KD_LossValue:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs `,` $labels `alpha` $alpha `beta` $beta `temperature` $temperature
    attr-dict `:` type($lhs) `,` type($rhs) `,` type($labels)
  }];
  let hasVerifier = 1;
}

def KD_LossCombineOp : KD_Op<"loss.combine", [Pure]> {
  let summary = "Weighted sum of losses";
  let description = [{
    `bias + sum_i weights[i] * losses[i]`: the loss expression's `+`, `-`,
    scalar `*` and `/` folded into one weight per loss.

    ```mlir
    %l = kd.loss.combine %kl, %ce weights [0.9, 0.1] bias 0.0
    ```
  }];
  let arguments = (ins Variadic<KD_LossValue>:$losses, DenseF64ArrayAttr:$weights,
                       F64Attr:$bias);
  let results = (outs KD_LossValue:$result);
  // The weights print so that they read back to the same doubles (a
  // computed weight such as 1 - 0.9 is not the decimal it looks like).
  let assemblyFormat = "$losses `weights` custom<ExactF64Array>($weights) `bias` $bias attr-dict";
  let hasVerifier = 1;
}

def KD_LossGradOp : KD_Op<"loss.grad", [Pure]> {
  let summary = "Gradients of a fused loss kernel, scaled by the loss's weight";
  let description = [{
    The runtime's losses are fused forward + backward kernels: one call
    writes the value and the gradient of `scale * value` (the runtime's
    `gradScale`) towards each input whose gradient tensor is given. This op
    is the backward half of the loss that defines `loss`: it reads that op's
    inputs and attributes, `scale` is the loss's weight in the stage's
    `kd.loss.combine`, and `wanted` has one flag per operand of the loss op
    (in its operand order; for a `reverse` KL still lhs, rhs), one result per
    `true`, typed like that operand. Lowering emits one kernel call for the
    loss and this op together. Only the operands the kernel can
    differentiate may be wanted: not labels or soft targets of `ce`, not the
    teacher side of `dkd`.

    ```mlir
    %kl = kd.loss.kl %s, %t temperature 4.0 reduction batchmean t2 true reverse false
        : tensor<?x10xf32>, tensor<?x10xf32>
    %gs = kd.loss.grad %kl scale 0.9 wanted [true, false] : tensor<?x10xf32>
    ```
  }];
  let arguments = (ins KD_LossValue:$loss, F64Attr:$scale, DenseBoolArrayAttr:$wanted);
  let results = (outs Variadic<KD_Tensor>:$grads);
  let assemblyFormat = "$loss `scale` $scale `wanted` $wanted attr-dict `:` type($grads)";
  let hasVerifier = 1;
}

#endif // KD_DIALECT_KD_KDLOSSOPS_TD

//===- KDFusedOps.td - Ops created by fusion and folding ---*- tablegen -*-===//
//
// What --kd-fuse and --kd-fold-batchnorm build: convolutions and dense layers
// with a post-op chain (the runtime's PostOpChain, runtime/include/kdrt/
// OpDesc.h), their training backward, the folded batch-norm parameters, and
// a group of CE / KL losses on shared logits (the runtime's logitLossGroup).
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDFUSEDOPS_TD
#define KD_DIALECT_KD_KDFUSEDOPS_TD

include "kd/Dialect/KD/KDBackwardOps.td"
include "kd/Dialect/KD/KDDialect.td"
include "kd/Dialect/KD/KDEnums.td"
include "kd/Dialect/KD/KDLayerOps.td"
include "kd/Dialect/KD/KDTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// The post-op chain, applied after the bias in order. Each entry is one of
// "relu", "gelu", "sigmoid", "tanh" (an activation), "sum" (adds the next
// residual operand, shaped like the result, with scale 1) or "scale_shift"
// (y * scale[c] + shift[c] with the next two operands, [channels] each).
defvar KD_PostOpsAttr = (ins StrArrayAttr:$post_ops);

class KD_FusedOp<string mnemonic, string what, dag layerAttrs, string attrFormat,
                 string channel>
    : KD_Op<mnemonic, [Pure, AttrSizedOperandSegments]> {
  let summary = what # " with fused post-ops";
  let arguments = !con((ins KD_Tensor:$input, KD_Tensor:$weight,
                            Optional<KD_Tensor>:$bias,
                            Variadic<KD_Tensor>:$post_operands),
                       KD_PostOpsAttr, layerAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? `post_ops` $post_ops "
      # "(`(` $post_operands^ `)`)? " # attrFormat
      # " attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The dimension of the result the scale/shift post-ops index.
    static int64_t getChannelDim(::mlir::RankedTensorType type) {
      return }] # channel # [{;
    }
  }];
}

def KD_Conv2dFusedOp : KD_FusedOp<"conv2d_fused", "2-D convolution", KD_Conv2dAttrs,
                                  KD_Conv2dFormat, "1"> {
  let description = [{
    `kd.conv2d` followed by its post-ops in one runtime call
    (`conv2dFusedForward`). In a training graph the chain is at most one
    trailing relu, sigmoid or tanh, because the fused backward
    (`kd.conv2d_fused_bwd`) recovers the activation's slope from the output;
    inference graphs may fuse a folded batch norm, a residual add and any
    activation.

    ```mlir
    %y = kd.conv2d_fused %x, %w, %b post_ops ["scale_shift", "sum", "relu"]
        (%scale, %shift, %residual) stride [1, 1] pad [1, 1] dilation [1, 1] groups 1
        : (tensor<?x32x28x28xf32>, tensor<32x32x3x3xf32>, tensor<32xf32>, tensor<32xf32>,
           tensor<32xf32>, tensor<?x32x28x28xf32>) -> tensor<?x32x28x28xf32>
    ```
  }];
}

def KD_LinearFusedOp : KD_FusedOp<"linear_fused", "Fully connected layer", (ins), "",
                                  "type.getRank() - 1"> {
  let description = [{
    `kd.linear` followed by its post-ops (`linearFusedForward`); the channel
    of scale/shift is the last dimension. The training restriction of
    `kd.conv2d_fused` applies.

    ```mlir
    %y = kd.linear_fused %x, %w, %b post_ops ["relu"]
        : (tensor<?x96xf32>, tensor<64x96xf32>, tensor<64xf32>) -> tensor<?x64xf32>
    ```
  }];
}

// The backward of a fused op whose chain is one output-determined
// activation: operands input, weight, the forward's post-activation output
// and the output gradient, as conv2dFusedBackward / linearFusedBackward.
def KD_Conv2dFusedBwdOp : KD_BackwardOp<"conv2d_fused", 3, "input, weight, bias",
    (ins KD_Tensor:$input, KD_Tensor:$weight, KD_Tensor:$output, KD_Tensor:$grad_output),
    !con(KD_Conv2dAttrs, (ins KD_ActivationKind:$activation)),
    KD_Conv2dFormat # " `activation` $activation">;
def KD_LinearFusedBwdOp : KD_BackwardOp<"linear_fused", 3, "input, weight, bias",
    (ins KD_Tensor:$input, KD_Tensor:$weight, KD_Tensor:$output, KD_Tensor:$grad_output),
    (ins KD_ActivationKind:$activation), "`activation` $activation">;

def KD_BatchNormScaleShiftOp : KD_Op<"bn_scale_shift", [Pure, AllTypesMatch<["weight",
    "bias", "running_mean", "running_var", "scale", "shift"]>]> {
  let summary = "An inference batch norm as a per-channel scale and shift";
  let description = [{
    `scale = weight / sqrt(running_var + eps)`, `shift = bias - running_mean *
    scale`: the operands of a `scale_shift` post-op. Computed from the
    trained parameters when the plan runs (they are not constants at compile
    time).

    ```mlir
    %scale, %shift = kd.bn_scale_shift %g, %b, %m, %v eps 1.0e-05 : tensor<32xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$weight, KD_Tensor:$bias, KD_Tensor:$running_mean,
                       KD_Tensor:$running_var, F64Attr:$eps);
  let results = (outs KD_Tensor:$scale, KD_Tensor:$shift);
  let assemblyFormat = [{
    $weight `,` $bias `,` $running_mean `,` $running_var `eps` $eps attr-dict `:` type($weight)
  }];
  let hasVerifier = 1;
}

def KD_FoldBatchNormOp : KD_Op<"fold_batch_norm", [Pure]> {
  let summary = "Folds an inference batch norm into a convolution's weight and bias";
  let description = [{
    With `s = gamma / sqrt(var + eps)`: `folded_weight[o] = weight[o] * s[o]`
    and `folded_bias = (bias - mean) * s + beta` (bias 0 when absent), so that
    `conv(x, folded_weight, folded_bias) = batch_norm(conv(x, weight, bias))`
    with running statistics. Evaluated from the trained parameters when the
    plan runs.

    ```mlir
    %w2, %b2 = kd.fold_batch_norm %w, %b, %g, %beta, %m, %v eps 1.0e-05
        : (tensor<32x1x3x3xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>,
           tensor<32xf32>, tensor<32xf32>) -> (tensor<32x1x3x3xf32>, tensor<32xf32>)
    ```
  }];
  let arguments = (ins KD_Tensor:$weight, Optional<KD_Tensor>:$bias, KD_Tensor:$gamma,
                       KD_Tensor:$beta, KD_Tensor:$running_mean, KD_Tensor:$running_var,
                       F64Attr:$eps);
  let results = (outs KD_Tensor:$folded_weight, KD_Tensor:$folded_bias);
  let assemblyFormat = [{
    $weight `,` ($bias^ `,`)? $gamma `,` $beta `,` $running_mean `,` $running_var
    `eps` $eps attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def KD_LogitLossGroupOp : KD_Op<"loss.logit_group", [Pure, AttrSizedResultSegments]> {
  let summary = "CE and KL losses of the same logits with one shared log-softmax";
  let description = [{
    One term per replaced `kd.loss.ce` / `kd.loss.kl`, in `terms` (a
    dictionary each: `kind` "ce" or "kl", `weight` — the term's weight in
    the stage loss, the runtime's gradScale — and the loss's own attributes:
    `smoothing` for CE; `temperature`, `reduction`, `t2` for KL). Term i reads
    `targets[i]` (labels, probabilities or frozen teacher logits) and yields
    `values[i]`, the value the separate loss gives. With `grad`, the op also
    yields the gradient of the weighted sum of the terms w.r.t. the logits.
    Lowers to the runtime's `logitLossGroup`.

    ```mlir
    %kl, %ce, %g = kd.loss.logit_group %s(%t, %y) terms [
        {kind = "kl", temperature = 4.0, reduction = "batchmean", t2 = true, weight = 0.9},
        {kind = "ce", smoothing = 0.0, weight = 0.1} ]
        : tensor<?x10xf32> (tensor<?x10xf32>, tensor<?xi64>) -> tensor<f32>, tensor<f32>
        grad tensor<?x10xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$logits, Variadic<AnyTypeOf<[KD_Tensor, KD_Labels]>>:$targets,
                       DictArrayAttr:$terms);
  let results = (outs Variadic<KD_LossValue>:$values, Optional<KD_Tensor>:$grad);
  let assemblyFormat = [{
    $logits `(` $targets `)` `terms` $terms attr-dict `:` type($logits) `(` type($targets) `)`
    `->` type($values) (`grad` type($grad)^)?
  }];
  let hasVerifier = 1;
}

#endif // KD_DIALECT_KD_KDFUSEDOPS_TD

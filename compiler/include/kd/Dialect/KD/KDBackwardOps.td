//===- KDBackwardOps.td - Backward ops built by autodiff ---*- tablegen -*-===//
//
// One op per backward entry of the runtime (runtime/include/kdrt/Backend.h),
// operands in the entry's order: the forward's inputs, then the output
// gradient. `wanted` has one flag per gradient the entry can write (in the
// entry's order); the op has one result per wanted gradient, so gradients
// nobody needs are never computed.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDBACKWARDOPS_TD
#define KD_DIALECT_KD_KDBACKWARDOPS_TD

include "kd/Dialect/KD/KDDialect.td"
include "kd/Dialect/KD/KDEnums.td"
include "kd/Dialect/KD/KDLayerOps.td"
include "kd/Dialect/KD/KDTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// `slots` is the number of gradients the entry can write (0: one per
// result of a variadic entry such as concat).
class KD_BackwardOp<string forward, int slots, string gradNames, dag operands,
                    dag attrs = (ins), string attrFormat = "">
    : KD_Op<forward # "_bwd", [Pure]> {
  let summary = "Backward of kd." # forward;
  let description = "Gradients (" # gradNames # ") of `kd." # forward
      # "`, one result per `true` of `wanted`.\n\n```mlir\n%gx = kd." # forward
      # "_bwd %x, %gy wanted [true] : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>\n```";
  let arguments = !con(operands, attrs, (ins DenseBoolArrayAttr:$wanted));
  let results = (outs Variadic<KD_Tensor>:$grads);
  let assemblyFormat = "operands " # attrFormat
      # " `wanted` $wanted attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    /// How many gradients the runtime entry can write; 0 when it depends on
    /// the forward's operand count.
    static int64_t getNumGradSlots() { return }] # slots # [{; }
  }];
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return ::kd::verifyGradientMask(getOperation(), getWanted(), getNumGradSlots());
    }
  }];
}

// The custom syntax of the forward attribute lists, shared by the
// backward ops that carry them.
defvar KD_Conv2dFormat = "`stride` $stride `pad` $pad `dilation` $dilation `groups` $groups";
defvar KD_BatchNormFormat = "`eps` $eps `momentum` $momentum";
defvar KD_LayerNormFormat = "`rank` $normalized_rank `eps` $eps";
defvar KD_GroupNormFormat = "`groups` $groups `eps` $eps";
defvar KD_SoftmaxFormat = "`temperature` $temperature (`log` $log^)?";
defvar KD_Pool2dFormat = "$mode `kernel` $kernel `stride` $stride `pad` $pad (`count_include_pad` $count_include_pad^)?";
defvar KD_ResizeFormat = "$mode `to` $output_size";
defvar KD_DropoutFormat = "`p` $p `seed` $seed";
defvar KD_MatMulFormat = "(`transpose_lhs` $transpose_lhs^)? (`transpose_rhs` $transpose_rhs^)?";

def KD_Conv2dBwdOp : KD_BackwardOp<"conv2d", 3, "input, weight, bias",
    (ins KD_Tensor:$input, KD_Tensor:$weight, KD_Tensor:$grad_output), KD_Conv2dAttrs, KD_Conv2dFormat>;
def KD_LinearBwdOp : KD_BackwardOp<"linear", 3, "input, weight, bias",
    (ins KD_Tensor:$input, KD_Tensor:$weight, KD_Tensor:$grad_output)>;
def KD_BatchNormBwdOp : KD_BackwardOp<"batch_norm", 3, "input, weight, bias",
    (ins KD_Tensor:$input, KD_Tensor:$weight, KD_Tensor:$running_mean,
         KD_Tensor:$running_var, KD_Tensor:$grad_output), KD_BatchNormAttrs, KD_BatchNormFormat>;
def KD_LayerNormBwdOp : KD_BackwardOp<"layer_norm", 3, "input, weight, bias",
    (ins KD_Tensor:$input, Optional<KD_Tensor>:$weight, KD_Tensor:$grad_output),
    KD_LayerNormAttrs, KD_LayerNormFormat>;
def KD_GroupNormBwdOp : KD_BackwardOp<"group_norm", 3, "input, weight, bias",
    (ins KD_Tensor:$input, KD_Tensor:$weight, KD_Tensor:$grad_output), KD_GroupNormAttrs, KD_GroupNormFormat>;
def KD_ActivationBwdOp : KD_BackwardOp<"activation", 1, "input",
    (ins KD_Tensor:$input, KD_Tensor:$grad_output), (ins KD_ActivationKind:$kind), "$kind">;
def KD_SoftmaxBwdOp : KD_BackwardOp<"softmax", 1, "input",
    (ins KD_Tensor:$output, KD_Tensor:$grad_output), KD_SoftmaxAttrs, KD_SoftmaxFormat>;
def KD_Pool2dBwdOp : KD_BackwardOp<"pool2d", 1, "input",
    (ins KD_Tensor:$input, KD_Tensor:$grad_output), KD_Pool2dAttrs, KD_Pool2dFormat>;
def KD_AdaptivePoolBwdOp : KD_BackwardOp<"adaptive_pool", 1, "input",
    (ins KD_Tensor:$input, KD_Tensor:$grad_output), KD_AdaptivePoolAttrs, KD_ResizeFormat>;
def KD_ResizeBwdOp : KD_BackwardOp<"resize", 1, "input",
    (ins KD_Tensor:$grad_output), KD_ResizeAttrs, KD_ResizeFormat>;
def KD_BinaryBwdOp : KD_BackwardOp<"binary", 2, "lhs, rhs",
    (ins KD_Tensor:$lhs, KD_Tensor:$rhs, KD_Tensor:$grad_output), (ins KD_BinaryKind:$kind), "$kind">;
def KD_ConcatBwdOp : KD_BackwardOp<"concat", 0, "each input",
    (ins KD_Tensor:$grad_output), (ins I64Attr:$axis), "`axis` $axis">;
def KD_ReshapeBwdOp : KD_BackwardOp<"reshape", 1, "input", (ins KD_Tensor:$grad_output)>;
def KD_DropoutBwdOp : KD_BackwardOp<"dropout", 1, "input",
    (ins KD_Tensor:$grad_output), KD_DropoutAttrs, KD_DropoutFormat>;
def KD_MatMulBwdOp : KD_BackwardOp<"matmul", 2, "lhs, rhs",
    (ins KD_Tensor:$lhs, KD_Tensor:$rhs, KD_Tensor:$grad_output), KD_MatMulAttrs, KD_MatMulFormat>;
def KD_L2NormalizeBwdOp : KD_BackwardOp<"l2_normalize", 1, "input",
    (ins KD_Tensor:$input, KD_Tensor:$grad_output), (ins F64Attr:$eps), "`eps` $eps">;
def KD_MultiHeadAttentionBwdOp : KD_BackwardOp<"mha", 9,
    "input, q_weight, q_bias, k_weight, k_bias, v_weight, v_bias, out_weight, out_bias",
    (ins KD_Tensor:$input, KD_Tensor:$q_weight, KD_Tensor:$q_bias, KD_Tensor:$k_weight,
         KD_Tensor:$k_bias, KD_Tensor:$v_weight, KD_Tensor:$v_bias, KD_Tensor:$out_weight,
         KD_Tensor:$out_bias, KD_Tensor:$grad_output), (ins I64Attr:$num_heads), "`heads` $num_heads">;
def KD_AttentionPoolBwdOp : KD_BackwardOp<"attention_pool", 3, "input, weight, bias",
    (ins KD_Tensor:$input, KD_Tensor:$weight, Optional<KD_Tensor>:$bias,
         KD_Tensor:$grad_output)>;
def KD_TokensBwdOp : KD_BackwardOp<"tokens", 1, "input", (ins KD_Tensor:$grad_output)>;
def KD_ClsTokenBwdOp : KD_BackwardOp<"cls_token", 2, "input, token",
    (ins KD_Tensor:$grad_output)>;
def KD_PosEmbedBwdOp : KD_BackwardOp<"pos_embed", 2, "input, table",
    (ins KD_Tensor:$grad_output)>;
def KD_SelectTokenBwdOp : KD_BackwardOp<"select_token", 1, "input",
    (ins KD_Tensor:$grad_output), (ins I64Attr:$index), "`index` $index">;

def KD_ParamGradOp : KD_Op<"param_grad"> {
  let summary = "Binds the gradient of a parameter";
  let description = [{
    The optimizer of the stage reads it; the name is the parameter's.

    ```mlir
    kd.param_grad "S/logits.linear0.weight" %gw : tensor<10x96xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, KD_Tensor:$grad);
  let assemblyFormat = "$name $grad attr-dict `:` type($grad)";
}

#endif // KD_DIALECT_KD_KDBACKWARDOPS_TD

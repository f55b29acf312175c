//===- KDRTKernelOps.td - One op per runtime kernel --------*- tablegen -*-===//
//
// One op per plan op name (runtime/exec/lib/OpBinding.cpp), in
// destination-passing style: `ins` are the tensors the backend entry reads,
// `outs` those it writes, each in the entry's argument order. The in and
// out signatures are the runtime's: 'r' a required operand, 'o' an optional
// one (`kdrt.null` allowed), '+' one or more required operands (at most one
// '+' per signature, between fixed slots: "r+" is one operand then one or
// more, "+o" one or more then an optional one). Attributes are the fields of
// the runtime's op descriptors in snake_case, typed, so that a wrong
// attribute is caught here rather than when the plan is bound.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KDRT_KDRTKERNELOPS_TD
#define KD_DIALECT_KDRT_KDRTKERNELOPS_TD

include "kd/Dialect/KDRT/KDRTDialect.td"

class KDRT_KernelOp<string name, string inSig, string outSig, string what,
                    dag attrs = (ins)>
    : KDRT_Op<name, [AttrSizedOperandSegments]> {
  let summary = what;
  let description = what # " (plan op `" # name # "`): in `" # inSig
      # "`, out `" # outSig # "`.\n\n```mlir\nkdrt." # name
      # " ins(%a : memref<8x4xf32>) outs(%b : memref<8x4xf32>)\n```";
  let arguments = !con((ins Variadic<KDRT_Operand>:$ins,
                            Variadic<KDRT_Operand>:$outs), attrs);
  let assemblyFormat = [{
    `ins` `(` $ins `:` type($ins) `)` `outs` `(` $outs `:` type($outs) `)` attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The plan's op name, e.g. "conv2d.fwd".
    static ::llvm::StringRef getPlanName() { return "}] # name # [{"; }
    static ::llvm::StringRef getInSignature() { return "}] # inSig # [{"; }
    static ::llvm::StringRef getOutSignature() { return "}] # outSig # [{"; }
  }];
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return ::kd::rt::verifyKernelOp(getOperation(), getInSignature(),
                                      getOutSignature());
    }
  }];
}

defvar KDRT_Conv2dAttrs = (ins DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                               DenseI64ArrayAttr:$dilation, I64Attr:$groups);
defvar KDRT_PostOps = (ins OptionalAttr<DictArrayAttr>:$post_ops);
// "fp32" or "bf16": the arithmetic a forward may use (a permission, see
// --kd-teacher-precision).
defvar KDRT_Precision = (ins OptionalAttr<StrAttr>:$precision);
defvar KDRT_BatchNormAttrs = (ins BoolAttr:$training, F64Attr:$eps, F64Attr:$momentum);
defvar KDRT_LayerNormAttrs = (ins I64Attr:$normalized_rank, F64Attr:$eps);
defvar KDRT_GroupNormAttrs = (ins I64Attr:$groups, F64Attr:$eps);
defvar KDRT_SoftmaxAttrs = (ins F64Attr:$temperature);
defvar KDRT_Pool2dAttrs = (ins DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                               DenseI64ArrayAttr:$pad, BoolAttr:$count_include_pad);
defvar KDRT_AdaptivePoolAttrs = (ins DenseI64ArrayAttr:$output);
defvar KDRT_ResizeAttrs = (ins StrAttr:$mode, DenseI64ArrayAttr:$output);
defvar KDRT_DropoutAttrs = (ins F64Attr:$p, I64Attr:$seed);
defvar KDRT_MatMulAttrs = (ins BoolAttr:$transpose_lhs, BoolAttr:$transpose_rhs);
defvar KDRT_GradScale = (ins F64Attr:$grad_scale);

// A forward and a backward kernel of one family.
multiclass KDRT_Kernel<string name, string fwdIn, string fwdOut, string bwdIn,
                       string bwdOut, string what, dag fwdAttrs = (ins),
                       dag bwdAttrs = (ins)> {
  def FwdOp : KDRT_KernelOp<name # ".fwd", fwdIn, fwdOut, "Forward " # what, fwdAttrs>;
  def BwdOp : KDRT_KernelOp<name # ".bwd", bwdIn, bwdOut, "Backward " # what, bwdAttrs>;
}

// Layers.
// A layer's forward takes, after input, weight and bias, the tensors its
// post-ops read in chain order (a sum's residual, a scale_shift's scale and
// shift).
defm KDRT_Conv2d : KDRT_Kernel<"conv2d", "rro*", "r", "rrr", "ooo", "2-D convolution",
    !con(KDRT_Conv2dAttrs, KDRT_PostOps, KDRT_Precision), KDRT_Conv2dAttrs>;
defm KDRT_Linear : KDRT_Kernel<"linear", "rro*", "r", "rrr", "ooo", "fully connected layer",
    KDRT_PostOps>;
defm KDRT_BatchNorm : KDRT_Kernel<"batch_norm", "rrrrr", "r", "rrrrr", "ooo",
    "batch normalisation (running statistics updated in place in training)",
    KDRT_BatchNormAttrs, KDRT_BatchNormAttrs>;
defm KDRT_LayerNorm : KDRT_Kernel<"layer_norm", "roo", "r", "ror", "ooo",
    "layer normalisation", KDRT_LayerNormAttrs, KDRT_LayerNormAttrs>;
defm KDRT_GroupNorm : KDRT_Kernel<"group_norm", "roo", "r", "ror", "ooo",
    "group normalisation", KDRT_GroupNormAttrs, KDRT_GroupNormAttrs>;

// Activations and softmax.
defm KDRT_Relu : KDRT_Kernel<"relu", "r", "r", "rr", "r", "relu">;
defm KDRT_Gelu : KDRT_Kernel<"gelu", "r", "r", "rr", "r", "gelu (erf form)">;
defm KDRT_Sigmoid : KDRT_Kernel<"sigmoid", "r", "r", "rr", "r", "sigmoid">;
defm KDRT_Tanh : KDRT_Kernel<"tanh", "r", "r", "rr", "r", "tanh">;
defm KDRT_Softmax : KDRT_Kernel<"softmax", "r", "r", "rr", "r",
    "softmax of input / temperature (the backward reads the output)",
    KDRT_SoftmaxAttrs, KDRT_SoftmaxAttrs>;
defm KDRT_LogSoftmax : KDRT_Kernel<"log_softmax", "r", "r", "rr", "r",
    "log-softmax of input / temperature (the backward reads the output)",
    KDRT_SoftmaxAttrs, KDRT_SoftmaxAttrs>;

// Pooling and resizing.
defm KDRT_MaxPool2d : KDRT_Kernel<"max_pool2d", "r", "r", "rr", "r", "2-D max pooling",
    KDRT_Pool2dAttrs, KDRT_Pool2dAttrs>;
defm KDRT_AvgPool2d : KDRT_Kernel<"avg_pool2d", "r", "r", "rr", "r", "2-D average pooling",
    KDRT_Pool2dAttrs, KDRT_Pool2dAttrs>;
defm KDRT_GlobalAvgPool : KDRT_Kernel<"global_avg_pool", "r", "r", "rr", "r",
    "global average pooling">;
defm KDRT_AdaptiveAvgPool : KDRT_Kernel<"adaptive_avg_pool", "r", "r", "rr", "r",
    "adaptive average pooling", KDRT_AdaptivePoolAttrs, KDRT_AdaptivePoolAttrs>;
defm KDRT_AdaptiveMaxPool : KDRT_Kernel<"adaptive_max_pool", "r", "r", "rr", "r",
    "adaptive max pooling", KDRT_AdaptivePoolAttrs, KDRT_AdaptivePoolAttrs>;
defm KDRT_Resize : KDRT_Kernel<"resize", "r", "r", "r", "r", "image resize",
    KDRT_ResizeAttrs, KDRT_ResizeAttrs>;

// Plumbing.
defm KDRT_Add : KDRT_Kernel<"add", "rr", "r", "rrr", "oo", "broadcasting add">;
defm KDRT_Mul : KDRT_Kernel<"mul", "rr", "r", "rrr", "oo", "broadcasting multiply">;
defm KDRT_Concat : KDRT_Kernel<"concat", "+", "r", "r", "+", "concatenation",
    (ins I64Attr:$axis), (ins I64Attr:$axis)>;
defm KDRT_Reshape : KDRT_Kernel<"reshape", "r", "r", "r", "r", "reshape">;
defm KDRT_Dropout : KDRT_Kernel<"dropout", "r", "rr", "rr", "r",
    "dropout (the forward writes the output and the mask the backward reads)",
    KDRT_DropoutAttrs, KDRT_DropoutAttrs>;
defm KDRT_MatMul : KDRT_Kernel<"matmul", "rr", "r", "rrr", "oo", "matrix product",
    KDRT_MatMulAttrs, KDRT_MatMulAttrs>;
defm KDRT_L2Normalize : KDRT_Kernel<"l2_normalize", "r", "r", "rr", "r",
    "per-sample L2 normalisation", (ins F64Attr:$eps), (ins F64Attr:$eps)>;

// Attention and tokens.
defm KDRT_MultiHeadAttention : KDRT_Kernel<"multi_head_attention", "rrorororo", "r",
    "rrorororor", "ooooooooo",
    "multi-head self-attention (separate Q, K, V and output projections)",
    (ins I64Attr:$num_heads), (ins I64Attr:$num_heads)>;
defm KDRT_AttentionPool : KDRT_Kernel<"attention_pool", "rro", "r", "rror", "ooo",
    "GC-block attention pooling">;
defm KDRT_Tokens : KDRT_Kernel<"tokens", "r", "r", "r", "r", "image to tokens">;
defm KDRT_ClsTokenPrepend : KDRT_Kernel<"cls_token_prepend", "rr", "r", "r", "oo",
    "class-token prepend">;
defm KDRT_PositionEmbeddingAdd : KDRT_Kernel<"position_embedding_add", "rr", "r", "r",
    "oo", "position-embedding add">;
defm KDRT_SelectToken : KDRT_Kernel<"select_token", "r", "r", "r", "r", "token selection",
    (ins I64Attr:$index), (ins I64Attr:$index)>;

// Fused losses: out[0] is the value (a rank-0 buffer), then the gradients.
def KDRT_CrossEntropyLossOp : KDRT_KernelOp<"cross_entropy_loss", "rr", "ro",
    "Cross-entropy of logits against labels (f32) or soft targets, with its gradient",
    !con((ins F64Attr:$label_smoothing, BoolAttr:$soft_targets), KDRT_GradScale)>;
def KDRT_KlDivLossOp : KDRT_KernelOp<"kl_div_loss", "rr", "roo",
    "KL divergence of softened logits, with its gradients",
    !con((ins F64Attr:$temperature, BoolAttr:$scale_by_temperature_squared,
              StrAttr:$reduction), KDRT_GradScale)>;
def KDRT_MseLossOp : KDRT_KernelOp<"mse_loss", "rr", "roo",
    "Mean squared error, with its gradients", KDRT_GradScale>;
def KDRT_L1LossOp : KDRT_KernelOp<"l1_loss", "rr", "roo",
    "Mean absolute error, with its gradients", KDRT_GradScale>;
def KDRT_SmoothL1LossOp : KDRT_KernelOp<"smooth_l1_loss", "rr", "roo",
    "Smooth L1 error, with its gradients", !con((ins F64Attr:$beta), KDRT_GradScale)>;
def KDRT_CosineLossOp : KDRT_KernelOp<"cosine_loss", "rr", "roo",
    "Mean of 1 - cos over the batch, with its gradients", KDRT_GradScale>;
def KDRT_AttentionTransferLossOp : KDRT_KernelOp<"attention_transfer_loss", "rr", "roo",
    "Attention transfer, with its gradients", !con((ins F64Attr:$p), KDRT_GradScale)>;
def KDRT_RkdDistanceLossOp : KDRT_KernelOp<"rkd_distance_loss", "rr", "roo",
    "Relational KD (distance), with its gradients", KDRT_GradScale>;
def KDRT_RkdAngleLossOp : KDRT_KernelOp<"rkd_angle_loss", "rr", "roo",
    "Relational KD (angle), with its gradients", KDRT_GradScale>;
def KDRT_DkdLossOp : KDRT_KernelOp<"dkd_loss", "rrr", "ro",
    "Decoupled KD on logits and labels, with the student's gradient",
    !con((ins F64Attr:$alpha, F64Attr:$beta, F64Attr:$temperature), KDRT_GradScale)>;

// One call for the CE / KL terms of kd.loss.logit_group: ins are the
// logits, then one target per term; outs one value per term, then the
// logits' gradient (the weighted sum of the terms') or kdrt.null. `terms`
// holds each term's descriptor: kind ("ce" | "kl"), weight (its gradScale)
// and label_smoothing, soft_targets or temperature, reduction,
// scale_by_temperature_squared.
def KDRT_LogitLossGroupOp : KDRT_KernelOp<"logit_loss_group", "r+", "+o",
    "CE and KL terms on shared logits with one log-softmax per temperature",
    (ins DictArrayAttr:$terms)>;

// The logits of a teacher ensemble at `temperature`: ins are the members'
// logits, then the weights ([M], the `fixed` weighting) and the labels
// (`ca_mkd`), each kdrt.null where the weighting does not read it; out the
// combined logits T * log(sum_m w_m softmax(member_m / T)). Forward only.
def KDRT_EnsembleCombineOp : KDRT_KernelOp<"ensemble_combine", "+oo", "r",
    "Teacher ensemble logits: the weighted mixture of the members' softened predictions",
    (ins StrAttr:$weighting, F64Attr:$temperature)>;

def KDRT_FoldBatchNormOp : KDRT_KernelOp<"fold_batch_norm", "rorrrr", "rr",
    "An inference batch norm folded into the layer before it, run once when a .kdx export is written: ins the layer's weight and optional bias, gamma, beta and the running statistics (the trained plan's parameters), outs the folded weight and bias (the exported plan's)",
    (ins F64Attr:$eps)>;

def KDRT_BatchNormScaleShiftOp : KDRT_KernelOp<"batch_norm_scale_shift", "rrrr", "rr",
    "An inference batch norm as the scale and shift of a conv / linear scale_shift post-op: ins gamma, beta and the running statistics, outs scale = gamma / sqrt(var + eps) and shift = beta - mean * scale",
    (ins F64Attr:$eps)>;

def KDRT_ScaleAddOp : KDRT_KernelOp<"scale_add", "+", "r",
    "Weighted sum out = sum_i scales[i] * in[i] + bias of loss values, gradients or predictions",
    (ins DenseF64ArrayAttr:$scales, OptionalAttr<F64Attr>:$bias)>;

#endif // KD_DIALECT_KDRT_KDRTKERNELOPS_TD

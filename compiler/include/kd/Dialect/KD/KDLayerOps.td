//===- KDLayerOps.td - Layer ops of kd models --------------*- tablegen -*-===//
//
// One op per runtime op family; attributes mirror the runtime's op
// descriptors (runtime/include/kdrt/OpDesc.h) so that lowering is a direct
// copy. Shapes include the batch dimension, which is dynamic.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDLAYEROPS_TD
#define KD_DIALECT_KD_KDLAYEROPS_TD

include "kd/Dialect/KD/KDDialect.td"
include "kd/Dialect/KD/KDEnums.td"
include "kd/Dialect/KD/KDTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "kd/Interfaces/DifferentiableOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// A forward layer: pure, differentiable, verified. Every layer declares its
// backward rule (compiler/lib/Dialect/KD/LayerGradientRules.cpp), so a layer
// without one fails to link instead of failing at run time.
class KD_LayerOp<string mnemonic, list<Trait> traits = []>
    : KD_Op<mnemonic, !listconcat([Pure, DeclareOpInterfaceMethods<KD_DifferentiableOpInterface,
                                                                   ["buildBackward"]>], traits)> {
  let hasVerifier = 1;
}

// Attribute lists shared by a forward op and its backward op.
defvar KD_Conv2dAttrs = (ins DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                             DenseI64ArrayAttr:$dilation, I64Attr:$groups);
defvar KD_BatchNormAttrs = (ins F64Attr:$eps, F64Attr:$momentum);
defvar KD_LayerNormAttrs = (ins I64Attr:$normalized_rank, F64Attr:$eps);
defvar KD_GroupNormAttrs = (ins I64Attr:$groups, F64Attr:$eps);
defvar KD_SoftmaxAttrs = (ins F64Attr:$temperature, UnitAttr:$log);
defvar KD_Pool2dAttrs = (ins KD_PoolMode:$mode, DenseI64ArrayAttr:$kernel,
                             DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$pad,
                             UnitAttr:$count_include_pad);
defvar KD_AdaptivePoolAttrs = (ins KD_PoolMode:$mode, DenseI64ArrayAttr:$output_size);
defvar KD_ResizeAttrs = (ins KD_ResizeMode:$mode, DenseI64ArrayAttr:$output_size);
defvar KD_DropoutAttrs = (ins F64Attr:$p, I64Attr:$seed);
defvar KD_MatMulAttrs = (ins UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);

//===----------------------------------------------------------------------===//
// Convolution and dense layers
//===----------------------------------------------------------------------===//

def KD_Conv2dOp : KD_LayerOp<"conv2d"> {
  let summary = "2-D convolution (NCHW)";
  let description = [{
    input `[N, C, H, W]`, weight `[O, C/groups, KH, KW]`, optional bias `[O]`
    give `[N, O, (H + 2 pad - dilation (K - 1) - 1) / stride + 1, ...]`.

    ```mlir
    %y = kd.conv2d %x, %w, %b stride [1, 1] pad [1, 1] dilation [1, 1] groups 1
        : (tensor<?x1x28x28xf32>, tensor<24x1x3x3xf32>, tensor<24xf32>)
          -> tensor<?x24x28x28xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input, KD_Tensor:$weight,
                            Optional<KD_Tensor>:$bias), KD_Conv2dAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? `stride` $stride `pad` $pad
    `dilation` $dilation `groups` $groups attr-dict `:` functional-type(operands, results)
  }];
}

def KD_LinearOp : KD_LayerOp<"linear"> {
  let summary = "Fully connected layer";
  let description = [{
    input `[..., I]`, weight `[O, I]`, optional bias `[O]` give `[..., O]`.

    ```mlir
    %y = kd.linear %x, %w, %b
        : (tensor<?x96xf32>, tensor<10x96xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input, KD_Tensor:$weight, Optional<KD_Tensor>:$bias);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

def KD_BatchNormOp : KD_LayerOp<"batch_norm"> {
  let summary = "Batch normalisation over the channel dimension";
  let description = [{
    input `[N, C, ...]`; scale, shift, running mean and running variance `[C]`.
    Whether batch or running statistics are used is decided by the use (a
    stage trains, an evaluation infers), not by the op.

    ```mlir
    %y = kd.batch_norm %x, %g, %b, %m, %v eps 1.0e-05 momentum 1.0e-01
        : (tensor<?x24x28x28xf32>, tensor<24xf32>, tensor<24xf32>, tensor<24xf32>,
           tensor<24xf32>) -> tensor<?x24x28x28xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input, KD_Tensor:$weight, KD_Tensor:$bias,
                            KD_Tensor:$running_mean, KD_Tensor:$running_var),
                       KD_BatchNormAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $running_mean `,` $running_var `eps` $eps
    `momentum` $momentum attr-dict `:` functional-type(operands, results)
  }];
}

def KD_LayerNormOp : KD_LayerOp<"layer_norm", [AttrSizedOperandSegments]> {
  let summary = "Layer normalisation over the trailing dimensions";
  let description = [{
    Normalises over the trailing `normalized_rank` dimensions; the optional
    scale and shift have the shape of those dimensions.

    ```mlir
    %y = kd.layer_norm %x, %g, %b rank 1 eps 1.0e-05
        : (tensor<?x50x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x50x64xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input, Optional<KD_Tensor>:$weight,
                            Optional<KD_Tensor>:$bias), KD_LayerNormAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $input (`,` $weight^)? (`,` $bias^)? `rank` $normalized_rank `eps` $eps attr-dict
    `:` functional-type(operands, results)
  }];
}

def KD_GroupNormOp : KD_LayerOp<"group_norm"> {
  let summary = "Group normalisation";
  let description = [{
    input `[N, C, ...]` with `C` divisible by `groups`; scale and shift `[C]`.

    ```mlir
    %y = kd.group_norm %x, %g, %b groups 8 eps 1.0e-05
        : (tensor<?x32x7x7xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<?x32x7x7xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input, KD_Tensor:$weight, KD_Tensor:$bias),
                       KD_GroupNormAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `groups` $groups `eps` $eps attr-dict
    `:` functional-type(operands, results)
  }];
}

def KD_L2NormalizeOp : KD_LayerOp<"l2_normalize", [SameOperandsAndResultType]> {
  let summary = "Per-sample L2 normalisation";
  let description = [{
    `x / max(||x||, eps)` over all non-batch dimensions.

    ```mlir
    %y = kd.l2_normalize %x eps 1.0e-12 : tensor<?x96xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input, F64Attr:$eps);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input `eps` $eps attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Elementwise activations and softmax
//===----------------------------------------------------------------------===//

class KD_UnaryOp<string mnemonic, string formula>
    : KD_LayerOp<mnemonic, [SameOperandsAndResultType]> {
  let summary = "Elementwise " # mnemonic;
  let description = "`" # formula # "` elementwise.\n\n"
      # "```mlir\n%y = kd." # mnemonic # " %x : tensor<?x16x28x28xf32>\n```";
  let arguments = (ins KD_Tensor:$input);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  // Same type in and out is all there is to check.
  let hasVerifier = 0;
}

def KD_ReluOp : KD_UnaryOp<"relu", "max(x, 0)">;
def KD_GeluOp : KD_UnaryOp<"gelu", "x * Phi(x) (exact erf form)">;
def KD_SigmoidOp : KD_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def KD_TanhOp : KD_UnaryOp<"tanh", "tanh(x)">;

def KD_SoftmaxOp : KD_LayerOp<"softmax", [SameOperandsAndResultType]> {
  let summary = "Softmax or log-softmax of input / temperature";
  let description = [{
    Over the last dimension; `log` makes it a log-softmax.

    ```mlir
    %p = kd.softmax %x temperature 4.0 : tensor<?x10xf32>
    %l = kd.softmax %x temperature 1.0 log : tensor<?x10xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input), KD_SoftmaxAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input `temperature` $temperature (`log` $log^)? attr-dict `:` type($input)";
}

def KD_DropoutOp : KD_LayerOp<"dropout", [SameOperandsAndResultType]> {
  let summary = "Dropout with drop probability p";
  let description = [{
    The mask is a pure function of `(seed, element index)`, so every backend
    draws the same one. Identity outside training.

    ```mlir
    %y = kd.dropout %x p 0.5 seed 3 : tensor<?x96xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input), KD_DropoutAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input `p` $p `seed` $seed attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Pooling and resizing
//===----------------------------------------------------------------------===//

def KD_Pool2dOp : KD_LayerOp<"pool2d"> {
  let summary = "2-D max or average pooling";
  let description = [{
    ```mlir
    %y = kd.pool2d max %x kernel [2, 2] stride [2, 2] pad [0, 0]
        : tensor<?x24x28x28xf32> -> tensor<?x24x14x14xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input), KD_Pool2dAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $mode $input `kernel` $kernel `stride` $stride `pad` $pad
    (`count_include_pad` $count_include_pad^)? attr-dict `:` type($input) `->` type($result)
  }];
}

def KD_AdaptivePoolOp : KD_LayerOp<"adaptive_pool"> {
  let summary = "Adaptive pooling to a fixed spatial size";
  let description = [{
    PyTorch's bins; global average pooling is `avg` to `[1, 1]`.

    ```mlir
    %y = kd.adaptive_pool avg %x to [1, 1] : tensor<?x96x7x7xf32> -> tensor<?x96x1x1xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input), KD_AdaptivePoolAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $mode $input `to` $output_size attr-dict `:` type($input) `->` type($result)
  }];
}

def KD_ResizeOp : KD_LayerOp<"resize"> {
  let summary = "Image resize";
  let description = [{
    ```mlir
    %y = kd.resize bilinear %x to [14, 14] : tensor<?x1x28x28xf32> -> tensor<?x1x14x14xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$input), KD_ResizeAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $mode $input `to` $output_size attr-dict `:` type($input) `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Tensor plumbing
//===----------------------------------------------------------------------===//

class KD_BinaryOp<string mnemonic, string symbol>
    : KD_LayerOp<mnemonic, [AllTypesMatch<["lhs", "result"]>]> {
  let summary = "Elementwise " # mnemonic # " with broadcasting of the right operand";
  let description = "`lhs " # symbol # " rhs`; rhs broadcasts to lhs numpy-style "
      # "(right-aligned, each dimension equal or 1). The result has lhs's type.\n\n"
      # "```mlir\n%y = kd." # mnemonic # " %a, %b : tensor<?x64x7x7xf32>, tensor<?x64x1x1xf32>\n```";
  let arguments = (ins KD_Tensor:$lhs, KD_Tensor:$rhs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let builders = [OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs), [{
    build($_builder, $_state, lhs.getType(), lhs, rhs);
  }]>];
}

def KD_AddOp : KD_BinaryOp<"add", "+">;
def KD_MulOp : KD_BinaryOp<"mul", "*">;

def KD_ConcatOp : KD_LayerOp<"concat"> {
  let summary = "Concatenation along an axis";
  let description = [{
    All other dimensions must agree; axis 1 is the channel (first
    per-sample) dimension.

    ```mlir
    %y = kd.concat %a, %b axis 1 : (tensor<?x16x7x7xf32>, tensor<?x32x7x7xf32>) -> tensor<?x48x7x7xf32>
    ```
  }];
  let arguments = (ins Variadic<KD_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$inputs `axis` $axis attr-dict `:` functional-type($inputs, results)";
}

def KD_ReshapeOp : KD_LayerOp<"reshape"> {
  let summary = "Reshape (flatten) to the result type";
  let description = [{
    The batch dimension is kept; the per-sample element counts must agree.

    ```mlir
    %y = kd.reshape %x : tensor<?x96x1x1xf32> -> tensor<?x96xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def KD_MatMulOp : KD_LayerOp<"matmul"> {
  let summary = "Matrix product, optionally batched";
  let description = [{
    `[M, K] x [K, N]` or `[B, M, K] x [B, K, N]`; the transpose flags swap the
    last two dimensions of an operand.

    ```mlir
    %y = kd.matmul %a, %b transpose_rhs : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = !con((ins KD_Tensor:$lhs, KD_Tensor:$rhs), KD_MatMulAttrs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`transpose_lhs` $transpose_lhs^)? (`transpose_rhs` $transpose_rhs^)?
    attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Attention and tokens
//===----------------------------------------------------------------------===//

def KD_MultiHeadAttentionOp : KD_LayerOp<"mha"> {
  let summary = "Multi-head self-attention on tokens";
  let description = [{
    input `[B, N, D]`; separate query, key, value and output projections,
    each a weight `[D, D]` (out, in) with a bias `[D]`, in the order of the
    runtime's attention entry so that parameters map onto it one to one;
    `D` divisible by `heads`.

    ```mlir
    %y = kd.mha %x, %wq, %bq, %wk, %bk, %wv, %bv, %wo, %bo heads 4
        : (tensor<?x50x64xf32>, tensor<64x64xf32>, tensor<64xf32>,
           tensor<64x64xf32>, tensor<64xf32>, tensor<64x64xf32>, tensor<64xf32>,
           tensor<64x64xf32>, tensor<64xf32>) -> tensor<?x50x64xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input, KD_Tensor:$q_weight, KD_Tensor:$q_bias,
                       KD_Tensor:$k_weight, KD_Tensor:$k_bias, KD_Tensor:$v_weight,
                       KD_Tensor:$v_bias, KD_Tensor:$out_weight, KD_Tensor:$out_bias,
                       I64Attr:$num_heads);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $q_weight `,` $q_bias `,` $k_weight `,` $k_bias `,` $v_weight `,` $v_bias `,`
    $out_weight `,` $out_bias `heads` $num_heads attr-dict `:` functional-type(operands, results)
  }];
}

def KD_AttentionPoolOp : KD_LayerOp<"attention_pool"> {
  let summary = "GC-block attention pooling";
  let description = [{
    A 1x1 conv to one logit per position (weight `[1, C, 1, 1]`, bias `[1]`),
    softmax over positions, weighted sum: `[N, C, H, W]` -> `[N, C, 1, 1]`.

    ```mlir
    %y = kd.attention_pool %x, %w, %b
        : (tensor<?x64x7x7xf32>, tensor<1x64x1x1xf32>, tensor<1xf32>) -> tensor<?x64x1x1xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input, KD_Tensor:$weight, Optional<KD_Tensor>:$bias);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def KD_TokensOp : KD_LayerOp<"tokens"> {
  let summary = "Image to tokens";
  let description = [{
    `[N, C, H, W]` -> `[N, H*W, C]`.

    ```mlir
    %t = kd.tokens %x : tensor<?x64x7x7xf32> -> tensor<?x49x64xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def KD_ClsTokenOp : KD_LayerOp<"cls_token"> {
  let summary = "Prepend a learned class token";
  let description = [{
    x `[N, L, D]`, token `[1, 1, D]` -> `[N, L + 1, D]`.

    ```mlir
    %y = kd.cls_token %x, %tok : (tensor<?x49x64xf32>, tensor<1x1x64xf32>) -> tensor<?x50x64xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input, KD_Tensor:$token);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input `,` $token attr-dict `:` functional-type(operands, results)";
}

def KD_PosEmbedOp : KD_LayerOp<"pos_embed"> {
  let summary = "Add a learned position embedding";
  let description = [{
    x `[N, L, D]` + table `[1, L, D]`.

    ```mlir
    %y = kd.pos_embed %x, %table : (tensor<?x50x64xf32>, tensor<1x50x64xf32>) -> tensor<?x50x64xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input, KD_Tensor:$table);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input `,` $table attr-dict `:` functional-type(operands, results)";
}

def KD_SelectTokenOp : KD_LayerOp<"select_token"> {
  let summary = "Select one token";
  let description = [{
    `[N, L, D]` -> `[N, D]`; a negative index counts from the end.

    ```mlir
    %c = kd.select_token %x index 0 : tensor<?x50x64xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input, I64Attr:$index);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input `index` $index attr-dict `:` type($input) `->` type($result)";
}

#endif // KD_DIALECT_KD_KDLAYEROPS_TD

//===- KDStageOps.td - Training stages and their bodies ----*- tablegen -*-===//
//
// A stage owns one training step: where the batch comes from, which models
// it applies and which taps it reads, the helper modules and losses over
// those taps, and the loss it minimises.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDSTAGEOPS_TD
#define KD_DIALECT_KD_KDSTAGEOPS_TD

include "kd/Dialect/KD/KDDialect.td"
include "kd/Dialect/KD/KDEnums.td"
include "kd/Dialect/KD/KDTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// The attributes every training stage carries.
defvar KD_StageAttrs = (ins SymbolNameAttr:$sym_name, StrAttr:$kind,
    FlatSymbolRefAttr:$data, StrAttr:$split, I64Attr:$epochs, I64Attr:$batch,
    I64Attr:$steps, SymbolRefArrayAttr:$trained, SymbolRefArrayAttr:$frozen,
    StrArrayAttr:$frozen_parts, OptionalAttr<DictionaryAttr>:$optimizer,
    OptionalAttr<DictionaryAttr>:$schedule, DictArrayAttr:$groups);

def KD_StageOp : KD_Op<"stage", [Symbol, SingleBlock, NoRegionArguments,
                                 DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "A training stage";
  let description = [{
    `kind` is train, distill or self_distill; `trained` and `frozen` list
    models; `optimizer` and `schedule` are dictionaries with a `kind` and the
    evaluated arguments; `groups` the parameter groups. The body computes the
    loss of one batch and ends in `kd.minimize`.

    ```mlir
    kd.stage @distill attributes {kind = "distill", data = @fmnist, split = "train", ...} {
      %x = kd.batch_input : tensor<?x1x28x28xf32>
      %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x1x28x28xf32>) -> tensor<?x10xf32>
      ...
      kd.minimize %loss
    }
    ```
  }];
  let arguments = KD_StageAttrs;
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
}

def KD_GraftStageOp : KD_Op<"graft_stage", [Symbol,
                                            DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "A graft stage, before expansion into concrete stages";
  let description = [{
    Swaps the student's blocks into the teacher one at a time (`mode =
    "blocks"`) or progressively; `blocks` lists each block with its teacher
    and student shapes and where adapters are needed. The body is the loss of
    one batch, as in `kd.stage`; taps of the hybrid are read by a `kd.apply`
    of the teacher marked `hybrid`, which --kd-expand-grafts points at each
    expanded stage's hybrid model.

    ```mlir
    kd.graft_stage @graft attributes {student = @S_model, teacher = @T_model,
        hybrid = "H", mode = "blocks", block_epochs = array<i64: 1, 1>, blocks = [...], ...} {
      %x = kd.batch_input : tensor<?x3x32x32xf32>
      %h = kd.apply @T_model(%x) taps ["logits"] {hybrid} : (tensor<?x3x32x32xf32>) -> tensor<?x2xf32>
      ...
      kd.minimize %loss
    }
    ```
  }];
  let arguments = !con(KD_StageAttrs,
      (ins FlatSymbolRefAttr:$student, FlatSymbolRefAttr:$teacher, StrAttr:$hybrid,
           StrAttr:$mode, DenseI64ArrayAttr:$block_epochs, DictArrayAttr:$blocks));
  let regions = (region MaxSizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword ($body^)?";
  let hasVerifier = 1;
}

def KD_BatchInputOp : KD_Op<"batch_input", [Pure]> {
  let summary = "The stage's batch of images";
  let description = [{
    The augmented images of the step, with the optional per-model input
    `transform` (a dictionary such as `{kind = "resize", h = 14, w = 14}`).

    ```mlir
    %x = kd.batch_input : tensor<?x1x28x28xf32>
    ```
  }];
  let arguments = (ins OptionalAttr<DictionaryAttr>:$transform);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def KD_BatchLabelsOp : KD_Op<"batch_labels", [Pure]> {
  let summary = "The stage's batch of labels";
  let description = [{
    ```mlir
    %y = kd.batch_labels : tensor<?xi64>
    ```
  }];
  let results = (outs KD_Labels:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def KD_ApplyOp : KD_Op<"apply", [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Runs a model and reads some of its taps";
  let description = [{
    One result per requested tap, typed like the tapped value. In a
    `kd.graft_stage`, `hybrid` reads the graft's hybrid model instead of
    `model`, the teacher whose taps the hybrid shares.

    ```mlir
    %logits, %l2 = kd.apply @S_model(%x) taps ["logits", "l2"]
        : (tensor<?x1x28x28xf32>) -> (tensor<?x10xf32>, tensor<?x48x7x7xf32>)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$model, KD_Tensor:$input, StrArrayAttr:$taps,
                       UnitAttr:$hybrid);
  let results = (outs Variadic<KD_Tensor>:$results);
  let assemblyFormat = [{
    $model `(` $input `)` `taps` $taps attr-dict `:` functional-type($input, $results)
  }];
}

def KD_AdaptOp : KD_Op<"adapt"> {
  let summary = "A learned adapter from one feature shape to another";
  let description = [{
    `kind` is the adapter Sema chose (conv1x1, conv3x3, linear, pool,
    conv1x1+pool, identity); --kd-materialize-adapters turns it into layers
    with parameters named `adapters/<name>`.

    ```mlir
    %a = kd.adapt %s "conv1x1" name "adapt0" : tensor<?x48x7x7xf32> -> tensor<?x128x7x7xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input, StrAttr:$kind, StrAttr:$name);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input $kind `name` $name attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def KD_AttentionFuseOp : KD_Op<"attention_fuse"> {
  let summary = "Attention fusion of several features into one vector";
  let description = [{
    Each feature is flattened and projected to `dim`, then fused by
    multi-head attention with `heads` heads; the result is `[N, dim]`.

    ```mlir
    %f = kd.attention_fuse %a, %b heads 4 dim 64 name "fuse0"
        : (tensor<?x64xf32>, tensor<?x128x7x7xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Variadic<KD_Tensor>:$features, I64Attr:$heads, I64Attr:$dim, StrAttr:$name);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = [{
    $features `heads` $heads `dim` $dim `name` $name attr-dict `:` functional-type($features, $result)
  }];
  let hasVerifier = 1;
}

def KD_NormalizeOp : KD_Op<"normalize", [Pure, SameOperandsAndResultType]> {
  let summary = "Per-sample L2 normalisation of a feature";
  let description = [{
    ```mlir
    %n = kd.normalize %f : tensor<?x96xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def KD_StopGradientOp : KD_Op<"stop_gradient", [Pure, SameOperandsAndResultType]> {
  let summary = "Reads a feature without passing it a gradient (`detach(x)`)";
  let description = [{
    The value of `input`; --kd-autodiff treats the result as a constant, so
    nothing upstream of it is trained by the losses that read it, and then
    replaces it by its input. A relation loss against an attention fusion
    reads the fusion through it, so that the fusion cannot drift towards
    the student.

    ```mlir
    %d = kd.stop_gradient %fused : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$input);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def KD_MeanOp : KD_Op<"mean", [Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise mean of equally shaped features";
  let description = [{
    ```mlir
    %m = kd.mean %a, %b : tensor<?x10xf32>
    ```
  }];
  let arguments = (ins Variadic<KD_Tensor>:$inputs);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def KD_EnsembleOp : KD_Op<"ensemble", [Pure, AttrSizedOperandSegments]> {
  let summary = "The prediction of a teacher ensemble, as logits at a temperature";
  let description = [{
    The members' predictions softened at `temperature` T, mixed per sample
    with weights w_m that sum to 1, and written as logits:
    `T * log(sum_m w_m softmax(member_m / T))`, so that the kl or dkd loss
    reading them at T sees the mixture itself. `weighting` is equal (the
    mean), fixed (`weights`, one per member), accuracy (the members'
    accuracies on a split, measured before the stage runs), entropy or
    ca_mkd (per sample from the members' predictions; ca_mkd reads the
    `labels`). `ensemble` names the teacher the op computes.

    ```mlir
    %e = kd.ensemble %a, %b weighting "fixed" {ensemble = @E, temperature = 4.0 : f64, weights = array<f64: 0.7, 0.3>} : tensor<?x10xf32>
    %c = kd.ensemble %a, %b labels %y : tensor<?xi64> weighting "ca_mkd" {ensemble = @C} : tensor<?x10xf32>
    ```
  }];
  let arguments = (ins Variadic<KD_Tensor>:$members, Optional<KD_Labels>:$labels, StrAttr:$weighting,
                       OptionalAttr<DenseF64ArrayAttr>:$weights,
                       DefaultValuedAttr<F64Attr, "1.0">:$temperature,
                       OptionalAttr<FlatSymbolRefAttr>:$ensemble);
  let results = (outs KD_Tensor:$result);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
}

def KD_MinimizeOp : KD_Op<"minimize", [Terminator, ParentOneOf<["StageOp", "GraftStageOp"]>]> {
  let summary = "The loss a stage minimises";
  let description = [{
    ```mlir
    kd.minimize %loss
    ```
  }];
  let arguments = (ins KD_LossValue:$loss);
  let assemblyFormat = "$loss attr-dict";
}

#endif // KD_DIALECT_KD_KDSTAGEOPS_TD

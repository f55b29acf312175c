//===- Passes.td - The kd dialect's passes -----------------*- tablegen -*-===//
//
// One `def` per pass, in the order of docs/compiler.md's pass table. Each
// pass lives in compiler/lib/Transforms/<Name>.cpp and has a lit test named
// after its flag in test/Transforms/.
//
//===----------------------------------------------------------------------===//
#ifndef KD_TRANSFORMS_PASSES_TD
#define KD_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def KdVerifyShapes : Pass<"kd-verify-shapes", "mlir::ModuleOp"> {
  let summary = "Re-infers every shape from the op semantics and checks the recorded types";
  let description = [{
    A safety net between passes. Every layer op's result, every tap a
    `kd.apply` reads, every stage batch (the data set's image after the
    split's resizing augmentations and the model's input transform), every
    `kd.adapt` (against its kind) and every loss operand is re-inferred and
    compared exactly with the recorded type: the batch dimension is dynamic
    and all others are static. A mismatch is an error at the op naming both
    shapes:

    ```mlir
    // error: 'kd.conv2d' op the result is recorded as [?, 24, ?, 14] but
    // its shape rule gives [?, 24, 14, 14]
    %y = kd.conv2d %x, %w stride [2, 2] pad [1, 1] dilation [1, 1] groups 1
        : (tensor<?x1x28x28xf32>, tensor<24x1x3x3xf32>) -> tensor<?x24x?x14xf32>
    ```
  }];
}

def KdFreezeTeachers : Pass<"kd-freeze-teachers", "mlir::ModuleOp"> {
  let summary = "Frozen models become pruned inference copies; freeze targets become parameter lists";
  let description = [{
    In every `kd.stage`, each `kd.apply` of a model the stage does not
    train (its `frozen` teachers and students) gets the unit attribute
    `frozen` (no gradient flows into it) and is pointed at a pruned
    inference copy of the model, `@<model>.frozen` with
    `frozen_from = @<model>`: only the ops the apply's taps depend on are
    kept (everything after the last used tap, and side branches no tap
    needs, is removed), dropout is removed, and each `kd.batch_norm` gets
    the unit attribute `inference` (running statistics). One copy is made
    per distinct (model, tap set); pruning happens here rather than during
    inlining so that the pruned model is an ordinary, printable kd.model.
    Parameter names are kept, so a copy reads the weights its model
    trained.

    For an apply of a trained model, the stage's `freeze` targets
    (`frozen_parts`: a model `S`, a block `S.l1`, or a named value
    `S.logits` whose own layers are frozen) become the sorted
    `frozen_params` list of parameter names on the apply.

    ```mlir
    // before: the teacher is read at l1 only
    %t = kd.apply @T_model(%x) taps ["l1"] : (tensor<?x1x28x28xf32>) -> tensor<?x32x14x14xf32>
    // after
    %t = kd.apply @T_model.frozen(%x) taps ["l1"] {frozen} : (tensor<?x1x28x28xf32>) -> tensor<?x32x14x14xf32>
    kd.model @T_model.frozen(%x: tensor<?x1x28x28xf32>) -> tensor<?x32x14x14xf32>
        attributes {frozen_from = @T_model} { ... ops up to l1 ... }
    ```
  }];
  let dependentDialects = ["::kd::KDDialect"];
}

def KdInlineModels : Pass<"kd-inline-models", "mlir::ModuleOp"> {
  let summary = "Replaces kd.apply by the model's ops so each stage is one flat graph";
  let description = [{
    Every `kd.apply @M(%x) taps [...]` in a stage or an evaluation body is
    replaced by a clone of M's layer ops (taps, block markers and the output
    are dropped), the model input mapped to `%x`, each result replaced by
    the cloned tapped value. Parameters become stage-level `kd.param` ops
    under their global names, one per name and body even when a model is
    applied twice. In a stage, a parameter inlined from a `frozen` apply,
    from a model not in the stage's `trained` list, or named by the apply's
    `frozen_params` gets the unit attribute `frozen`. Pruned copies made by
    --kd-freeze-teachers are erased once inlined.

    ```mlir
    // before
    %s = kd.apply @S_model(%x) taps ["logits"] : (tensor<?x96xf32>) -> tensor<?x10xf32>
    // after
    %w = kd.param "S/linear0.weight" weight xavier_uniform : tensor<10x96xf32>
    %s = kd.linear %x, %w : (tensor<?x96xf32>, tensor<10x96xf32>) -> tensor<?x10xf32>
    ```
  }];
  let dependentDialects = ["::kd::KDDialect"];
}

def KdAutodiff : Pass<"kd-autodiff", "mlir::ModuleOp"> {
  let summary = "Builds the backward of each stage's loss and binds every trainable parameter's gradient";
  let description = [{
    Runs on flat stages (after --kd-inline-models). A value needs a gradient
    only when it depends on a trainable parameter (role not `state`, not
    marked `frozen`). `kd.loss.combine` gives each loss its weight, which
    becomes the `scale` (the runtime's gradScale) of the loss's
    `kd.loss.grad`. The ops are then walked backwards from `kd.minimize`,
    each building its `kd.<op>_bwd` through DifferentiableOpInterface with
    `wanted` flags only for operands that need a gradient (never a batch
    input, label or frozen parameter, nor a loss's target: the target of
    `kd.loss.kl` and `kd.loss.ce`, the teacher side of `rkd_*` and `dkd`,
    even when a trained model computes it, as the deepest classifier of a
    self-distilled student does); gradients of a value read several
    times are summed with `kd.add`. Each trainable parameter's gradient is
    bound by `kd.param_grad`. The backward ops are inserted before
    `kd.minimize` and carry the `.kd` location of their forward op.

    A trainable parameter the loss does not reach is an error at the
    parameter:

    ```
    student.kd:14:3: error: parameter 'S/l3.conv0.weight' of the trained model
        'S' receives no gradient from the loss of stage 'distill'; freeze it or
        use it in the loss
    ```

    ```mlir
    %gs = kd.loss.grad %kl scale 9.000000e-01 wanted [true, false] : tensor<?x10xf32>
    %gx, %gw, %gb = kd.linear_bwd %x, %w, %gs wanted [true, true, true] : ...
    kd.param_grad "S/linear0.weight" %gw : tensor<10x96xf32>
    ```
  }];
  let dependentDialects = ["::kd::KDDialect"];
}

def KdFuse : Pass<"kd-fuse", "mlir::ModuleOp"> {
  let summary = "Fuses conv/linear with their post-ops and groups CE/KL losses on shared logits";
  let description = [{
    In every flat stage and evaluation body:
    - a `kd.conv2d` / `kd.linear` and the ops after it become one
      `kd.conv2d_fused` / `kd.linear_fused` with a post-op chain (the
      runtime's PostOpChain, at most 6 entries). Inference graphs fuse an
      inference batch norm (`scale_shift`, its operands from
      `kd.bn_scale_shift`), relu/gelu/sigmoid/tanh and residual adds
      (`sum`). Training graphs fuse one trailing relu/sigmoid/tanh only, and
      replace the activation's backward and the layer's backward by one
      `kd.conv2d_fused_bwd` / `kd.linear_fused_bwd` that reads the
      post-activation output. A value read outside the chain (e.g. a tap a
      loss reads) ends the chain.
    - two or more `kd.loss.ce` / `kd.loss.kl` (not reverse) on the same
      logits, each read only by a `kd.loss.combine`, become one
      `kd.loss.logit_group` with one term per loss and its combine weight.

    ```mlir
    // before (evaluation body)
    %c = kd.conv2d %x, %w, %b ...
    %n = kd.batch_norm %c, %g, %beta, %m, %v eps 1.0e-05 momentum 0.1 ...
    %r = kd.relu %n : tensor<?x8x4x4xf32>
    // after
    %s, %t = kd.bn_scale_shift %g, %beta, %m, %v eps 1.0e-05 : tensor<8xf32>
    %r = kd.conv2d_fused %x, %w, %b post_ops ["scale_shift", "relu"] (%s, %t) ...
    ```
  }];
  let dependentDialects = ["::kd::KDDialect"];
}

def KdTeacherPrecision : Pass<"kd-teacher-precision", "mlir::ModuleOp"> {
  let summary = "Lets a frozen teacher's convolutions in training stages run in bf16";
  let description = [{
    Runs after --kd-fuse. With `precision=bf16`, every `kd.conv2d` and
    `kd.conv2d_fused` inside a `kd.stage` whose weight is a `kd.param`
    marked `frozen` (a teacher's layer, or a frozen part of a student) gets
    the discardable attribute `precision = "bf16"`, which the lowering
    copies onto `kdrt.conv2d.fwd`. Trained layers, evaluations and exports
    are never marked, nor is any backward. With `precision=fp32` (the
    default) nothing changes; another value is an error.

    The attribute is a permission: a backend with native bf16 convolutions
    (oneDNN on a CPU with AVX512-BF16) reads the input and weight as bf16
    and accumulates in fp32; other backends compute in fp32.

    ```mlir
    // precision=bf16, in a stage
    %w = kd.param "T/conv0.weight" weight kaiming_normal {frozen} : tensor<8x1x3x3xf32>
    %y = kd.conv2d_fused %x, %w, %b post_ops ["relu"] ... {precision = "bf16"}
    ```
  }];
  let options = [
    Option<"precision", "precision", "std::string", "\"fp32\"",
           "fp32 (leave every convolution alone) or bf16 (mark a frozen teacher's)">
  ];
}

def KdFoldBatchNorm : Pass<"kd-fold-batchnorm", "mlir::ModuleOp"> {
  let summary = "Folds inference batch norms into the preceding convolution";
  let description = [{
    In the inference program of an export to .kdx, a `kd.batch_norm` whose
    input is a `kd.conv2d` (or a `kd.linear` on [N, C]) read by nothing else
    is folded into that layer: a `kd.fold_batch_norm` computes the scaled
    weight and shifted bias from the trained parameters when the export is
    written, and the layer uses them. Batch norms of training stages (batch
    statistics) and of evaluations (run on the live weights) are left alone.

    ```mlir
    // before
    %c = kd.conv2d %x, %w stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 ...
    %n = kd.batch_norm %c, %g, %beta, %m, %v eps 1.0e-05 momentum 0.1 ...
    // after
    %fw, %fb = kd.fold_batch_norm %w, %g, %beta, %m, %v eps 1.0e-05 ...
    %n = kd.conv2d %x, %fw, %fb stride [1, 1] pad [1, 1] dilation [1, 1] groups 1 ...
    ```
  }];
  let dependentDialects = ["::kd::KDDialect"];
}

def KdPlanMemory : Pass<"kd-plan-memory", "mlir::ModuleOp"> {
  let summary = "Liveness-based buffer offsets in one arena per stage and evaluation";
  let description = [{
    For each flat `kd.stage` (batch = the stage's batch) and each
    `kd.evaluate` with a body (batch = its `batch`, else `eval-batch`): every activation,
    gradient and loss value lives from its definition to its last reader in
    program order; its size is its shape at that batch in fp32, rounded up
    to 64 bytes. Buffers are placed largest first into the best-fitting gap
    among the buffers whose lifetimes overlap theirs. Writes `offsets` (one
    per result, -1 outside the arena) on the ops and `plan_batch`,
    `arena_bytes`, `naive_bytes`, `param_bytes`, `grad_bytes`,
    `optimizer_state_bytes` on the stage. Parameters, values computed from
    parameters only and parameter gradients live in the runtime's parameter
    store, not in the arena. A value with a dynamic dimension other than the
    batch, or a `kd.apply` left in a graph, is an error.

    ```mlir
    kd.stage @s attributes {batch = 2 : i64, arena_bytes = 128 : i64, naive_bytes = 192 : i64, ...} {
      %x = kd.batch_input {offsets = array<i64: 0>} : tensor<?x8xf32>
      ...
    }
    ```
  }];
  let options = [
    Option<"evalBatch", "eval-batch", "int64_t", "256",
           "the batch of an evaluation that has no batch attribute">
  ];
  let dependentDialects = ["::kd::KDDialect"];
}

def KdCacheSoftTargets : Pass<"kd-cache-soft-targets", "mlir::ModuleOp"> {
  let summary = "Caches a frozen teacher's taps when its input is free of random augmentation";
  let description = [{
    For each `kd.stage` that reads a frozen model (its `frozen` list) through
    `kd.apply`: when the teacher's input is the stage batch, the split has no
    random augmentation (crop, hflip, vflip, jitter, rotate; `resize` is
    fixed) and the teacher has no random op left (dropout with p > 0), the
    stage is marked `soft_target_cache = "cached"` with the cached taps and a
    cache key per teacher (a SHA-256 of its parameter names and shapes, the
    taps, the data spec and split; the runtime adds the weights' content
    hash). Otherwise `soft_target_cache = "recompute"` and `cache_refused`
    says why:

    ```mlir
    kd.stage @distill attributes {..., soft_target_cache = "recompute",
        cache_refused = "split 'train' has random augmentation crop, hflip"}
    ```
  }];
}

def KdMaterializeAdapters : Pass<"kd-materialize-adapters", "mlir::ModuleOp"> {
  let summary = "Turns kd.adapt and kd.attention_fuse into learned models trained with the stage";
  let description = [{
    Each `kd.adapt` of a stage becomes a `kd.model` (conv1x1 / conv3x3 /
    linear with PyTorch's default init, adaptive average pooling for `pool`,
    conv1x1 then pooling for `conv1x1+pool`) applied with `kd.apply`; an
    identity adapter disappears. Each `kd.attention_fuse` becomes one
    projection model per input (flatten, linear to `dim`), a `kd.concat` of
    the projections as tokens and a fusion model (multi-head attention, mean
    over the tokens). Parameters are named `adapters/<adapter name>.<param>`;
    the stage's `trained` list gains every model with parameters.

    ```mlir
    %a = kd.adapt %s "conv1x1" name "fitnets.adapt0" : tensor<?x48x7x7xf32> -> tensor<?x128x7x7xf32>
    // becomes
    %a = kd.apply @fitnets_adapt0_model(%s) taps ["output"] : (tensor<?x48x7x7xf32>) -> tensor<?x128x7x7xf32>
    ```
  }];
}

def KdExpandGrafts : Pass<"kd-expand-grafts", "mlir::ModuleOp"> {
  let summary = "Expands a kd.graft_stage into its concrete kd.stage sequence";
  let description = [{
    NetGraft: `mode = "blocks"` gives one stage per student block (`@g_b1`,
    `@g_b2`, ...) in which only that block, inside the teacher, trains, for
    that block's `block_epochs`; `mode = "progressive"` gives stages
    `@g_upto_b1`, `@g_upto_b2`, ... grafting blocks 1..k. Each stage applies
    its own hybrid `kd.model` (`@<stage>_hybrid`): the teacher's ops with the
    grafted blocks replaced by the student's, with 1x1-conv adapters
    (kaiming_normal fan_out, no bias) `adapters/<graft>.<block>.before` and
    `.after` where the widths differ, shared by name across the stages. The
    stage trains the hybrid (`trained = [@<stage>_hybrid]`) except the
    teacher's parameters (`frozen_parts` gains the teacher's scope), and has
    a `blocks` group (the optimizer's lr) and an `adapters` group (the
    graft's `adapters` group lr), each listing parameter-name prefixes.

    ```mlir
    kd.stage @g_b1 attributes {epochs = 5, grafted = ["b1"], trained = [@g_b1_hybrid],
        frozen = [@T_model], frozen_parts = ["T"],
        groups = [{target = "blocks", params = ["S/b1."], lr = 2.5e-04},
                  {target = "adapters", params = ["adapters/g.b1.after."], lr = 2.5e-03} ], ...}
    ```
  }];
}

#endif // KD_TRANSFORMS_PASSES_TD

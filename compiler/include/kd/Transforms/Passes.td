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

#endif // KD_TRANSFORMS_PASSES_TD

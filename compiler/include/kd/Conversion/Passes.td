//===- Passes.td - Conversions out of the kd dialect -------*- tablegen -*-===//
#ifndef KD_CONVERSION_PASSES_TD
#define KD_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def KdLowerToRuntime : Pass<"kd-lower-to-runtime", "mlir::ModuleOp"> {
  let summary = "Checks that every op has a runtime kernel, then lowers kd to kdrt";
  let description = [{
    First a legality check over every stage, evaluation and model used by
    one: stages must be flat (a `kd.apply` left means --kd-inline-models did
    not run, a `kd.adapt` that --kd-materialize-adapters did not), and every
    op must map onto a runtime kernel of the target. An error names the op
    and the target at the op's `.kd` location:

    ```
    student.kd:12:3: error: 'kd.apply' has no runtime kernel on target 'cpu':
        is left in a stage: the stage is not flat (run --kd-inline-models first)
    ```

    Then each stage becomes a `kdrt.stage`: every tensor value an arena
    buffer (`kdrt.buffer`, the batch dimension set to the stage's batch; the
    offsets and `arena_bytes` of --kd-plan-memory when present, else laid
    out one after another), every op its kernel in destination-passing
    style, parameters and gradients `kdrt.param` / `kdrt.grad`, the batch
    `kdrt.load_batch`, `kd.loss.combine` a `kdrt.scale_add`, `kd.minimize`
    the `kdrt.update` with the stage's optimizer, groups and schedule.
    Evaluations get the model's inference program (batch norm on running
    statistics, no dropout), exports the model's parameter list, data sets
    and parameters their plan entries; the kd ops are then erased.

    ```mlir
    // kd.linear %x, %w, %b : ... -> tensor<?x10xf32> in a stage of batch 128:
    %y = kdrt.buffer 3 offset 4096 : memref<128x10xf32>
    kdrt.linear.fwd ins(%x, %w, %b : memref<128x96xf32>, memref<10x96xf32>, memref<10xf32>)
        outs(%y : memref<128x10xf32>)
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "The runtime target whose kernels are legal: cpu or gpu">
  ];
  let dependentDialects = ["::kd::rt::KDRTDialect"];
}

#endif // KD_CONVERSION_PASSES_TD

//===- KDRTStageOps.td - Buffers, batches, updates, caches --*- tablegen -*-===//
//
// What a stage's program is made of besides kernels: its arena buffers, the
// parameters and gradients kernels read and write, where the batch goes,
// the optimizer step, and the teacher's cached program.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KDRT_KDRTSTAGEOPS_TD
#define KD_DIALECT_KDRT_KDRTSTAGEOPS_TD

include "kd/Dialect/KDRT/KDRTDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def KDRT_BufferOp : KDRT_Op<"buffer", [Pure]> {
  let summary = "An arena buffer of a stage or evaluation";
  let description = [{
    The `buffers` entry: a unique id within its stage, the byte offset in the
    arena (a multiple of 64) and the shape, batch first; `unbatched` for one
    whose shape does not follow the batch (a per-channel scale), which the
    plan marks `"batched": false`.

    ```mlir
    %x = kdrt.buffer 0 offset 0 : memref<128x1x28x28xf32>
    %s = kdrt.buffer 1 offset 401408 {unbatched} : memref<16xf32>
    ```
  }];
  let arguments = (ins I64Attr:$id, I64Attr:$offset, UnitAttr:$unbatched);
  let results = (outs KDRT_Memref:$result);
  let assemblyFormat = "$id `offset` $offset attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The buffer's size in bytes (f32 elements).
    int64_t getSizeInBytes();
  }];
}

def KDRT_ParamOp : KDRT_Op<"param", [Pure]> {
  let summary = "A parameter's value as a kernel operand";
  let description = [{
    The operand `{"param": name}`; the name must be declared by a
    `kdrt.parameter` of the same shape.

    ```mlir
    %w = kdrt.param "S/linear0.weight" : memref<10x96xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs KDRT_Memref:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def KDRT_GradOp : KDRT_Op<"grad", [Pure]> {
  let summary = "A parameter's gradient as a kernel operand";
  let description = [{
    The operand `{"grad": name}`, zeroed at the start of each step and
    written by the backward kernel that computes it.

    ```mlir
    %gw = kdrt.grad "S/linear0.weight" : memref<10x96xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs KDRT_Memref:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def KDRT_NullOp : KDRT_Op<"null", [Pure]> {
  let summary = "An absent operand";
  let description = [{
    The operand `null`: an absent optional input (a conv without bias) or an
    unwanted gradient.

    ```mlir
    %none = kdrt.null
    ```
  }];
  let results = (outs NoneType:$result);
  let assemblyFormat = "attr-dict";
}

def KDRT_LoadBatchOp : KDRT_Op<"load_batch"> {
  let summary = "Where the executor writes each batch";
  let description = [{
    The `inputs` entry: `image` buffers receive the (same) augmented images,
    then their own optional `transform` (`{op = "resize", h = 14, w = 14}`);
    `label` buffers receive the labels as f32.

    ```mlir
    kdrt.load_batch "image" %x : memref<128x1x28x28xf32>
    kdrt.load_batch "label" %y : memref<128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$role, KDRT_Memref:$buffer,
                       OptionalAttr<DictionaryAttr>:$transform);
  let assemblyFormat = "$role $buffer attr-dict `:` type($buffer)";
  let hasVerifier = 1;
}

def KDRT_UpdateOp : KDRT_Op<"update"> {
  let summary = "The optimizer step that ends a training step";
  let description = [{
    `optimizer` (kind sgd, adam or adamw, with momentum, nesterov,
    weight_decay, beta1, beta2, eps), `groups` (each `{lr, weight_decay,
    params}`) and `schedule` (kind constant, step, cosine or one_cycle and
    its fields) as in docs/kdx.md; `loss` is the buffer holding the step's
    loss value.

    ```mlir
    kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd", momentum = 0.9 : f64},
        groups = [...],
        schedule = {kind = "cosine"}}
    ```
  }];
  let arguments = (ins KDRT_Memref:$loss, DictionaryAttr:$optimizer,
                       DictArrayAttr:$groups, DictionaryAttr:$schedule);
  let assemblyFormat = "`loss` `(` $loss `:` type($loss) `)` attr-dict";
  let hasVerifier = 1;
}

def KDRT_TeacherCacheOp : KDRT_Op<"teacher_cache", [SingleBlock, NoTerminator,
                                                    NoRegionArguments]> {
  let summary = "A teacher whose outputs are computed once per sample";
  let description = [{
    The stage's `teacher_cache` in mode `cached`: the body is the teacher's
    program on the stage's inputs and buffers; `outputs` (with one name per
    buffer in `names`) are filled from the cache before each step.

    ```mlir
    kdrt.teacher_cache "T" key "sha256:..." outputs(%t : memref<128x10xf32>)
        names ["T/logits"] {
      ...
    }
    ```
  }];
  let arguments = (ins StrAttr:$model, StrAttr:$key, Variadic<KDRT_Memref>:$outputs,
                       StrArrayAttr:$names);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $model `key` $key `outputs` `(` $outputs `:` type($outputs) `)` `names` $names
    attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
}

#endif // KD_DIALECT_KDRT_KDRTSTAGEOPS_TD

//===- KDRTProgramOps.td - Plan entries: data, parameters, stages -*- tablegen -*-===//
//
// The top level of a plan: data sets, parameters, and the stages,
// evaluations and exports that run in order. Stages and evaluations hold
// their program as a region.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KDRT_KDRTPROGRAMOPS_TD
#define KD_DIALECT_KDRT_KDRTPROGRAMOPS_TD

include "kd/Dialect/KDRT/KDRTDialect.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def KDRT_DatasetOp : KDRT_Op<"dataset", [Symbol]> {
  let summary = "A data set of the plan";
  let description = [{
    The `datasets` entry: source kind (idx, folder, npz), path, image shape
    `[C, H, W]`, normalisation, classes and splits (dictionaries with the
    fields of docs/kdx.md).

    ```mlir
    kdrt.dataset @fmnist attributes {kind = "idx", path = "fashion-mnist",
        image_shape = array<i64: 1, 28, 28>, mean = array<f64: 0.286>,
        std = array<f64: 0.353>, classes = 10 : i64, class_names = [],
        splits = [...]}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$kind, StrAttr:$path,
                       DenseI64ArrayAttr:$image_shape, DenseF64ArrayAttr:$mean,
                       DenseF64ArrayAttr:$std, I64Attr:$classes,
                       StrArrayAttr:$class_names, DictArrayAttr:$splits);
  let assemblyFormat = "$sym_name attr-dict-with-keyword";
  let hasVerifier = 1;
}

def KDRT_ParameterOp : KDRT_Op<"parameter"> {
  let summary = "A parameter or persistent state tensor of the plan";
  let description = [{
    The `parameters` entry: name `<model>/<path>`, shape, role (weight, bias,
    state) and init (kind plus `fan`, `gain`, `value`, `std`, `bound`), or
    `value`: the tensor loaded at compile time, written to the blob.

    ```mlir
    kdrt.parameter "S/l1.conv0.weight" "weight" "kaiming_normal" [24, 1, 3, 3] {fan = "fan_in", gain = 1.4142135623730951 : f64}
    kdrt.parameter "S/l1.bn0.running_var" "state" "ones" [24]
    ```
  }];
  let arguments = (ins StrAttr:$name, StrAttr:$role, StrAttr:$init,
                       DenseI64ArrayAttr:$shape, OptionalAttr<StrAttr>:$fan,
                       OptionalAttr<F64Attr>:$gain, OptionalAttr<F64Attr>:$constant,
                       OptionalAttr<F64Attr>:$std, OptionalAttr<F64Attr>:$bound,
                       OptionalAttr<ElementsAttr>:$value);
  let assemblyFormat = "$name $role $init $shape attr-dict";
  let hasVerifier = 1;
}

// What stages and evaluations share: a program region with buffers, inputs
// and kernels, and the arena those buffers live in.
def KDRT_StageOp : KDRT_Op<"stage", [Symbol, SingleBlock, NoTerminator,
                                     NoRegionArguments]> {
  let summary = "A training stage: one step's program and its optimizer";
  let description = [{
    The `stages` entry. `data` names the data set, `trained` / `frozen` the
    models, `arena_bytes` the size of the arena its buffers live in. The body
    loads the batch, runs the forward, loss and backward kernels, and ends in
    `kdrt.update`; a `kdrt.teacher_cache` holds the teacher's program when
    its outputs are cached.

    ```mlir
    kdrt.stage @train attributes {kind = "train", data = "fmnist", split = "train",
        epochs = 1 : i64, batch = 8 : i64, trained = ["S"], frozen = [],
        arena_bytes = 4096 : i64} {
      %x = kdrt.buffer 0 offset 0 : memref<8x4xf32>
      ...
      kdrt.update loss(%l : memref<f32>) {optimizer = {kind = "sgd"}, groups = [...]}
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$kind, StrAttr:$data,
                       StrAttr:$split, I64Attr:$epochs, I64Attr:$batch,
                       StrArrayAttr:$trained, StrArrayAttr:$frozen,
                       I64Attr:$arena_bytes);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
  }];
}

def KDRT_EvaluateOp : KDRT_Op<"evaluate", [SingleBlock, NoRegionArguments]> {
  let summary = "An evaluation: an inference program over a split";
  let description = [{
    The `evaluations` entry: the model's inference program whose output
    (`kdrt.output`) are the logits the metrics are computed from, after the
    stage `after_stage`. `prediction` names what an `evaluate ... using`
    reads instead of the model's output (`mean(e1,e2,e3,logits)`); the
    results carry it as `using`. With `ensemble_weight` = {ensemble,
    parameter, member, before_stage} it measures one member of an
    accuracy-weighted ensemble instead: it runs before `before_stage`, and
    the members' accuracies, normalised to sum 1, are written into the state
    tensor `parameter` that the stage's `kdrt.ensemble_combine` reads.

    ```mlir
    kdrt.evaluate attributes {model = "S", data = "fmnist", split = "test", batch = 256 : i64,
        metrics = ["accuracy"], after_stage = "train", arena_bytes = 1024 : i64} {
      ...
      kdrt.output %logits : memref<256x10xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$model, StrAttr:$data, StrAttr:$split, I64Attr:$batch,
                       StrArrayAttr:$metrics, StrAttr:$after_stage, I64Attr:$arena_bytes,
                       OptionalAttr<StrAttr>:$prediction,
                       OptionalAttr<DictionaryAttr>:$ensemble_weight);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "attr-dict-with-keyword $body";
  let hasVerifier = 1;
}

def KDRT_OutputOp : KDRT_Op<"output", [Terminator, ParentOneOf<["EvaluateOp", "ExportOp"]>]> {
  let summary = "The buffer an evaluation scores, or an inference export's logits";
  let description = [{
    ```mlir
    kdrt.output %logits : memref<256x10xf32>
    ```
  }];
  let arguments = (ins KDRT_Memref:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def KDRT_ExportOp : KDRT_Op<"export", [NoRegionArguments]> {
  let summary = "Writes parameters, or a self-contained inference plan, to a file after a stage";
  let description = [{
    A `safetensors` export writes `params`. A `kdx` export writes a plan of
    its own whose one evaluation is the body: the model's inference program
    for `batch` images (memory-planned in `arena_bytes`), evaluated on
    `data` / `split` with `metrics` when that plan runs. In the body,
    `kdrt.fold_batch_norm` reads parameters of this plan (the trained
    weights and running statistics) and writes parameters of the exported
    one; every other `kdrt.param` names a parameter of the exported plan,
    which is the trained parameter of the same name when no fold writes it.

    ```mlir
    kdrt.export "S" to "student.safetensors" format "safetensors"
        params ["S/linear0.weight"] after "distill"
    kdrt.export "S" to "student.kdx" format "kdx" params [...] after "distill"
        attributes {data = "fmnist", split = "test", batch = 256 : i64,
                    metrics = ["accuracy"], arena_bytes = 1024 : i64} {
      ...
      kdrt.output %logits : memref<256x10xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$model, StrAttr:$path, StrAttr:$format,
                       StrArrayAttr:$params, StrAttr:$after_stage,
                       OptionalAttr<StrAttr>:$data, OptionalAttr<StrAttr>:$split,
                       OptionalAttr<I64Attr>:$batch, OptionalAttr<StrArrayAttr>:$metrics,
                       OptionalAttr<I64Attr>:$arena_bytes);
  let regions = (region MaxSizedRegion<1>:$body);
  let assemblyFormat = [{
    $model `to` $path `format` $format `params` $params `after` $after_stage attr-dict-with-keyword ($body^)?
  }];
  let hasVerifier = 1;
}

#endif // KD_DIALECT_KDRT_KDRTPROGRAMOPS_TD

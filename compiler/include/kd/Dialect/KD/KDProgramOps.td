//===- KDProgramOps.td - Data sets, models, parameters, taps -*- tablegen -*-===//
//
// The declarations of a program: data sets, model instances (a symbol with a
// graph body of layer ops), their parameters and named values (taps), the
// teachers and students that use them, evaluations and exports.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDPROGRAMOPS_TD
#define KD_DIALECT_KD_KDPROGRAMOPS_TD

include "kd/Dialect/KD/KDDialect.td"
include "kd/Dialect/KD/KDEnums.td"
include "kd/Dialect/KD/KDTypes.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def KD_DatasetOp : KD_Op<"dataset", [Symbol]> {
  let summary = "A data set and its splits";
  let description = [{
    Source, image format, normalisation (empty mean and std: none), classes
    and splits, as checked. Each
    split is a dictionary (`name`, `source` = file | slice | shots | external,
    and the fields of that source, `augment` as a list of dictionaries).

    ```mlir
    kd.dataset @fmnist attributes {source = "idx", path = "fashion-mnist",
        image = "gray", image_shape = array<i64: 1, 28, 28>,
        mean = array<f64: 0.286>, std = array<f64: 0.353>, classes = 10 : i64,
        class_names = [], splits = [{name = "train", source = "file", file = "train"} ]}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$source, StrAttr:$path,
                       StrAttr:$image, DenseI64ArrayAttr:$image_shape,
                       DenseF64ArrayAttr:$mean, DenseF64ArrayAttr:$std, I64Attr:$classes,
                       StrArrayAttr:$class_names, DictArrayAttr:$splits);
  let assemblyFormat = "$sym_name attr-dict-with-keyword";
  let hasVerifier = 1;
}

def KD_ModelOp : KD_Op<"model", [Symbol, IsolatedFromAbove, SingleBlock,
                                 HasOnlyGraphRegion, RegionKindInterface,
                                 DeclareOpInterfaceMethods<OpAsmOpInterface,
                                                           ["getAsmBlockArgumentNames"]>]> {
  let summary = "A model instance: a graph of layers";
  let description = [{
    The single block's argument is the model input (batch first); its ops
    are the parameters, layers and taps of the instance, and `kd.output`
    returns the model output. `function_type` records input and output.

    ```mlir
    kd.model @S_model(%x: tensor<?x1x28x28xf32>) -> tensor<?x10xf32> {
      ...
      kd.output %logits : tensor<?x10xf32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttrOf<FunctionType>:$function_type);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
    ::mlir::BlockArgument getInput() { return getBodyBlock().getArgument(0); }
    /// The value named `tap`, or null.
    ::mlir::Value lookupTap(::llvm::StringRef tap);
    /// The input `transform` of the teacher or student declared with this
    /// model (`transform resize(14, 14)`), or null.
    ::mlir::DictionaryAttr getDeclaredTransform();
  }];
}

def KD_OutputOp : KD_Op<"output", [Terminator, HasParent<"ModelOp">, Pure]> {
  let summary = "The output of a model";
  let description = [{
    ```mlir
    kd.output %logits : tensor<?x10xf32>
    ```
  }];
  let arguments = (ins KD_Tensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def KD_ParamOp : KD_Op<"param"> {
  let summary = "A learnable parameter or persistent state tensor";
  let description = [{
    The name is `<model>/<layer path>.<param>`. The init spec follows the plan
    format: `fan` and `gain` for Kaiming, `value` for constant, `std` for
    normal, `bound` for uniform.

    ```mlir
    %w = kd.param "S/l1.conv0.weight" weight kaiming_normal {fan = "fan_in", gain = 1.4142135623730951 : f64} : tensor<24x1x3x3xf32>
    %m = kd.param "S/l1.bn0.running_mean" state zeros : tensor<24xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, KD_ParamRole:$role, KD_InitKind:$init,
                       OptionalAttr<StrAttr>:$fan, OptionalAttr<F64Attr>:$gain,
                       OptionalAttr<F64Attr>:$value, OptionalAttr<F64Attr>:$std,
                       OptionalAttr<F64Attr>:$bound);
  let results = (outs KD_Tensor:$result);
  let assemblyFormat = "$name $role $init attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def KD_TapOp : KD_Op<"tap", [HasParent<"ModelOp">]> {
  let summary = "Names a value of a model";
  let description = [{
    The value a loss, a graft or an evaluation may read as `<model>.<name>`.

    ```mlir
    kd.tap "l1" %5 block : tensor<?x24x14x14xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, KD_Tensor:$value, KD_TapKind:$kind);
  let assemblyFormat = "$name $value $kind attr-dict `:` type($value)";
}

def KD_BlockBeginOp : KD_Op<"block_begin", [HasParent<"ModelOp">]> {
  let summary = "Records the input of a block";
  let description = [{
    Together with the block's `kd.tap`, it delimits the ops a graft may cut
    out and replace.

    ```mlir
    kd.block_begin "l2" %4 : tensor<?x24x14x14xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, KD_Tensor:$input);
  let assemblyFormat = "$name $input attr-dict `:` type($input)";
}

class KD_ModelUseOp<string mnemonic, string role>
    : KD_Op<mnemonic, [Symbol, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "A " # role # " of the program";
  let description = "Binds a name to a model instance (`model`), or for an "
      # "ensemble to its `members`, with where its weights come from.\n\n"
      # "```mlir\nkd." # mnemonic # " @X trained attributes {model = @X_model}\n```";
  let arguments = (ins SymbolNameAttr:$sym_name, KD_ModelSource:$source,
                       OptionalAttr<FlatSymbolRefAttr>:$model,
                       OptionalAttr<DictionaryAttr>:$transform,
                       OptionalAttr<StrAttr>:$load_path,
                       OptionalAttr<SymbolRefArrayAttr>:$members,
                       OptionalAttr<StrAttr>:$weighting,
                       OptionalAttr<DenseF64ArrayAttr>:$weights,
                       OptionalAttr<FlatSymbolRefAttr>:$weight_data,
                       OptionalAttr<StrAttr>:$weight_split);
  let assemblyFormat = "$sym_name $source attr-dict-with-keyword";
}

def KD_TeacherOp : KD_ModelUseOp<"teacher", "teacher">;
def KD_StudentOp : KD_ModelUseOp<"student", "student">;

def KD_EvaluateOp : KD_Op<"evaluate", [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Evaluates a model on a split";
  let description = [{
    The metrics computed from the model's output over the split; with a body
    (`using`), the evaluated value is what the body yields, and `prediction`
    names it for the results (`mean(e1,e2,e3,logits)`). An evaluation of the
    model's output has no body until --kd-inline-models gives it the model's
    inference program. `batch` is the number of images per evaluation step
    (256 when absent).

    ```mlir
    kd.evaluate @S_model on @fmnist "test" metrics ["accuracy", "f1"] attributes {batch = 64 : i64}
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$model, FlatSymbolRefAttr:$data, StrAttr:$split,
                       StrArrayAttr:$metrics, OptionalAttr<I64Attr>:$batch,
                       OptionalAttr<StrAttr>:$prediction);
  let regions = (region MaxSizedRegion<1>:$body);
  let assemblyFormat = [{
    $model `on` $data $split `metrics` $metrics attr-dict-with-keyword (`using` $body^)?
  }];
}

def KD_YieldOp : KD_Op<"yield", [Terminator, ParentOneOf<["EvaluateOp", "ExportOp"]>, Pure]> {
  let summary = "The value an evaluation body or an inference export computes";
  let description = [{
    ```mlir
    kd.yield %loss : tensor<f32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def KD_ExportOp : KD_Op<"export", [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Writes a model's parameters, or an inference plan of it, to a file";
  let description = [{
    Format `safetensors` writes the parameters. Format `kdx` writes a
    self-contained inference plan: --kd-inline-models gives the export the
    model's inference program as its body (`using`), an inference graph
    like an evaluation body, which the later passes fold, fuse and plan.

    ```mlir
    kd.export @S_model to "student.safetensors" format "safetensors"
    kd.export @S_model to "student.kdx" format "kdx" using {
      %x = kd.batch_input : tensor<?x1x28x28xf32>
      ...
      kd.yield %logits : tensor<?x10xf32>
    }
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$model, StrAttr:$path, StrAttr:$format);
  let regions = (region MaxSizedRegion<1>:$body);
  let assemblyFormat = "$model `to` $path `format` $format attr-dict (`using` $body^)?";
}

#endif // KD_DIALECT_KD_KDPROGRAMOPS_TD

//===- KDTypes.td - Type constraints of kd ops -------------*- tablegen -*-===//
//
// kd uses builtin tensors only: activations and parameters are f32 tensors
// (activations with a dynamic batch dimension), labels are i64 vectors and
// loss values are f32 scalars.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDTYPES_TD
#define KD_DIALECT_KD_KDTYPES_TD

include "mlir/IR/CommonTypeConstraints.td"

def KD_Tensor : RankedTensorOf<[F32]>;
def KD_Labels : 1DTensorOf<[I64]>;
def KD_LossValue : 0DTensorOf<[F32]>,
    BuildableType<"::mlir::RankedTensorType::get({}, $_builder.getF32Type())">;

#endif // KD_DIALECT_KD_KDTYPES_TD

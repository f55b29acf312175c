//===- KDRTDialect.td - The runtime-level kdrt dialect -----*- tablegen -*-===//
#ifndef KD_DIALECT_KDRT_KDRTDIALECT_TD
#define KD_DIALECT_KDRT_KDRTDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonTypeConstraints.td"

def KDRT_Dialect : Dialect {
  let name = "kdrt";
  let summary = "The runtime-level dialect: buffers, kernels and plan entries";
  let description = [{
    Every op of `kdrt` is one entry of the executable plan (docs/kdx.md):
    stages, evaluations and exports hold their programs as regions; buffers
    are arena slices with an id, a static shape (batch dimension = the
    stage's batch) and a byte offset; kernel ops name the runtime's backend
    entries (`kdrt.conv2d.fwd`, `kdrt.kl_div_loss`, ...) and take their
    operands in the entry's order, `ins` read and `outs` written, with
    `kdrt.null` for an absent operand. Serialisation to `.kdx` is a direct
    walk of the module.
  }];
  let cppNamespace = "::kd::rt";
}

class KDRT_Op<string mnemonic, list<Trait> traits = []> :
    Op<KDRT_Dialect, mnemonic, traits>;

// A kernel operand: an arena buffer, a parameter or gradient (f32 memrefs
// of static shape), or `kdrt.null` (none) for an absent one.
def KDRT_Memref : MemRefRankOf<[F32], [0, 1, 2, 3, 4, 5]>;
def KDRT_Operand : AnyTypeOf<[KDRT_Memref, NoneType]>;

#endif // KD_DIALECT_KDRT_KDRTDIALECT_TD

//===- KDDialect.td - The high-level kd dialect ------------*- tablegen -*-===//
#ifndef KD_DIALECT_KD_KDDIALECT_TD
#define KD_DIALECT_KD_KDDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/CommonTypeConstraints.td"

def KD_Dialect : Dialect {
  let name = "kd";
  let summary = "The high-level dialect of knowledge-distillation pipelines";
  let description = [{
    The `kd` dialect mirrors the `.kd` language after semantic analysis: model
    instances are region-holding ops whose bodies are graphs of layer ops on
    tensors with known per-sample shapes (the batch dimension is dynamic);
    named values are taps; teachers, students and stages refer to models by
    symbol. Passes decide what is trained, what the teacher computes and
    when, which gradients exist, what fuses, and how much memory each stage
    needs, before lowering to the runtime dialect.
  }];
  let cppNamespace = "::kd";
}

class KD_Op<string mnemonic, list<Trait> traits = []> :
    Op<KD_Dialect, mnemonic, traits>;

#endif // KD_DIALECT_KD_KDDIALECT_TD

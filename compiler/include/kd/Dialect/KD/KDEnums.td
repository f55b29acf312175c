//===- KDEnums.td - Enumerated attributes of kd ops --------*- tablegen -*-===//
//
// Closed sets of keywords. They print as bare keywords in the custom syntax
// (`kd.param ... weight kaiming_normal`) and mirror the runtime's enums.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DIALECT_KD_KDENUMS_TD
#define KD_DIALECT_KD_KDENUMS_TD

include "mlir/IR/EnumAttr.td"

class KD_Enum<string name, string summary, list<I32EnumAttrCase> cases>
    : I32EnumAttr<name, summary, cases> {
  let cppNamespace = "::kd";
}

def KD_ParamRole : KD_Enum<"ParamRole", "what a parameter is", [
  I32EnumAttrCase<"Weight", 0, "weight">,
  I32EnumAttrCase<"Bias", 1, "bias">,
  I32EnumAttrCase<"State", 2, "state">]>;

def KD_InitKind : KD_Enum<"InitKind", "how a parameter is initialised", [
  I32EnumAttrCase<"Zeros", 0, "zeros">,
  I32EnumAttrCase<"Ones", 1, "ones">,
  I32EnumAttrCase<"Constant", 2, "constant">,
  I32EnumAttrCase<"Normal", 3, "normal">,
  I32EnumAttrCase<"Uniform", 4, "uniform">,
  I32EnumAttrCase<"KaimingNormal", 5, "kaiming_normal">,
  I32EnumAttrCase<"KaimingUniform", 6, "kaiming_uniform">,
  I32EnumAttrCase<"XavierUniform", 7, "xavier_uniform">]>;

def KD_PoolMode : KD_Enum<"PoolMode", "pooling reduction", [
  I32EnumAttrCase<"Max", 0, "max">,
  I32EnumAttrCase<"Avg", 1, "avg">]>;

def KD_ResizeMode : KD_Enum<"ResizeMode", "image interpolation", [
  I32EnumAttrCase<"Bilinear", 0, "bilinear">,
  I32EnumAttrCase<"Nearest", 1, "nearest">,
  I32EnumAttrCase<"Area", 2, "area">]>;

def KD_Reduction : KD_Enum<"Reduction", "how a loss reduces", [
  I32EnumAttrCase<"BatchMean", 0, "batchmean">,
  I32EnumAttrCase<"Sum", 1, "sum">,
  I32EnumAttrCase<"Mean", 2, "mean">]>;

def KD_ActivationKind : KD_Enum<"ActivationKind", "elementwise activation", [
  I32EnumAttrCase<"Relu", 0, "relu">,
  I32EnumAttrCase<"Gelu", 1, "gelu">,
  I32EnumAttrCase<"Sigmoid", 2, "sigmoid">,
  I32EnumAttrCase<"Tanh", 3, "tanh">]>;

def KD_BinaryKind : KD_Enum<"BinaryKind", "elementwise binary op", [
  I32EnumAttrCase<"Add", 0, "add">,
  I32EnumAttrCase<"Mul", 1, "mul">]>;

def KD_TapKind : KD_Enum<"TapKind", "what a named model value is", [
  I32EnumAttrCase<"Input", 0, "input">,
  I32EnumAttrCase<"Value", 1, "value">,
  I32EnumAttrCase<"Block", 2, "block">,
  I32EnumAttrCase<"Exit", 3, "exit">,
  I32EnumAttrCase<"Output", 4, "output">]>;

def KD_ModelSource : KD_Enum<"ModelSource", "where a model's weights come from", [
  I32EnumAttrCase<"Trained", 0, "trained">,
  I32EnumAttrCase<"Loaded", 1, "loaded">,
  I32EnumAttrCase<"Ensemble", 2, "ensemble">,
  I32EnumAttrCase<"Untrained", 3, "untrained">]>;

#endif // KD_DIALECT_KD_KDENUMS_TD

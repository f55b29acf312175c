//===- KernelOps.cpp - The shared verifier of kernel ops ------------------===//
#include "kd/Dialect/KDRT/KDRTOps.h"

using namespace mlir;

namespace {

/// Checks one operand list against a runtime signature string: one
/// character per operand, except a '+' (or '*') that stands for one or more
/// (zero or more) required operands between the fixed slots around it.
LogicalResult verifyOperandList(Operation *op, OperandRange operands, StringRef signature,
                                StringRef which) {
  size_t plus = signature.find_first_of("+*");
  bool variadic = plus != StringRef::npos;
  size_t fixed = variadic ? signature.size() - 1 : signature.size();
  size_t least = variadic && signature[plus] == '+' ? fixed + 1 : fixed;
  if (variadic ? operands.size() < least : operands.size() != fixed)
    return op->emitOpError() << "takes " << (variadic ? std::to_string(least) + " or more"
                                                      : std::to_string(fixed))
                             << " '" << which << "' operands, got " << operands.size();
  size_t trailing = variadic ? signature.size() - plus - 1 : 0;
  for (auto [index, operand] : llvm::enumerate(operands)) {
    char slot;
    if (!variadic || index < plus)
      slot = signature[index];
    else if (index >= operands.size() - trailing)
      slot = signature[signature.size() - (operands.size() - index)];
    else
      slot = 'r';
    if (slot != 'o' && isa<NoneType>(operand.getType()))
      return op->emitOpError() << which << " operand #" << index << " is required and must not be null";
  }
  return success();
}

} // namespace

LogicalResult kd::rt::verifyKernelOp(Operation *op, StringRef inSignature, StringRef outSignature) {
  auto segments = op->getAttrOfType<DenseI32ArrayAttr>("operandSegmentSizes");
  if (!segments || segments.size() != 2)
    return op->emitOpError("needs 'ins' and 'outs' operand segments");
  OperandRange all = op->getOperands();
  OperandRange ins = all.take_front(segments[0]);
  OperandRange outs = all.drop_front(segments[0]);
  if (failed(verifyOperandList(op, ins, inSignature, "ins")) ||
      failed(verifyOperandList(op, outs, outSignature, "outs")))
    return failure();
  // Kernels write buffers and gradients, never a parameter's value in place
  // (batch-norm running statistics are inputs the runtime updates itself).
  // A batch-norm fold is the exception that proves it: it writes parameters
  // of the plan a .kdx export writes, not of this one.
  if (isa<FoldBatchNormOp>(op)) {
    for (Value out : outs)
      if (!isa_and_nonnull<ParamOp>(out.getDefiningOp()))
        return op->emitOpError("writes the exported plan's parameters (kdrt.param), not buffers");
    return success();
  }
  for (Value out : outs)
    if (Operation *def = out.getDefiningOp(); def && isa<ParamOp>(def))
      return op->emitOpError("writes the parameter '") << cast<ParamOp>(def).getName()
                                                       << "'; outputs are buffers or gradients";
  if (auto precision = op->getAttrOfType<StringAttr>("precision");
      precision && precision.getValue() != "fp32" && precision.getValue() != "bf16")
    return op->emitOpError("'precision' must be \"fp32\" or \"bf16\", got \"") << precision.getValue() << "\"";
  for (StringRef pair : {"stride", "pad", "dilation", "kernel", "output"}) {
    auto values = op->getAttrOfType<DenseI64ArrayAttr>(pair);
    if (!values)
      continue;
    if (values.size() != 2)
      return op->emitOpError() << "'" << pair << "' must be a pair [h, w], got " << values.size()
                               << " values";
    int64_t minimum = pair == "pad" ? 0 : 1;
    if (values[0] < minimum || values[1] < minimum)
      return op->emitOpError() << "'" << pair << "' must be "
                               << (minimum ? "positive" : "non-negative");
  }
  for (StringRef positive : {"groups", "normalized_rank", "num_heads"})
    if (auto value = op->getAttrOfType<IntegerAttr>(positive); value && value.getInt() <= 0)
      return op->emitOpError() << "'" << positive << "' must be positive";
  if (auto temperature = op->getAttrOfType<FloatAttr>("temperature");
      temperature && !(temperature.getValueAsDouble() > 0))
    return op->emitOpError("'temperature' must be positive");
  if (auto p = op->getAttrOfType<FloatAttr>("p"); p && op->getName().getStringRef() == "kdrt.dropout.fwd" &&
                                                  !(p.getValueAsDouble() >= 0 && p.getValueAsDouble() < 1))
    return op->emitOpError("'p' must lie in [0, 1)");
  if (auto reduction = op->getAttrOfType<StringAttr>("reduction");
      reduction && !llvm::is_contained({"batchmean", "sum", "mean"}, reduction.getValue()))
    return op->emitOpError() << "unknown reduction '" << reduction.getValue()
                             << "' (expected batchmean, sum or mean)";
  if (auto mode = op->getAttrOfType<StringAttr>("mode");
      mode && !llvm::is_contained({"bilinear", "nearest", "area"}, mode.getValue()))
    return op->emitOpError() << "unknown resize mode '" << mode.getValue() << "'";
  if (auto scales = op->getAttrOfType<DenseF64ArrayAttr>("scales");
      scales && size_t(scales.size()) != ins.size())
    return op->emitOpError() << "needs one scale per input (" << ins.size() << "), got "
                             << scales.size();
  if (auto terms = op->getAttrOfType<ArrayAttr>("terms")) {
    // logit_loss_group: the logits and one target per term in, one value
    // per term and the gradient out.
    if (ins.size() != terms.size() + 1 || outs.size() != terms.size() + 1)
      return op->emitOpError() << "has " << terms.size() << " terms, so it takes " << terms.size() + 1
                               << " 'ins' and " << terms.size() + 1 << " 'outs' operands";
    for (auto [index, entry] : llvm::enumerate(terms)) {
      auto term = cast<DictionaryAttr>(entry);
      auto kind = term.getAs<StringAttr>("kind");
      if (!kind || !llvm::is_contained({"ce", "kl"}, kind.getValue()))
        return op->emitOpError() << "term " << index << " needs kind \"ce\" or \"kl\"";
      if (!term.getAs<FloatAttr>("weight"))
        return op->emitOpError() << "term " << index << " needs a float 'weight'";
      if (kind.getValue() == "kl") {
        auto temperature = term.getAs<FloatAttr>("temperature");
        if (!temperature || !(temperature.getValueAsDouble() > 0))
          return op->emitOpError() << "term " << index << " needs a positive 'temperature'";
      }
    }
  }
  // A layer's post-ops read the `ins` after its input, weight and bias.
  if (isa<Conv2dFwdOp, LinearFwdOp>(op)) {
    size_t tensors = 0;
    if (auto postOps = op->getAttrOfType<ArrayAttr>("post_ops")) {
      if (postOps.size() > 6)
        return op->emitOpError() << "has " << postOps.size() << " post-ops, at most 6";
      for (Attribute entry : postOps) {
        auto kind = cast<DictionaryAttr>(entry).getAs<StringAttr>("kind");
        if (!kind || !llvm::is_contained({"relu", "gelu", "sigmoid", "tanh", "sum", "scale_shift"}, kind.getValue()))
          return op->emitOpError("post-ops are {kind = \"relu|gelu|sigmoid|tanh|sum|scale_shift\"}");
        tensors += kind.getValue() == "sum" ? 1 : kind.getValue() == "scale_shift" ? 2 : 0;
      }
    }
    if (ins.size() != 3 + tensors)
      return op->emitOpError() << "post-ops read " << tensors << " tensors after input, weight and bias; "
                               << ins.size() - 3 << " given";
  }
  return success();
}

#define GET_OP_CLASSES
#include "kd/Dialect/KDRT/KDRTOps.cpp.inc"

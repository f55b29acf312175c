//===- StageOps.cpp - Stages, model applications and feature helpers ------===//
#include "kd/Dialect/KD/KDOps.h"

#include "ShapeChecks.h"

using namespace mlir;
using namespace kd;

template <typename Op>
static LogicalResult verifyStageSymbols(Op op, SymbolTableCollection &tables) {
  if (!tables.lookupNearestSymbolFrom<DatasetOp>(op, op.getDataAttr()))
    return op.emitOpError() << "data '" << op.getData() << "' does not name a kd.dataset";
  for (ArrayAttr list : {op.getTrained(), op.getFrozen()})
    for (auto ref : list.template getAsRange<FlatSymbolRefAttr>())
      if (!tables.lookupNearestSymbolFrom<ModelOp>(op, ref))
        return op.emitOpError() << "'" << ref.getValue() << "' does not name a kd.model";
  return success();
}

template <typename Op>
static LogicalResult verifyStageNumbers(Op op) {
  if (op.getEpochsAttr().getInt() < 0 || op.getBatchAttr().getInt() < 1 || op.getStepsAttr().getInt() < 0)
    return op.emitOpError("needs a positive batch and non-negative epochs and steps");
  return success();
}

LogicalResult StageOp::verify() {
  if (failed(verifyStageNumbers(*this)))
    return failure();
  if (getBody().front().empty() || !isa<MinimizeOp>(getBody().front().back()))
    return emitOpError("body must end with kd.minimize");
  return success();
}

LogicalResult StageOp::verifySymbolUses(SymbolTableCollection &tables) { return verifyStageSymbols(*this, tables); }

LogicalResult GraftStageOp::verify() {
  if (failed(verifyStageNumbers(*this)))
    return failure();
  if (getMode() != "blocks" && getMode() != "progressive")
    return emitOpError() << "mode must be 'blocks' or 'progressive', got '" << getMode() << "'";
  // The body is optional (a stage written by hand may leave the loss out);
  // when present it computes the loss like a kd.stage's.
  if (!getBody().empty() && (getBody().front().empty() || !isa<MinimizeOp>(getBody().front().back())))
    return emitOpError("body must end with kd.minimize");
  return success();
}

LogicalResult GraftStageOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (failed(verifyStageSymbols(*this, tables)))
    return failure();
  for (FlatSymbolRefAttr ref : {getStudentAttr(), getTeacherAttr()}) {
    auto model = tables.lookupNearestSymbolFrom<ModelOp>(*this, ref);
    if (!model)
      return emitOpError() << "'" << ref.getValue() << "' does not name a kd.model";
  }
  auto teacher = tables.lookupNearestSymbolFrom<ModelOp>(*this, getTeacherAttr());
  auto student = tables.lookupNearestSymbolFrom<ModelOp>(*this, getStudentAttr());
  for (DictionaryAttr block : getBlocks().getAsRange<DictionaryAttr>()) {
    auto name = block.getAs<StringAttr>("name");
    if (!name)
      return emitOpError("every graft block needs a name");
    if (!teacher.lookupTap(name) || !student.lookupTap(name))
      return emitOpError() << "block '" << name.getValue() << "' is not a tap of both the student and the teacher";
  }
  return success();
}

LogicalResult ApplyOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto model = tables.lookupNearestSymbolFrom<ModelOp>(*this, getModelAttr());
  if (!model)
    return emitOpError() << "'" << getModel() << "' does not name a kd.model";
  if (getInput().getType() != model.getFunctionType().getInput(0))
    return emitOpError() << "input type " << getInput().getType() << " does not match the model's "
                         << model.getFunctionType().getInput(0);
  if (getHybrid() && !isa<GraftStageOp>((*this)->getParentOp()))
    return emitOpError("reads a graft hybrid outside a kd.graft_stage");
  if (getTaps().size() != getResults().size())
    return emitOpError() << "reads " << getTaps().size() << " taps but has " << getResults().size() << " results";
  for (auto [tap, result] : llvm::zip(getTaps().getAsRange<StringAttr>(), getResults())) {
    Value tapped = model.lookupTap(tap.getValue());
    if (!tapped)
      return emitOpError() << "model '" << getModel() << "' has no tap '" << tap.getValue() << "'";
    if (tapped.getType() != result.getType())
      return emitOpError() << "tap '" << tap.getValue() << "' has type " << tapped.getType() << ", not "
                           << result.getType();
  }
  return success();
}

LogicalResult AdaptOp::verify() {
  static constexpr llvm::StringLiteral kinds[] = {"identity", "conv1x1", "conv3x3", "linear", "pool",
                                                  "conv1x1+pool"};
  if (!llvm::is_contained(kinds, getKind()))
    return emitOpError() << "unknown adapter kind '" << getKind() << "'";
  RankedTensorType from = rankedType(getInput()), to = rankedType(getResult());
  if (from.getRank() != to.getRank() || !dimsAgree(from.getDimSize(0), to.getDimSize(0)))
    return emitOpError() << "cannot adapt " << formatShape(from) << " to " << formatShape(to);
  if ((getKind() == "conv1x1" || getKind() == "conv3x3") &&
      (from.getRank() != 4 || !dimsAgree(from.getDimSize(2), to.getDimSize(2)) ||
       !dimsAgree(from.getDimSize(3), to.getDimSize(3))))
    return emitOpError() << "a " << getKind() << " adapter keeps the spatial size; cannot map "
                         << formatShape(from) << " to " << formatShape(to);
  if (getKind() == "identity" && from != to)
    return emitOpError("an identity adapter must keep the type");
  return success();
}

LogicalResult AttentionFuseOp::verify() {
  int64_t heads = getHeadsAttr().getInt(), dim = getDimAttr().getInt();
  if (getFeatures().empty())
    return emitOpError("needs at least one feature");
  if (heads < 1 || dim % heads != 0)
    return emitOpError() << "dim " << dim << " is not divisible by " << heads << " heads";
  return expectResultShape(*this, getResult(), {rankedType(getFeatures().front()).getDimSize(0), dim});
}

LogicalResult MeanOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  return success();
}

LogicalResult EnsembleOp::verify() {
  static constexpr llvm::StringLiteral weightings[] = {"equal", "fixed", "accuracy", "entropy", "ca_mkd"};
  if (getMembers().empty())
    return emitOpError("needs at least one member");
  for (Value member : getMembers())
    if (member.getType() != getType())
      return emitOpError() << "members must have the result type " << getType() << ", got " << member.getType();
  if (!llvm::is_contained(weightings, getWeighting()))
    return emitOpError() << "unknown weighting '" << getWeighting() << "'";
  if (getWeighting() == "fixed" && (!getWeights() || getWeights()->size() != getMembers().size()))
    return emitOpError("fixed weighting needs one weight per member");
  if ((getWeighting() == "ca_mkd") != bool(getLabels()))
    return emitOpError(getLabels() ? "only ca_mkd weighting reads labels" : "ca_mkd weighting needs the labels");
  if (!(getTemperature().convertToDouble() > 0))
    return emitOpError("temperature must be positive");
  return success();
}

// kd.ensemble %a, %b [labels %y : tensor<?xi64>] weighting "w" {attrs} : type
ParseResult EnsembleOp::parse(OpAsmParser &parser, OperationState &result) {
  SmallVector<OpAsmParser::UnresolvedOperand> members;
  OpAsmParser::UnresolvedOperand labels;
  Type labelsType, type;
  std::string weighting;
  bool hasLabels = false;
  if (parser.parseOperandList(members))
    return failure();
  if (succeeded(parser.parseOptionalKeyword("labels"))) {
    hasLabels = true;
    if (parser.parseOperand(labels) || parser.parseColonType(labelsType))
      return failure();
  }
  if (parser.parseKeyword("weighting") || parser.parseString(&weighting) ||
      parser.parseOptionalAttrDict(result.attributes) || parser.parseColonType(type))
    return failure();
  result.addAttribute(getWeightingAttrName(result.name), parser.getBuilder().getStringAttr(weighting));
  if (parser.resolveOperands(members, type, result.operands) ||
      (hasLabels && parser.resolveOperand(labels, labelsType, result.operands)))
    return failure();
  result.addAttribute(getOperandSegmentSizesAttrName(result.name),
                      parser.getBuilder().getDenseI32ArrayAttr({int32_t(members.size()), hasLabels ? 1 : 0}));
  result.addTypes(type);
  return success();
}

void EnsembleOp::print(OpAsmPrinter &p) {
  p << ' ' << getMembers();
  if (Value labels = getLabels())
    p << " labels " << labels << " : " << labels.getType();
  p << " weighting ";
  p.printString(getWeighting());
  // The default temperature (1) is left out.
  SmallVector<StringRef, 3> elided = {getWeightingAttrName(), getOperandSegmentSizesAttrName()};
  if (getTemperature().convertToDouble() == 1.0)
    elided.push_back(getTemperatureAttrName());
  p.printOptionalAttrDict((*this)->getAttrs(), elided);
  p << " : " << getType();
}

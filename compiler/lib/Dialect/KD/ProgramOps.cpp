//===- ProgramOps.cpp - Data sets, models, parameters, uses ---------------===//
#include "kd/Dialect/KD/KDOps.h"

#include "ShapeChecks.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpImplementation.h"

#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace kd;

LogicalResult DatasetOp::verify() {
  ArrayRef<int64_t> image = getImageShape();
  if (image.size() != 3)
    return emitOpError() << "image shape must be [C, H, W], got " << image.size() << " values";
  // Both empty: the data set is not normalised.
  bool normalised = !getMean().empty() || !getStd().empty();
  if (normalised && (int64_t(getMean().size()) != image[0] || int64_t(getStd().size()) != image[0]))
    return emitOpError() << "mean and std need one value per channel (" << image[0] << ")";
  llvm::StringSet<> names;
  for (DictionaryAttr split : getSplits().getAsRange<DictionaryAttr>()) {
    auto name = split.getAs<StringAttr>("name");
    if (!name)
      return emitOpError("every split needs a name");
    if (!names.insert(name.getValue()).second)
      return emitOpError() << "split '" << name.getValue() << "' is declared twice";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// kd.model: `kd.model @S(%x: type) -> type attributes {...} { ... }`
//===----------------------------------------------------------------------===//

ParseResult ModelOp::parse(OpAsmParser &parser, OperationState &result) {
  StringAttr name;
  OpAsmParser::Argument input;
  Type outputType;
  if (parser.parseSymbolName(name, getSymNameAttrName(result.name), result.attributes) || parser.parseLParen() ||
      parser.parseArgument(input, /*allowType=*/true) || parser.parseRParen() || parser.parseArrow() ||
      parser.parseType(outputType) || parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  result.addAttribute(getFunctionTypeAttrName(result.name),
                      TypeAttr::get(parser.getBuilder().getFunctionType({input.type}, {outputType})));
  Region *body = result.addRegion();
  return parser.parseRegion(*body, {input});
}

void ModelOp::print(OpAsmPrinter &p) {
  p << ' ';
  p.printSymbolName(getSymName());
  p << '(';
  p.printRegionArgument(getInput());
  p << ") -> " << getFunctionType().getResult(0);
  p.printOptionalAttrDictWithKeyword((*this)->getAttrs(), {getSymNameAttrName(), getFunctionTypeAttrName()});
  p << ' ';
  p.printRegion(getBody(), /*printEntryBlockArgs=*/false);
}

LogicalResult ModelOp::verify() {
  FunctionType type = getFunctionType();
  if (type.getNumInputs() != 1 || type.getNumResults() != 1)
    return emitOpError("must have one input and one output");
  Block &block = getBodyBlock();
  if (block.getNumArguments() != 1 || block.getArgument(0).getType() != type.getInput(0))
    return emitOpError("block argument must be the model input of type ") << type.getInput(0);
  auto output = dyn_cast<OutputOp>(block.getTerminator());
  if (!output)
    return emitOpError("must end with kd.output");
  if (output.getValue().getType() != type.getResult(0))
    return emitOpError("output type ") << output.getValue().getType() << " does not match the declared "
                                       << type.getResult(0);
  llvm::StringSet<> taps;
  for (TapOp tap : block.getOps<TapOp>())
    if (!taps.insert(tap.getName()).second)
      return tap.emitOpError() << "tap '" << tap.getName() << "' is defined twice in the model";
  return success();
}

// The input prints under the name the .kd model gave it (`%x`).
void ModelOp::getAsmBlockArgumentNames(Region &region, OpAsmSetValueNameFn setName) {
  if (&region != &getBody() || region.empty())
    return;
  for (TapOp tap : getBodyBlock().getOps<TapOp>())
    if (tap.getKind() == TapKind::Input && tap.getValue() == getInput())
      return setName(getInput(), tap.getName());
}

Value ModelOp::lookupTap(StringRef name) {
  for (TapOp tap : getBodyBlock().getOps<TapOp>())
    if (tap.getName() == name)
      return tap.getValue();
  return nullptr;
}

DictionaryAttr ModelOp::getDeclaredTransform() {
  auto module = (*this)->getParentOfType<mlir::ModuleOp>();
  if (!module)
    return {};
  for (Operation &op : module.getBody()->getOperations()) {
    auto model = op.getAttrOfType<FlatSymbolRefAttr>("model");
    if (isa<TeacherOp, StudentOp>(op) && model && model.getValue() == getSymName())
      return op.getAttrOfType<DictionaryAttr>("transform");
  }
  return {};
}

LogicalResult ParamOp::verify() {
  RankedTensorType type = rankedType(getResult());
  if (!type.hasStaticShape())
    return emitOpError("a parameter must have a static shape");
  if (getName().empty())
    return emitOpError("a parameter needs a name");
  if (getInit() == InitKind::Constant && !getValue())
    return emitOpError("a constant init needs a value");
  return success();
}

//===----------------------------------------------------------------------===//
// Symbol uses
//===----------------------------------------------------------------------===//

/// The kd.model `ref` names, or an error at `op`.
static LogicalResult expectModel(Operation *op, SymbolTableCollection &tables, FlatSymbolRefAttr ref,
                                 StringRef what) {
  if (!tables.lookupNearestSymbolFrom<ModelOp>(op, ref))
    return op->emitOpError() << what << " '" << ref.getValue() << "' does not name a kd.model";
  return success();
}

template <typename UseOp>
static LogicalResult verifyModelUse(UseOp op, SymbolTableCollection &tables) {
  if (op.getSource() == ModelSource::Ensemble) {
    if (!op.getMembers() || op.getMembers()->empty())
      return op.emitOpError("an ensemble needs members");
    for (auto member : op.getMembers()->template getAsRange<FlatSymbolRefAttr>())
      if (!tables.lookupNearestSymbolFrom(op, member))
        return op.emitOpError() << "ensemble member '" << member.getValue() << "' is not defined";
    if (op.getWeightDataAttr() && !tables.lookupNearestSymbolFrom<DatasetOp>(op, op.getWeightDataAttr()))
      return op.emitOpError() << "weighting data '" << *op.getWeightData() << "' does not name a kd.dataset";
    return success();
  }
  if (!op.getModelAttr())
    return op.emitOpError("needs a model");
  return expectModel(op, tables, op.getModelAttr(), "model");
}

LogicalResult TeacherOp::verifySymbolUses(SymbolTableCollection &tables) { return verifyModelUse(*this, tables); }
LogicalResult StudentOp::verifySymbolUses(SymbolTableCollection &tables) { return verifyModelUse(*this, tables); }

LogicalResult EvaluateOp::verifySymbolUses(SymbolTableCollection &tables) {
  Operation *target = tables.lookupNearestSymbolFrom(*this, getModelAttr());
  if (!isa_and_nonnull<ModelOp, TeacherOp, StudentOp>(target))
    return emitOpError() << "'" << getModel() << "' does not name a model, teacher or student";
  auto data = tables.lookupNearestSymbolFrom<DatasetOp>(*this, getDataAttr());
  if (!data)
    return emitOpError() << "'" << getData() << "' does not name a kd.dataset";
  return success();
}

LogicalResult ExportOp::verifySymbolUses(SymbolTableCollection &tables) {
  return expectModel(*this, tables, getModelAttr(), "model");
}

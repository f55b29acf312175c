//===- ExpandGrafts.cpp - A graft stage becomes its concrete stages -------===//
//
// NetGraft (Shen et al., AAAI 2021). `graft S into T as H mode blocks`
// trains each student block alone inside the teacher, one stage per block
// with its own epochs; `mode progressive` grafts blocks 1, then 1+2, ...
// until the student has replaced the teacher's blocks, one stage each. An
// epoch count of 0 leaves that block's (prefix's) stage out: NetGraft's net
// grafting starts from two blocks, the first alone being block grafting.
//
// Each expanded stage gets a hybrid kd.model: the teacher's ops with the
// grafted blocks' ops replaced by the student's, and adapters (Kaiming
// normal, fan_out, bias zeros: a 1x1 conv on images, a linear layer on
// vectors) teacher->student width before and student->teacher width after
// a grafted block where the widths differ. Parameters keep their names:
// teacher parameters stay the teacher's (frozen, listed in `frozen_parts`),
// student block parameters are the student's, and adapters are
// `adapters/<student>.<block>.before|after.<param>` in every stage of every
// graft of that student, so they persist from stage to stage and from
// block grafting to net grafting, and stay in the final student. The graft
// body's hybrid reads (`kd.apply ... {hybrid}`) are pointed at the stage's
// hybrid. `groups` gets one group for the grafted blocks (the optimizer's
// lr, or a group on the student) and one for their adapters (a group on
// `adapters`), each listing parameter-name prefixes.
//
// The student keeps the teacher's parameters outside the grafted blocks:
// the first expanded stage of a graft copies them into the student's own
// parameters of the same path and shape (`copy_params`, T/l1... ->
// S/l1...; one it has no such parameter for stays the teacher's), and
// after the student's last graft its model is the grafted student: the
// last graft's hybrid with all its blocks, reading those copies
// (`@<student model>.grafted`). The student's declaration and every
// evaluation, export and stage after that graft use it.
//
//===----------------------------------------------------------------------===//
#include "kd/Transforms/Passes.h"

#include "ModelBuilding.h"

#include "kd/Dialect/KD/KDOps.h"

#include "mlir/IR/AttrTypeSubElements.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/StringSet.h"

namespace kd {
#define GEN_PASS_DEF_KDEXPANDGRAFTS
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

// The ops of one top-level block of a model: after its kd.block_begin, up to
// the op that defines the block's tap.
struct BlockOps {
  Value input, output;
  SmallVector<Operation *> ops;
};

FailureOr<BlockOps> findBlock(ModelOp model, StringRef name, Operation *errorAt) {
  BlockOps block;
  BlockBeginOp begin;
  for (BlockBeginOp op : model.getBodyBlock().getOps<BlockBeginOp>())
    if (op.getName() == name)
      begin = op;
  block.output = model.lookupTap(name);
  if (!begin || !block.output)
    return errorAt->emitOpError() << "model '" << model.getSymName() << "' has no block '" << name << "' to graft";
  block.input = begin.getInput();
  Operation *last = block.output.getDefiningOp();
  if (!last || last->getBlock() != begin->getBlock() || last->isBeforeInBlock(begin))
    return errorAt->emitOpError() << "block '" << name << "' of '" << model.getSymName()
                                  << "' computes nothing after its start";
  for (Operation *op = begin->getNextNode(); op; op = op->getNextNode()) {
    if (!isa<TapOp, BlockBeginOp>(op))
      block.ops.push_back(op);
    if (op == last)
      break;
  }
  return block;
}

// Clones `op` after checking every operand has a value in the hybrid.
FailureOr<Operation *> cloneMapped(OpBuilder &b, Operation *op, IRMapping &map, Operation *errorAt,
                                   StringRef context) {
  for (Value operand : op->getOperands())
    if (!map.contains(operand))
      return errorAt->emitOpError() << context << ": '" << op->getName()
                                    << "' reads a value the hybrid does not have (from inside a grafted block)";
  return b.clone(*op, map);
}

// The instance name in a model's parameter names (`T/l1.conv0.weight` -> T).
std::string paramScope(ModelOp model) {
  std::string scope;
  model.walk([&](ParamOp param) {
    if (scope.empty())
      scope = param.getName().split('/').first.str();
  });
  return scope;
}

struct GraftBlock {
  std::string name;
  DictionaryAttr spec;
  bool before() const { return spec.getAs<BoolAttr>("adapter_before").getValue(); }
  bool after() const { return spec.getAs<BoolAttr>("adapter_after").getValue(); }
  ArrayRef<int64_t> shape(StringRef key) const { return spec.getAs<DenseI64ArrayAttr>(key).asArrayRef(); }
};

// The grafted student a graft leaves, and the stage it is final after.
struct GraftedStudent {
  ModelOp model;
  Operation *after = nullptr;
};

struct ExpandGraftsPass : public kd::impl::KdExpandGraftsBase<ExpandGraftsPass> {
  void runOnOperation() override;
  LogicalResult expand(GraftStageOp graft, SymbolTable &symbols);
  FailureOr<ModelOp> buildHybrid(OpBuilder &b, GraftStageOp graft, ModelOp teacher, ModelOp student,
                                 ArrayRef<GraftBlock> grafted, StringRef name);
  LogicalResult keptParams(GraftStageOp graft, StringRef teacherScope, ModelOp hybrid, ModelOp student,
                           SmallVectorImpl<Attribute> &copies);
  void useGraftedStudent(ModuleOp module, StringRef studentModel, GraftedStudent grafted);

  std::string studentScope;
  // Per student model, in the order of the grafts.
  llvm::MapVector<StringRef, GraftedStudent> graftedStudents;
};

std::string adapterPrefix(StringRef student, StringRef block, StringRef side) {
  return ("adapters/" + student + "." + block + "." + side).str();
}

// `x` through the adapter `adapters/<student>.<block>.<side>` to `width`
// channels (an image) or features (a vector).
LogicalResult adapt(OpBuilder &b, Location loc, Value &x, int64_t width, StringRef student, StringRef block,
                    StringRef side, Operation *errorAt) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  std::string prefix = adapterPrefix(student, block, side);
  if (rank == 4)
    x = buildConv(b, loc, x, width, 1, prefix, WeightInit::KaimingFanOut);
  else if (rank == 2)
    x = buildLinear(b, loc, x, width, prefix, WeightInit::KaimingFanOut);
  else
    return errorAt->emitOpError() << "block '" << block << "' needs an adapter on " << x.getType()
                                  << ", but adapters change the channels of an image or the features of a vector";
  return success();
}

FailureOr<ModelOp> ExpandGraftsPass::buildHybrid(OpBuilder &b, GraftStageOp graft, ModelOp teacher, ModelOp student,
                                                 ArrayRef<GraftBlock> grafted, StringRef name) {
  Location loc = graft.getLoc();
  llvm::StringMap<const GraftBlock *> byName;
  for (const GraftBlock &block : grafted)
    byName[block.name] = &block;
  llvm::SmallPtrSet<Operation *, 32> replaced;
  llvm::StringMap<BlockOps> teacherBlocks;
  for (const GraftBlock &block : grafted) {
    FailureOr<BlockOps> ops = findBlock(teacher, block.name, graft);
    if (failed(ops))
      return failure();
    replaced.insert(ops->ops.begin(), ops->ops.end());
    teacherBlocks[block.name] = *ops;
  }

  auto model = b.create<ModelOp>(loc, b.getStringAttr(name), TypeAttr::get(teacher.getFunctionType()));
  Block *body = new Block();
  model.getBody().push_back(body);
  IRMapping map;
  map.map(teacher.getInput(), body->addArgument(teacher.getInput().getType(), loc));
  OpBuilder inner = OpBuilder::atBlockEnd(body);

  for (Operation &op : teacher.getBodyBlock()) {
    if (replaced.contains(&op))
      continue;
    auto begin = dyn_cast<BlockBeginOp>(op);
    if (begin && byName.count(begin.getName())) {
      const GraftBlock &block = *byName[begin.getName()];
      const BlockOps &teacherOps = teacherBlocks[block.name];
      if (!map.contains(begin.getInput()))
        return graft.emitOpError() << "the input of block '" << block.name << "' is not in the hybrid";
      Value x = map.lookup(begin.getInput());
      inner.create<BlockBeginOp>(begin.getLoc(), begin.getNameAttr(), x);
      if (block.before() &&
          failed(adapt(inner, loc, x, block.shape("student_in")[0], studentScope, block.name, "before", graft)))
        return failure();
      FailureOr<BlockOps> studentOps = findBlock(student, block.name, graft);
      if (failed(studentOps))
        return failure();
      IRMapping studentMap;
      studentMap.map(studentOps->input, x);
      for (Operation *studentOp : studentOps->ops)
        if (failed(cloneMapped(inner, studentOp, studentMap, graft, "student block '" + block.name + "'")))
          return failure();
      Value y = studentMap.lookup(studentOps->output);
      if (block.after() &&
          failed(adapt(inner, loc, y, block.shape("teacher_out")[0], studentScope, block.name, "after", graft)))
        return failure();
      if (y.getType() != teacherOps.output.getType())
        return graft.emitOpError() << "grafted block '" << block.name << "' gives " << y.getType()
                                   << " where the teacher's gives " << teacherOps.output.getType();
      map.map(teacherOps.output, y);
      continue;
    }
    if (auto tap = dyn_cast<TapOp>(op)) {
      // Taps inside a grafted block have no counterpart in the hybrid.
      if (map.contains(tap.getValue()))
        inner.clone(op, map);
      continue;
    }
    if (failed(cloneMapped(inner, &op, map, graft, "teacher")))
      return failure();
  }
  return model;
}

LogicalResult ExpandGraftsPass::expand(GraftStageOp graft, SymbolTable &symbols) {
  if (graft.getBody().empty())
    return graft.emitOpError("has no loss to expand: write 'loss ...' in the graft stage");
  auto teacher = symbols.lookup<ModelOp>(graft.getTeacher());
  auto student = symbols.lookup<ModelOp>(graft.getStudent());
  if (!teacher || !student)
    return graft.emitOpError("names no teacher or student model");
  SmallVector<GraftBlock> blocks;
  for (DictionaryAttr spec : graft.getBlocks().getAsRange<DictionaryAttr>()) {
    auto name = spec.getAs<StringAttr>("name");
    for (StringRef key : {"teacher_in", "teacher_out", "student_in", "student_out"})
      if (!spec.getAs<DenseI64ArrayAttr>(key) || spec.getAs<DenseI64ArrayAttr>(key).empty())
        return graft.emitOpError() << "block '" << name.getValue() << "' has no " << key << " shape";
    if (!spec.getAs<BoolAttr>("adapter_before") || !spec.getAs<BoolAttr>("adapter_after"))
      return graft.emitOpError() << "block '" << name.getValue() << "' does not say where adapters go";
    blocks.push_back({name.getValue().str(), spec});
  }
  if (blocks.empty())
    return graft.emitOpError("has no blocks to graft");
  ArrayRef<int64_t> blockEpochs = graft.getBlockEpochs();
  bool progressive = graft.getMode() == "progressive";
  std::string teacherScope = paramScope(teacher);
  studentScope = paramScope(student);

  // Learning rates: the blocks train at the optimizer's lr unless a group
  // names the student; the adapters at a group on `adapters`.
  Builder attrs(graft.getContext());
  Attribute blockLr, adapterLr;
  if (auto optimizer = graft.getOptimizerAttr())
    blockLr = optimizer.get("lr");
  SmallVector<Attribute> otherGroups;
  for (DictionaryAttr group : graft.getGroups().getAsRange<DictionaryAttr>()) {
    StringRef target = group.getAs<StringAttr>("target") ? group.getAs<StringAttr>("target").getValue() : "";
    if (target == "adapters")
      adapterLr = group.get("lr");
    else if (target == studentScope || target == studentScope + ".blocks")
      blockLr = group.get("lr") ? group.get("lr") : blockLr;
    else
      otherGroups.push_back(group);
  }
  if (!adapterLr)
    adapterLr = blockLr;

  OpBuilder b(graft);
  // The student after this graft: all its blocks grafted, every other
  // parameter the student's copy of the teacher's.
  FailureOr<ModelOp> final = buildHybrid(b, graft, teacher, student, blocks, student.getSymName().str() + ".grafted");
  if (failed(final))
    return failure();
  SmallVector<Attribute> copies;
  if (failed(keptParams(graft, teacherScope, *final, student, copies)))
    return failure();
  GraftedStudent &previous = graftedStudents[student.getSymName()];
  if (previous.model)
    symbols.erase(previous.model);
  previous.model = *final;
  symbols.insert(*final);

  Operation *lastStage = nullptr;
  b.setInsertionPoint(graft);
  for (size_t k = 0; k < blocks.size(); ++k) {
    int64_t epochs = blockEpochs.empty() ? graft.getEpochs() : blockEpochs[std::min(k, blockEpochs.size() - 1)];
    if (epochs == 0)
      continue;
    ArrayRef<GraftBlock> grafted = progressive ? ArrayRef(blocks).take_front(k + 1) : ArrayRef(blocks).slice(k, 1);
    std::string stageName =
        (graft.getSymName() + (progressive ? "_upto_" : "_") + blocks[k].name).str();
    FailureOr<ModelOp> hybrid = buildHybrid(b, graft, teacher, student, grafted, stageName + "_hybrid");
    if (failed(hybrid))
      return failure();
    symbols.insert(*hybrid);

    SmallVector<Attribute> blockParams, adapterParams, graftedNames;
    for (const GraftBlock &block : grafted) {
      graftedNames.push_back(attrs.getStringAttr(block.name));
      blockParams.push_back(attrs.getStringAttr(studentScope + "/" + block.name + "."));
      if (block.before())
        adapterParams.push_back(attrs.getStringAttr(adapterPrefix(studentScope, block.name, "before") + "."));
      if (block.after())
        adapterParams.push_back(attrs.getStringAttr(adapterPrefix(studentScope, block.name, "after") + "."));
    }
    auto group = [&](StringRef target, ArrayRef<Attribute> params, Attribute lr) {
      SmallVector<NamedAttribute> entries = {attrs.getNamedAttr("target", attrs.getStringAttr(target)),
                                             attrs.getNamedAttr("params", attrs.getArrayAttr(params))};
      if (lr)
        entries.push_back(attrs.getNamedAttr("lr", lr));
      return attrs.getDictionaryAttr(entries);
    };
    SmallVector<Attribute> groups = {group("blocks", blockParams, blockLr)};
    if (!adapterParams.empty())
      groups.push_back(group("adapters", adapterParams, adapterLr));
    groups.append(otherGroups);

    // The hybrid trains except its teacher parameters.
    SmallVector<Attribute> frozenParts(graft.getFrozenParts().begin(), graft.getFrozenParts().end());
    if (!teacherScope.empty())
      frozenParts.push_back(attrs.getStringAttr(teacherScope));
    SmallVector<Attribute> frozen(graft.getFrozen().begin(), graft.getFrozen().end());
    if (!llvm::is_contained(frozen, graft.getTeacherAttr()))
      frozen.push_back(graft.getTeacherAttr());

    auto stage = b.create<StageOp>(
        graft.getLoc(), attrs.getStringAttr(stageName), graft.getKindAttr(), graft.getDataAttr(),
        graft.getSplitAttr(), attrs.getI64IntegerAttr(epochs), graft.getBatchAttr(), graft.getStepsAttr(),
        attrs.getArrayAttr({FlatSymbolRefAttr::get(*hybrid)}), attrs.getArrayAttr(frozen),
        attrs.getArrayAttr(frozenParts), graft.getOptimizerAttr(), graft.getScheduleAttr(),
        attrs.getArrayAttr(groups));
    stage->setAttr("grafted", attrs.getArrayAttr(graftedNames));
    if (!lastStage && !copies.empty())
      stage->setAttr("copy_params", attrs.getArrayAttr(copies));
    lastStage = stage;
    symbols.insert(stage);
    IRMapping bodyMap;
    graft.getBody().cloneInto(&stage.getBody(), bodyMap);
    for (ApplyOp apply : stage.getBody().getOps<ApplyOp>()) {
      if (!apply.getHybrid())
        continue;
      for (auto [tap, result] : llvm::zip(apply.getTaps().getAsRange<StringAttr>(), apply.getResults())) {
        Value tapped = hybrid->lookupTap(tap.getValue());
        if (!tapped || tapped.getType() != result.getType())
          return apply.emitOpError() << "the hybrid of stage '" << stageName << "' has no tap '" << tap.getValue()
                                     << "' of type " << result.getType() << " (it lies inside a grafted block)";
      }
      apply.setModelAttr(FlatSymbolRefAttr::get(*hybrid));
      apply.removeHybridAttr();
    }
  }
  if (!lastStage)
    return graft.emitOpError("trains no block: every epoch count is 0");
  (*final)->moveAfter(lastStage);
  graftedStudents[student.getSymName()].after = lastStage;
  graft.erase();
  return success();
}

// The teacher parameters the grafted student keeps become the student's
// own where it has one of the same path and shape, copied from the teacher
// at the start of the graft; `hybrid` then reads the copies.
LogicalResult ExpandGraftsPass::keptParams(GraftStageOp graft, StringRef teacherScope, ModelOp hybrid,
                                           ModelOp student, SmallVectorImpl<Attribute> &copies) {
  Builder b(graft.getContext());
  llvm::StringMap<ParamOp> studentParams;
  for (ParamOp param : student.getBodyBlock().getOps<ParamOp>())
    studentParams[param.getName()] = param;
  // A kept layer the student has no counterpart of the same shapes for (a
  // classifier outside the blocks, reading adapted features) stays the
  // teacher's, which the grafted student reads: decided per layer.
  auto ownName = [&](ParamOp param) {
    return (studentScope + "/" + param.getName().split('/').second).str();
  };
  llvm::StringSet<> foreignLayers;
  for (ParamOp param : hybrid.getBodyBlock().getOps<ParamOp>()) {
    if (param.getName().split('/').first != teacherScope)
      continue;
    ParamOp own = studentParams.lookup(ownName(param));
    if (!own || own.getType() != param.getType())
      foreignLayers.insert(param.getName().rsplit('.').first);
  }
  for (ParamOp param : hybrid.getBodyBlock().getOps<ParamOp>()) {
    if (param.getName().split('/').first != teacherScope ||
        foreignLayers.contains(param.getName().rsplit('.').first))
      continue;
    std::string name = ownName(param);
    copies.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("from", param.getNameAttr()), b.getNamedAttr("to", b.getStringAttr(name))}));
    param.setNameAttr(b.getStringAttr(name));
  }
  return success();
}

// From `grafted.after` on, the student is the grafted one.
void ExpandGraftsPass::useGraftedStudent(ModuleOp module, StringRef studentModel, GraftedStudent grafted) {
  auto to = FlatSymbolRefAttr::get(grafted.model.getSymNameAttr());
  for (StudentOp student : module.getOps<StudentOp>())
    if (student.getModel() == studentModel)
      student.setModelAttr(to);
  AttrTypeReplacer replacer;
  replacer.addReplacement([&](FlatSymbolRefAttr ref) -> std::optional<Attribute> {
    if (ref.getValue() == studentModel)
      return to;
    return std::nullopt;
  });
  for (Operation *op = grafted.after->getNextNode(); op; op = op->getNextNode())
    if (!isa<ModelOp>(op))
      replacer.recursivelyReplaceElementsIn(op, /*replaceAttrs=*/true, /*replaceLocs=*/false, /*replaceTypes=*/false);
}

void ExpandGraftsPass::runOnOperation() {
  SymbolTable symbols(getOperation());
  for (GraftStageOp graft : llvm::make_early_inc_range(getOperation().getOps<GraftStageOp>()))
    if (failed(expand(graft, symbols)))
      return signalPassFailure();
  for (auto &[studentModel, grafted] : graftedStudents)
    useGraftedStudent(getOperation(), studentModel, grafted);
}

} // namespace

//===- ProgramOps.cpp - Verifiers of data sets, parameters, stages --------===//
#include "kd/Dialect/KDRT/KDRTOps.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace kd::rt;

LogicalResult DatasetOp::verify() {
  if (!llvm::is_contained({"idx", "folder", "npz"}, getKind()))
    return emitOpError() << "unknown data set kind '" << getKind() << "' (expected idx, folder or npz)";
  if (getImageShape().size() != 3 || llvm::any_of(getImageShape(), [](int64_t d) { return d <= 0; }))
    return emitOpError("image_shape must be three positive dimensions [C, H, W]");
  if (getMean().size() != getStd().size())
    return emitOpError("mean and std must have the same length");
  if (!getMean().empty() && int64_t(getMean().size()) != getImageShape()[0])
    return emitOpError() << "mean and std need one value per channel (" << getImageShape()[0] << ")";
  if (getClasses() < 0)
    return emitOpError("classes must not be negative");
  for (Attribute split : getSplits())
    if (!cast<DictionaryAttr>(split).getAs<StringAttr>("name"))
      return emitOpError("every split needs a name");
  return success();
}

LogicalResult ParameterOp::verify() {
  if (!llvm::is_contained({"weight", "bias", "state"}, getRole()))
    return emitOpError() << "unknown role '" << getRole() << "' (expected weight, bias or state)";
  if (!llvm::is_contained({"zeros", "ones", "constant", "normal", "uniform", "kaiming_normal",
                           "kaiming_uniform", "xavier_uniform"},
                          getInit()))
    return emitOpError() << "unknown init kind '" << getInit() << "'";
  if (llvm::any_of(getShape(), [](int64_t d) { return d <= 0; }))
    return emitOpError("shape must be positive dimensions");
  if (auto value = getValueAttr()) {
    auto type = dyn_cast<ShapedType>(value.getType());
    if (!type || !type.getElementType().isF32() || type.getShape() != getShape())
      return emitOpError("loaded value must be an f32 tensor of the parameter's shape");
  }
  return success();
}

/// Buffer ids unique, every buffer inside the arena.
static LogicalResult verifyArena(Operation *op, Region &body, int64_t arenaBytes) {
  if (arenaBytes < 0)
    return op->emitOpError("arena_bytes must not be negative");
  llvm::DenseMap<int64_t, BufferOp> seen;
  WalkResult result = body.walk([&](BufferOp buffer) {
    auto [it, inserted] = seen.try_emplace(buffer.getId(), buffer);
    if (!inserted) {
      buffer.emitOpError() << "reuses buffer id " << buffer.getId();
      return WalkResult::interrupt();
    }
    if (buffer.getOffset() + buffer.getSizeInBytes() > arenaBytes) {
      buffer.emitOpError() << "ends at byte " << buffer.getOffset() + buffer.getSizeInBytes()
                           << ", past the arena of " << arenaBytes << " bytes";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

LogicalResult StageOp::verify() {
  if (getEpochs() <= 0 || getBatch() <= 0)
    return emitOpError("epochs and batch must be positive");
  Block &body = getBodyBlock();
  if (body.empty() || !isa<UpdateOp>(body.back()))
    return emitOpError("body must end in kdrt.update");
  if (llvm::count_if(body, [](Operation &op) { return isa<UpdateOp>(op); }) != 1)
    return emitOpError("body must hold exactly one kdrt.update");
  if (llvm::count_if(body, [](Operation &op) { return isa<TeacherCacheOp>(op); }) > 1)
    return emitOpError("body may hold at most one kdrt.teacher_cache");
  return verifyArena(getOperation(), getBody(), getArenaBytes());
}

LogicalResult EvaluateOp::verify() {
  if (getBatch() <= 0)
    return emitOpError("batch must be positive");
  if (getMetrics().empty())
    return emitOpError("needs at least one metric");
  if (getBody().front().empty() || !isa<OutputOp>(getBody().front().back()))
    return emitOpError("body must end in kdrt.output");
  if (DictionaryAttr weight = getEnsembleWeightAttr()) {
    for (StringRef key : {"ensemble", "parameter", "before_stage"})
      if (!weight.getAs<StringAttr>(key))
        return emitOpError() << "ensemble_weight needs the string '" << key << "'";
    auto member = weight.getAs<IntegerAttr>("member");
    if (!member || member.getInt() < 0)
      return emitOpError("ensemble_weight needs a non-negative 'member' index");
  }
  return verifyArena(getOperation(), getBody(), getArenaBytes());
}

LogicalResult ExportOp::verify() {
  if (getFormat() != "safetensors" && getFormat() != "kdx")
    return emitOpError() << "unknown format '" << getFormat() << "' (expected safetensors or kdx)";
  if (getParams().empty())
    return emitOpError("exports no parameters");
  bool inference = !getBody().empty();
  if (inference != (getFormat() == "kdx"))
    return emitOpError(inference ? "only a kdx export carries an inference program"
                                 : "a kdx export carries its inference program as its body");
  if (!inference)
    return success();
  if (!getData() || !getSplit() || !getBatch() || !getMetrics() || !getArenaBytes())
    return emitOpError("a kdx export needs data, split, batch, metrics and arena_bytes");
  if (*getBatch() <= 0)
    return emitOpError("batch must be positive");
  Block &body = getBody().front();
  if (body.empty() || !isa<OutputOp>(body.back()))
    return emitOpError("body must end in kdrt.output");
  return verifyArena(getOperation(), getBody(), *getArenaBytes());
}

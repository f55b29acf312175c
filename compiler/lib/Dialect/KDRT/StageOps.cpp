//===- StageOps.cpp - Verifiers of buffers, inputs, updates, caches -------===//
#include "kd/Dialect/KDRT/KDRTOps.h"

using namespace mlir;
using namespace kd::rt;

/// Arena offsets and the blob share the runtime's 64-byte alignment.
static constexpr int64_t kAlignment = 64;

int64_t BufferOp::getSizeInBytes() {
  return cast<MemRefType>(getType()).getNumElements() * int64_t(sizeof(float));
}

LogicalResult BufferOp::verify() {
  if (getId() < 0)
    return emitOpError("id must not be negative");
  if (getOffset() < 0 || getOffset() % kAlignment != 0)
    return emitOpError() << "offset " << getOffset() << " is not a non-negative multiple of "
                         << kAlignment;
  if (!cast<MemRefType>(getType()).hasStaticShape())
    return emitOpError("needs a static shape");
  return success();
}

LogicalResult LoadBatchOp::verify() {
  if (getRole() != "image" && getRole() != "label")
    return emitOpError() << "unknown role '" << getRole() << "' (expected image or label)";
  if (!getBuffer().getDefiningOp<BufferOp>())
    return emitOpError("writes an arena buffer (kdrt.buffer)");
  auto type = cast<MemRefType>(getBuffer().getType());
  if (getRole() == "label" && type.getRank() != 1)
    return emitOpError("a label buffer is one value per sample");
  if (getRole() == "image" && type.getRank() != 4)
    return emitOpError("an image buffer is [N, C, H, W]");
  if (auto transform = getTransformAttr()) {
    if (getRole() != "image")
      return emitOpError("only images take a transform");
    auto op = transform.getAs<StringAttr>("op");
    if (!op || (op.getValue() != "resize" && op.getValue() != "crop") || !transform.getAs<IntegerAttr>("h") ||
        !transform.getAs<IntegerAttr>("w"))
      return emitOpError("the transform is {op = \"resize\" or \"crop\", h = H, w = W}");
  }
  return success();
}

LogicalResult UpdateOp::verify() {
  auto kind = getOptimizer().getAs<StringAttr>("kind");
  if (!kind || !llvm::is_contained({"sgd", "adam", "adamw"}, kind.getValue()))
    return emitOpError("optimizer kind must be sgd, adam or adamw");
  auto schedule = getSchedule().getAs<StringAttr>("kind");
  if (!schedule || !llvm::is_contained({"constant", "step", "cosine", "one_cycle"}, schedule.getValue()))
    return emitOpError("schedule kind must be constant, step, cosine or one_cycle");
  if (cast<MemRefType>(getLoss().getType()).getRank() != 0)
    return emitOpError("the loss is a rank-0 buffer");
  for (Attribute entry : getGroups()) {
    auto group = cast<DictionaryAttr>(entry);
    auto lr = group.getAs<FloatAttr>("lr");
    auto params = group.getAs<ArrayAttr>("params");
    if (!lr || !params)
      return emitOpError("each group needs lr and params");
    if (!llvm::all_of(params, [](Attribute p) { return isa<StringAttr>(p); }))
      return emitOpError("a group's params are parameter names");
  }
  return success();
}

LogicalResult TeacherCacheOp::verify() {
  if (getOutputs().size() != getNames().size())
    return emitOpError() << "needs one name per output (" << getOutputs().size() << "), got "
                         << getNames().size();
  if (getOutputs().empty())
    return emitOpError("caches no output");
  return success();
}

//===- MemoryPlan.cpp - Buffer sizes and the memory report ----------------===//
#include "kd/Transforms/MemoryPlan.h"

#include "kd/Dialect/KD/KDOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Format.h"

#include <algorithm>

using namespace mlir;

namespace kd {

bool isArenaValue(Value value) {
  if (!isa<RankedTensorType>(value.getType()))
    return false;
  if (Operation *def = value.getDefiningOp())
    if (isa<ParamOp, FoldBatchNormOp>(def))
      return false;
  if (!value.use_empty() && llvm::all_of(value.getUsers(), [](Operation *user) { return isa<ParamGradOp>(user); }))
    return false;
  return true;
}

FailureOr<int64_t> alignedBufferBytes(Type type, int64_t batch) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return failure();
  int64_t elements = 1;
  for (auto [index, dim] : llvm::enumerate(tensor.getShape())) {
    if (!ShapedType::isDynamic(dim)) {
      elements *= dim;
      continue;
    }
    if (index != 0)
      return failure();
    elements *= batch;
  }
  int64_t bytes = elements * int64_t(sizeof(float));
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

int64_t staticTensorBytes(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return 0;
  return tensor.getNumElements() * int64_t(sizeof(float));
}

namespace {

struct Buffer {
  int64_t bytes;
  Location loc;
  std::string what;
};

/// `bytes` in the largest unit that keeps it at least 1.
std::string humanBytes(int64_t bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  if (unit == 0)
    os << bytes << " B";
  else
    os << llvm::format("%.2f", value) << ' ' << units[unit];
  return text;
}

std::string describeLoc(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return describeLoc(fused.getLocations().front());
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + std::to_string(file.getLine()) + ":" +
            std::to_string(file.getColumn()))
        .str();
  if (auto name = dyn_cast<NameLoc>(loc))
    return describeLoc(name.getChildLoc());
  return "<unknown>";
}

int64_t intAttr(Operation *op, StringRef name) {
  auto attr = op->getAttrOfType<IntegerAttr>(name);
  return attr ? attr.getInt() : 0;
}

void printGraph(Operation *owner, StringRef title, raw_ostream &os, unsigned largest) {
  int64_t batch = intAttr(owner, "plan_batch");
  int64_t arena = intAttr(owner, "arena_bytes"), naive = intAttr(owner, "naive_bytes");
  os << title << " (batch " << batch << ")\n";
  os << "  peak arena:      " << arena << " bytes (" << humanBytes(arena) << ")\n";
  os << "  naive sum:       " << naive << " bytes (" << humanBytes(naive) << ")\n";
  os << "  ratio:           " << llvm::format("%.2f", arena ? double(naive) / double(arena) : 0.0)
     << "x smaller than naive\n";
  os << "  parameters:      " << intAttr(owner, "param_bytes") << " bytes\n";
  os << "  gradients:       " << intAttr(owner, "grad_bytes") << " bytes\n";
  os << "  optimizer state: " << intAttr(owner, "optimizer_state_bytes") << " bytes\n";

  std::vector<Buffer> buffers;
  for (Operation &op : owner->getRegion(0).front()) {
    auto offsets = op.getAttrOfType<DenseI64ArrayAttr>("offsets");
    if (!offsets)
      continue;
    for (auto [result, offset] : llvm::zip(op.getResults(), offsets.asArrayRef())) {
      FailureOr<int64_t> bytes = alignedBufferBytes(result.getType(), batch);
      if (offset < 0 || failed(bytes))
        continue;
      buffers.push_back({*bytes, op.getLoc(), op.getName().getStringRef().str()});
    }
  }
  std::stable_sort(buffers.begin(), buffers.end(), [](const Buffer &a, const Buffer &b) { return a.bytes > b.bytes; });
  os << "  largest buffers:\n";
  for (const Buffer &buffer : llvm::ArrayRef(buffers).take_front(largest))
    os << "    " << llvm::right_justify(std::to_string(buffer.bytes), 10) << " bytes  " << buffer.what << "  at "
       << describeLoc(buffer.loc) << '\n';
}

} // namespace

LogicalResult printMemoryReport(ModuleOp module, raw_ostream &os, unsigned largest) {
  bool any = false;
  for (Operation &op : module.getBody()->getOperations()) {
    if (!op.hasAttr("arena_bytes"))
      continue;
    std::string title;
    if (auto stage = dyn_cast<StageOp>(op))
      title = ("stage @" + stage.getSymName()).str();
    else if (auto evaluate = dyn_cast<EvaluateOp>(op))
      title = ("evaluate @" + evaluate.getModel() + " on " + evaluate.getSplit()).str();
    else if (auto exportOp = dyn_cast<ExportOp>(op))
      title = ("export @" + exportOp.getModel() + " to " + exportOp.getPath()).str();
    else
      continue;
    if (any)
      os << '\n';
    printGraph(&op, title, os, largest);
    any = true;
  }
  if (!any)
    return module.emitError("no memory plan: run --kd-plan-memory on flat stages first");
  return success();
}

} // namespace kd

//===- CacheSoftTargets.cpp - Cache a frozen teacher's outputs when safe --===//
//
// A frozen teacher's taps can be computed once per image and reused every
// epoch only if what it sees is the same every epoch: its input must not
// pass through a random augmentation, and the teacher itself must not draw
// random numbers (dropout with p > 0). The decision is made per teacher (an
// ensemble's members each get their own) and recorded on the stage so that
// it is visible in the IR and the plan:
//
//   soft_target_cache = "cached", cached_taps = ["T_model.logits"],
//   cache_key = [{model, key: teacher parameter names + shapes, data spec}]
//   soft_target_cache = "recompute",
//   cache_refused = "split 'train' has random augmentation crop, hflip"
//   soft_target_cache = "partial": cache_key and cached_taps for the
//   teachers that are cached, cache_refused for the others
//
// A kd.ensemble is never cached: it combines its members' (cached or
// recomputed) taps every step, with weights that may change between runs.
//
// The runtime completes the cache key with the hash of the weights' content.
//
//===----------------------------------------------------------------------===//
#include "kd/Transforms/Passes.h"

#include "kd/Dialect/KD/KDOps.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SHA256.h"

namespace kd {
#define GEN_PASS_DEF_KDCACHESOFTTARGETS
#include "kd/Transforms/Passes.h.inc"
} // namespace kd

using namespace mlir;
using namespace kd;

namespace {

// Augmentations that draw random numbers per image; `resize` is fixed.
bool isRandomAugmentation(StringRef kind) {
  return kind == "crop" || kind == "hflip" || kind == "vflip" || kind == "jitter" || kind == "rotate";
}

DictionaryAttr findSplit(DatasetOp data, StringRef name) {
  for (auto split : data.getSplits().getAsRange<DictionaryAttr>())
    if (auto n = split.getAs<StringAttr>("name"); n && n.getValue() == name)
      return split;
  return nullptr;
}

// The random augmentations a split applies (Sema records every split's own
// augmentations on it).
SmallVector<std::string> randomAugmentations(DatasetOp data, StringRef splitName) {
  SmallVector<std::string> random;
  DictionaryAttr split = findSplit(data, splitName);
  if (!split)
    return random;
  if (auto augment = split.getAs<ArrayAttr>("augment"))
    for (auto call : augment.getAsRange<DictionaryAttr>())
      if (auto kind = call.getAs<StringAttr>("kind"); kind && isRandomAugmentation(kind.getValue()))
        random.push_back(kind.getValue().str());
  return random;
}

// A teacher op drawing random numbers in training mode, or null.
Operation *findRandomOp(ModelOp model) {
  Operation *found = nullptr;
  model.walk([&](DropoutOp dropout) {
    if (dropout.getP().convertToDouble() > 0 && !found)
      found = dropout;
  });
  return found;
}

// The key a cache entry is valid for: what the teacher computes (its
// parameter names and shapes, its input transform) and what it reads (the
// data spec of the split). The runtime appends the weights' content hash.
std::string cacheKey(ModelOp teacher, DatasetOp data, StringRef split, ApplyOp apply, BatchInputOp batch) {
  std::string recipe;
  llvm::raw_string_ostream os(recipe);
  os << "model " << teacher.getSymName() << " " << teacher.getFunctionType() << "\n";
  teacher.walk([&](ParamOp param) { os << "param " << param.getName() << " " << param.getType() << "\n"; });
  os << "taps";
  for (auto tap : apply.getTaps().getAsRange<StringAttr>())
    os << " " << tap.getValue();
  os << "\ndata " << data.getSymName() << " " << data.getSource() << " " << data.getPath() << " "
     << DictionaryAttr::get(data.getContext(), data->getAttrDictionary().getValue()) << "\n";
  os << "split " << split << "\n";
  if (batch && batch.getTransformAttr())
    os << "transform " << batch.getTransformAttr() << "\n";
  std::array<uint8_t, 32> digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(os.str()));
  return llvm::toHex(digest, /*LowerCase=*/true);
}

struct CacheSoftTargetsPass : public kd::impl::KdCacheSoftTargetsBase<CacheSoftTargetsPass> {
  void runOnOperation() override;
  void decide(StageOp stage, SymbolTableCollection &symbols);
};

void CacheSoftTargetsPass::decide(StageOp stage, SymbolTableCollection &symbols) {
  Builder b(stage.getContext());
  auto data = symbols.lookupNearestSymbolFrom<DatasetOp>(stage, stage.getDataAttr());
  if (!data)
    return;
  llvm::SmallDenseSet<Attribute> frozen(stage.getFrozen().begin(), stage.getFrozen().end());
  SmallVector<Attribute> cachedTaps, keys;
  SmallVector<std::string> refusals;
  SmallVector<std::string> random = randomAugmentations(data, stage.getSplit());
  bool readsFrozen = false;
  for (ApplyOp apply : stage.getBody().getOps<ApplyOp>()) {
    if (!frozen.contains(apply.getModelAttr()))
      continue;
    auto teacher = symbols.lookupNearestSymbolFrom<ModelOp>(stage, apply.getModelAttr());
    if (!teacher)
      continue;
    readsFrozen = true;
    // The teacher's input is the augmented batch unless it is a value that
    // comes from elsewhere (not a stage batch): then it is not provably fixed.
    auto batch = apply.getInput().getDefiningOp<BatchInputOp>();
    if (!batch) {
      refusals.push_back("the input of '" + teacher.getSymName().str() + "' is computed in the stage");
      continue;
    }
    if (!random.empty()) {
      refusals.push_back("split '" + stage.getSplit().str() + "' has random augmentation " + llvm::join(random, ", "));
      continue;
    }
    if (Operation *op = findRandomOp(teacher)) {
      std::string what;
      llvm::raw_string_ostream os(what);
      os << "teacher '" << teacher.getSymName() << "' has random op " << op->getName() << " at " << op->getLoc();
      refusals.push_back(os.str());
      continue;
    }
    for (auto tap : apply.getTaps().getAsRange<StringAttr>())
      cachedTaps.push_back(b.getStringAttr(teacher.getSymName() + "." + tap.getValue()));
    keys.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("model", apply.getModelAttr()),
         b.getNamedAttr("key", b.getStringAttr(cacheKey(teacher, data, stage.getSplit(), apply, batch)))}));
  }
  if (!readsFrozen)
    return; // nothing a cache could hold
  // Each teacher on its own: the cached ones are read from the cache, the
  // refused ones run every step.
  if (!refusals.empty())
    stage->setAttr("cache_refused", b.getStringAttr(llvm::join(refusals, "; ")));
  if (keys.empty()) {
    stage->setAttr("soft_target_cache", b.getStringAttr("recompute"));
    return;
  }
  stage->setAttr("soft_target_cache", b.getStringAttr(refusals.empty() ? "cached" : "partial"));
  stage->setAttr("cached_taps", b.getArrayAttr(cachedTaps));
  stage->setAttr("cache_key", b.getArrayAttr(keys));
}

void CacheSoftTargetsPass::runOnOperation() {
  SymbolTableCollection symbols;
  for (StageOp stage : getOperation().getOps<StageOp>())
    decide(stage, symbols);
}

} // namespace

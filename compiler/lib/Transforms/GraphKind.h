//===- GraphKind.h - Training or inference graph of an op -------*- C++ -*-===//
//
// Fusion, folding and memory planning treat an op by the graph it runs in:
// a stage body is a training step (batch norm uses batch statistics, the
// backward reads forward values), an evaluation body is pure inference.
//
//===----------------------------------------------------------------------===//
#ifndef KD_TRANSFORMS_GRAPHKIND_H
#define KD_TRANSFORMS_GRAPHKIND_H

#include "kd/Dialect/KD/KDOps.h"

namespace kd {

enum class GraphKind { Training, Inference, Other };

/// Training inside a `kd.stage`, inference inside a `kd.evaluate` or
/// `kd.export` (to .kdx) body, Other elsewhere (model bodies are shared by every use and never changed).
inline GraphKind graphKindOf(mlir::Operation *op) {
  for (mlir::Operation *parent = op->getParentOp(); parent; parent = parent->getParentOp()) {
    if (mlir::isa<StageOp>(parent))
      return GraphKind::Training;
    if (mlir::isa<EvaluateOp, ExportOp>(parent))
      return GraphKind::Inference;
    if (mlir::isa<ModelOp>(parent))
      return GraphKind::Other;
  }
  return GraphKind::Other;
}

} // namespace kd

#endif // KD_TRANSFORMS_GRAPHKIND_H

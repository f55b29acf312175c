//===- Importer.h - State shared by the importer's parts --------*- C++ -*-===//
#ifndef KD_LIB_IMPORT_IMPORTER_H
#define KD_LIB_IMPORT_IMPORTER_H

#include "kd/Dialect/KD/KDOps.h"
#include "kd/dsl/Checked.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>

namespace kd {

class SourceManager;

/// What a layer needs to be emitted: its op, evaluated arguments, inputs,
/// per-sample result shape and learnable shapes as Sema inferred them.
struct LayerSpec {
  const std::string &op;
  const Attributes &attrs;
  const Shape &shape;
  const std::vector<std::pair<std::string, Shape>> &learnable;
};

/// How evaluation results name the prediction `evaluate ... using` reads:
/// taps by their name, everything else as a call of its inputs
/// (`mean(e1,e2,e3,logits)`).
std::string describePrediction(const CheckedLoss &loss, int feature);

class Importer {
public:
  Importer(mlir::MLIRContext &context, const CheckedProgram &program, const SourceManager &sources);

  mlir::OwningOpRef<mlir::ModuleOp> run();

  // Locations and types.
  mlir::Location loc(const SourceRange &range);
  /// A batch of per-sample `shape`: tensor<?x...xf32>.
  mlir::RankedTensorType batchType(const Shape &shape);
  mlir::RankedTensorType staticType(const Shape &shape);
  mlir::Attribute constAttr(const ConstValue &value);
  mlir::DictionaryAttr callAttr(const CheckedCall &call);

  /// Emits the ops of one layer at the builder's insertion point; parameters
  /// are named `<paramPrefix>.<param>`. Returns null after an error.
  mlir::Value emitLayer(mlir::OpBuilder &builder, mlir::Location location, const LayerSpec &layer,
                        llvm::ArrayRef<mlir::Value> inputs, const std::string &paramPrefix);

  /// Emits a stage or evaluation body computing `loss`: returns the combined
  /// loss value (or the feature value for `evaluate ... using` of a feature).
  mlir::Value emitLossBody(mlir::OpBuilder &builder, const CheckedLoss &loss, const std::string &scopeName,
                           mlir::Location location);

  /// The symbol of instance `index`'s kd.model.
  mlir::FlatSymbolRefAttr modelRef(int index) const;
  /// The value tapped as `tap` (node `node`) of instance `index`, adding a
  /// kd.tap when the model does not name it yet.
  mlir::Type ensureTap(int index, const std::string &tap, int node);

  mlir::MLIRContext &context;
  const CheckedProgram &program;
  const SourceManager &sources;
  mlir::ModuleOp module;
  bool failed = false;

private:
  struct ModelInfo {
    ModelOp op;
    std::vector<mlir::Value> nodeValues;
  };
  void importData(mlir::OpBuilder &builder, const CheckedData &data);
  void importModel(mlir::OpBuilder &builder, int index);
  void importUse(mlir::OpBuilder &builder, const CheckedModelUse &use);
  void importStage(mlir::OpBuilder &builder, const TrainSpec &stage, const std::string &name);
  /// Fills a stage's (or graft stage's) body with its loss and kd.minimize.
  void emitStageBody(mlir::Region &region, const TrainSpec &stage, const std::string &name,
                     mlir::Location location);
  void importEvaluate(mlir::OpBuilder &builder, const CheckedEvaluate &evaluate);
  void importExport(mlir::OpBuilder &builder, const CheckedExport &exported);
  mlir::FlatSymbolRefAttr useRef(const std::string &name);
  mlir::StringAttr insertSymbol(mlir::Operation *op);

  std::vector<ModelInfo> models;
  std::map<std::string, int> opCounters; // parameter path counters
  friend class ModelEmitter;
};

/// Looks up an evaluated argument by name (None when absent).
const ConstValue &findAttr(const Attributes &attrs, const std::string &name);

} // namespace kd

#endif // KD_LIB_IMPORT_IMPORTER_H

//===- ImportChecked.cpp - CheckedProgram to a kd module ------------------===//
//
// The top level of the importer: data sets, model instances, teachers and
// students, stages, evaluations and exports, in source order so that the
// module's stage order is the program's. Layers are emitted by
// ImportLayers.cpp, stage bodies by ImportLosses.cpp.
//
//===----------------------------------------------------------------------===//
#include "kd/Import/ImportChecked.h"

#include "Importer.h"

#include "kd/dsl/SourceLocation.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>
#include <set>

using namespace mlir;

namespace kd {

Importer::Importer(MLIRContext &context, const CheckedProgram &program, const SourceManager &sources)
    : context(context), program(program), sources(sources) {}

Location Importer::loc(const SourceRange &range) {
  if (!range.valid())
    return UnknownLoc::get(&context);
  LineCol lc = sources.lineCol(range.begin);
  std::string_view name = sources.name(range.begin.file);
  return FileLineColLoc::get(&context, StringRef(name.data(), name.size()), lc.line, lc.column);
}

RankedTensorType Importer::batchType(const Shape &shape) {
  SmallVector<int64_t> dims = {ShapedType::kDynamic};
  dims.append(shape.begin(), shape.end());
  return RankedTensorType::get(dims, Float32Type::get(&context));
}

RankedTensorType Importer::staticType(const Shape &shape) {
  return RankedTensorType::get(shape, Float32Type::get(&context));
}

Attribute Importer::constAttr(const ConstValue &value) {
  Builder b(&context);
  switch (value.kind) {
  case ConstValue::Kind::None:
    return b.getUnitAttr();
  case ConstValue::Kind::Int:
    return b.getI64IntegerAttr(value.intValue);
  case ConstValue::Kind::Float:
    return b.getF64FloatAttr(value.floatValue);
  case ConstValue::Kind::Bool:
    return b.getBoolAttr(value.boolValue);
  case ConstValue::Kind::String:
    return b.getStringAttr(value.stringValue);
  case ConstValue::Kind::List: {
    SmallVector<Attribute> elements;
    for (const ConstValue &e : value.elements)
      elements.push_back(constAttr(e));
    return b.getArrayAttr(elements);
  }
  }
  return b.getUnitAttr();
}

DictionaryAttr Importer::callAttr(const CheckedCall &call) {
  Builder b(&context);
  SmallVector<NamedAttribute> entries = {b.getNamedAttr("kind", b.getStringAttr(call.name))};
  for (const auto &[name, value] : call.attrs)
    if (!value.isNone())
      entries.push_back(b.getNamedAttr(name, constAttr(value)));
  for (const CheckedCall &nested : call.nested)
    entries.push_back(b.getNamedAttr("then", callAttr(nested)));
  return b.getDictionaryAttr(entries);
}

StringAttr Importer::insertSymbol(Operation *op) {
  // Renames on a clash (a student `A_model` next to the model of `A`).
  return SymbolTable(module).insert(op);
}

FlatSymbolRefAttr Importer::modelRef(int index) const {
  return FlatSymbolRefAttr::get(const_cast<ModelOp &>(models[size_t(index)].op).getSymNameAttr());
}

FlatSymbolRefAttr Importer::useRef(const std::string &name) {
  return FlatSymbolRefAttr::get(&context, name);
}

//===----------------------------------------------------------------------===//
// Data sets
//===----------------------------------------------------------------------===//

void Importer::importData(OpBuilder &builder, const CheckedData &data) {
  Builder &b = builder;
  SmallVector<Attribute> splits;
  static const char *sourceNames[] = {"file", "slice", "shots", "external", "union"};
  for (const CheckedSplit &split : data.splits) {
    SmallVector<NamedAttribute> e = {b.getNamedAttr("name", b.getStringAttr(split.name)),
                                     b.getNamedAttr("source", b.getStringAttr(sourceNames[int(split.source)]))};
    switch (split.source) {
    case CheckedSplit::Source::File:
      e.push_back(b.getNamedAttr("file", b.getStringAttr(split.file)));
      break;
    case CheckedSplit::Source::Slice:
      e.push_back(b.getNamedAttr("parent", b.getStringAttr(split.parent)));
      if (split.lo)
        e.push_back(b.getNamedAttr("lo", b.getI64IntegerAttr(*split.lo)));
      if (split.hi)
        e.push_back(b.getNamedAttr("hi", b.getI64IntegerAttr(*split.hi)));
      break;
    case CheckedSplit::Source::Shots:
      e.push_back(b.getNamedAttr("parent", b.getStringAttr(split.parent)));
      e.push_back(b.getNamedAttr("shots", b.getI64IntegerAttr(split.shots)));
      e.push_back(b.getNamedAttr("seed", b.getI64IntegerAttr(split.seed)));
      break;
    case CheckedSplit::Source::External:
      e.push_back(b.getNamedAttr("path", b.getStringAttr(split.file)));
      e.push_back(b.getNamedAttr("kind", b.getStringAttr(split.externalKind)));
      break;
    case CheckedSplit::Source::Union: {
      SmallVector<StringRef> parts(split.parts.begin(), split.parts.end());
      e.push_back(b.getNamedAttr("parts", b.getStrArrayAttr(parts)));
      break;
    }
    }
    if (!split.augment.empty()) {
      SmallVector<Attribute> augment;
      for (const CheckedCall &call : split.augment)
        augment.push_back(callAttr(call));
      e.push_back(b.getNamedAttr("augment", b.getArrayAttr(augment)));
    }
    if (split.unlabeled)
      e.push_back(b.getNamedAttr("unlabeled", b.getUnitAttr()));
    splits.push_back(b.getDictionaryAttr(e));
  }
  SmallVector<StringRef> classNames(data.classNames.begin(), data.classNames.end());
  auto op = builder.create<DatasetOp>(loc(data.range), b.getStringAttr(data.name), b.getStringAttr(data.sourceKind),
                                      b.getStringAttr(data.path), b.getStringAttr(data.imageKind),
                                      b.getDenseI64ArrayAttr(data.imageShape), b.getDenseF64ArrayAttr(data.mean),
                                      b.getDenseF64ArrayAttr(data.std), b.getI64IntegerAttr(data.numClasses),
                                      b.getStrArrayAttr(classNames), b.getArrayAttr(splits));
  insertSymbol(op);
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

static TapKind tapKind(NamedValue::Kind kind) {
  switch (kind) {
  case NamedValue::Kind::Input: return TapKind::Input;
  case NamedValue::Kind::Value: return TapKind::Value;
  case NamedValue::Kind::Block: return TapKind::Block;
  case NamedValue::Kind::Exit: return TapKind::Exit;
  case NamedValue::Kind::Output: return TapKind::Output;
  }
  return TapKind::Value;
}

void Importer::importModel(OpBuilder &builder, int index) {
  const ModelInstance &inst = program.instances[size_t(index)];
  ModelInfo &info = models[size_t(index)];
  if (inst.output < 0 || size_t(inst.output) >= inst.nodes.size()) {
    emitError(loc(inst.range)) << "model instance '" << inst.name << "' has no output";
    failed = true;
    return;
  }
  Type inputType = batchType(inst.inputShape);
  Type outputType = batchType(inst.nodes[size_t(inst.output)].shape);
  auto model = builder.create<ModelOp>(loc(inst.modelRange), builder.getStringAttr(inst.name + "_model"),
                                       TypeAttr::get(builder.getFunctionType({inputType}, {outputType})));
  insertSymbol(model);
  info.op = model;
  Block *body = new Block();
  model.getBody().push_back(body);
  Value input = body->addArgument(inputType, loc(inst.range));
  OpBuilder inner = OpBuilder::atBlockEnd(body);

  std::set<std::string> topBlocks, begun;
  for (const NamedValue *block : inst.blocks())
    topBlocks.insert(block->name);

  info.nodeValues.assign(inst.nodes.size(), Value());
  for (const LayerNode &node : inst.nodes) {
    Location location = loc(node.range);
    if (node.op == "input") {
      info.nodeValues[size_t(node.id)] = input;
      continue;
    }
    SmallVector<Value> inputs;
    for (int id : node.inputs) {
      if (id < 0 || size_t(id) >= info.nodeValues.size() || !info.nodeValues[size_t(id)]) {
        emitError(location) << "layer '" << node.op << "' reads a value that is not defined before it";
        failed = true;
        return;
      }
      inputs.push_back(info.nodeValues[size_t(id)]);
    }
    if (topBlocks.count(node.block) && begun.insert(node.block).second && !inputs.empty())
      inner.create<BlockBeginOp>(location, inner.getStringAttr(node.block), inputs.front());
    // `<model>/<block>.<op><k>`: k counts that op within the block.
    std::string path = node.block.empty() ? "" : node.block + ".";
    int &count = opCounters[inst.name + "/" + path + node.op];
    std::string prefix = inst.name + "/" + path + node.op + std::to_string(count++);
    Value v = emitLayer(inner, location, LayerSpec{node.op, node.attrs, node.shape, node.learnable}, inputs, prefix);
    if (!v) {
      failed = true;
      return;
    }
    info.nodeValues[size_t(node.id)] = v;
  }
  for (const NamedValue &nv : inst.values) {
    if (nv.node < 0 || size_t(nv.node) >= info.nodeValues.size())
      continue;
    inner.create<TapOp>(loc(nv.range), inner.getStringAttr(nv.name), info.nodeValues[size_t(nv.node)],
                        TapKindAttr::get(&context, tapKind(nv.kind)));
  }
  inner.create<OutputOp>(loc(inst.range), info.nodeValues[size_t(inst.output)]);
}

Type Importer::ensureTap(int index, const std::string &tap, int node) {
  ModelInfo &info = models[size_t(index)];
  if (Value v = info.op.lookupTap(tap))
    return v.getType();
  Value v = info.nodeValues[size_t(node)];
  OpBuilder b(info.op.getBodyBlock().getTerminator());
  b.create<TapOp>(v.getLoc(), b.getStringAttr(tap), v, TapKindAttr::get(&context, TapKind::Value));
  return v.getType();
}

//===----------------------------------------------------------------------===//
// Teachers, students, stages, evaluations, exports
//===----------------------------------------------------------------------===//

void Importer::importUse(OpBuilder &builder, const CheckedModelUse &use) {
  static const ModelSource sources[] = {ModelSource::Trained, ModelSource::Loaded, ModelSource::Ensemble,
                                        ModelSource::Untrained};
  Builder &b = builder;
  auto source = ModelSourceAttr::get(&context, sources[int(use.source)]);
  FlatSymbolRefAttr model = use.instance >= 0 ? modelRef(use.instance) : FlatSymbolRefAttr();
  DictionaryAttr transform = use.transform ? callAttr(*use.transform) : DictionaryAttr();
  StringAttr loadPath = use.loadPath.empty() ? StringAttr() : b.getStringAttr(use.loadPath);
  ArrayAttr members;
  StringAttr weighting;
  DenseF64ArrayAttr weights;
  FlatSymbolRefAttr weightData;
  StringAttr weightSplit;
  if (use.source == CheckedModelUse::Source::Ensemble) {
    SmallVector<Attribute> refs;
    for (const std::string &m : use.members)
      refs.push_back(useRef(m));
    members = b.getArrayAttr(refs);
    weighting = b.getStringAttr(use.weighting);
    if (!use.weights.empty())
      weights = b.getDenseF64ArrayAttr(use.weights);
    if (use.weightSplit.valid() && size_t(use.weightSplit.data) < program.data.size()) {
      weightData = useRef(program.data[size_t(use.weightSplit.data)].name);
      weightSplit = b.getStringAttr(use.weightSplit.split);
    }
  }
  Operation *op;
  if (use.isTeacher)
    op = builder.create<TeacherOp>(loc(use.range), b.getStringAttr(use.name), source, model, transform, loadPath,
                                   members, weighting, weights, weightData, weightSplit);
  else
    op = builder.create<StudentOp>(loc(use.range), b.getStringAttr(use.name), source, model, transform, loadPath,
                                   members, weighting, weights, weightData, weightSplit);
  insertSymbol(op);
  if (use.train)
    importStage(builder, *use.train, use.name + "_train");
}

void Importer::importStage(OpBuilder &builder, const TrainSpec &stage, const std::string &name) {
  Builder &b = builder;
  Location location = loc(stage.range);
  if (!stage.split.valid() || size_t(stage.split.data) >= program.data.size()) {
    emitError(location) << "stage '" << name << "' has no data";
    failed = true;
    return;
  }
  auto refs = [&](const std::vector<int> &instances) {
    SmallVector<Attribute> list;
    for (int i : instances)
      list.push_back(modelRef(i));
    return b.getArrayAttr(list);
  };
  SmallVector<StringRef> frozenParts(stage.frozenParts.begin(), stage.frozenParts.end());
  SmallVector<Attribute> groups;
  for (const ParamGroup &group : stage.groups) {
    SmallVector<NamedAttribute> e = {b.getNamedAttr("target", b.getStringAttr(group.target))};
    for (const auto &[key, value] : group.settings)
      if (!value.isNone())
        e.push_back(b.getNamedAttr(key, constAttr(value)));
    groups.push_back(b.getDictionaryAttr(e));
  }
  StringAttr symName = b.getStringAttr(name);
  StringAttr kind = b.getStringAttr(stage.kind);
  FlatSymbolRefAttr data = useRef(program.data[size_t(stage.split.data)].name);
  StringAttr split = b.getStringAttr(stage.split.split);
  IntegerAttr epochs = b.getI64IntegerAttr(stage.epochs), batch = b.getI64IntegerAttr(stage.batch),
              steps = b.getI64IntegerAttr(stage.steps);
  DictionaryAttr optimizer = stage.optimizer ? callAttr(*stage.optimizer) : DictionaryAttr();
  DictionaryAttr schedule = stage.schedule ? callAttr(*stage.schedule) : DictionaryAttr();

  if (stage.graft) {
    const GraftSpec &graft = *stage.graft;
    SmallVector<Attribute> blocks;
    for (const GraftSpec::Block &block : graft.blocks)
      blocks.push_back(b.getDictionaryAttr({
          b.getNamedAttr("name", b.getStringAttr(block.name)),
          b.getNamedAttr("teacher_in", b.getDenseI64ArrayAttr(block.teacherIn)),
          b.getNamedAttr("teacher_out", b.getDenseI64ArrayAttr(block.teacherOut)),
          b.getNamedAttr("student_in", b.getDenseI64ArrayAttr(block.studentIn)),
          b.getNamedAttr("student_out", b.getDenseI64ArrayAttr(block.studentOut)),
          b.getNamedAttr("adapter_before", b.getBoolAttr(block.adapterBefore)),
          b.getNamedAttr("adapter_after", b.getBoolAttr(block.adapterAfter)),
      }));
    auto op = builder.create<GraftStageOp>(location, symName, kind, data, split, epochs, batch, steps,
                                           refs(stage.trained), refs(stage.frozen), b.getStrArrayAttr(frozenParts),
                                           optimizer, schedule, b.getArrayAttr(groups), modelRef(graft.student),
                                           modelRef(graft.teacher), b.getStringAttr(graft.hybridName),
                                           b.getStringAttr(graft.mode), b.getDenseI64ArrayAttr(graft.epochs),
                                           b.getArrayAttr(blocks));
    insertSymbol(op);
    // The loss the expanded stages minimise; a graft written without one
    // keeps an empty body.
    if (stage.loss.root >= 0)
      emitStageBody(op.getBody(), stage, name, location);
    return;
  }

  auto op = builder.create<StageOp>(location, symName, kind, data, split, epochs, batch, steps, refs(stage.trained),
                                    refs(stage.frozen), b.getStrArrayAttr(frozenParts), optimizer, schedule,
                                    b.getArrayAttr(groups));
  insertSymbol(op);
  emitStageBody(op.getBody(), stage, name, location);
}

void Importer::emitStageBody(Region &region, const TrainSpec &stage, const std::string &name, Location location) {
  Block *body = new Block();
  region.push_back(body);
  OpBuilder inner = OpBuilder::atBlockEnd(body);
  if (stage.loss.root < 0) {
    emitError(location) << "stage '" << name << "' has no loss";
    failed = true;
    return;
  }
  Value loss = emitLossBody(inner, stage.loss, name, location);
  if (!loss) {
    failed = true;
    return;
  }
  inner.create<MinimizeOp>(loss.getLoc(), loss);
}

void Importer::importEvaluate(OpBuilder &builder, const CheckedEvaluate &evaluate) {
  Builder &b = builder;
  Location location = loc(evaluate.range);
  FlatSymbolRefAttr model;
  // What the evaluation computes when not simply the model's output: a loss
  // over the split, a `using` prediction, or the output of a model that sees
  // its input through a transform (the body's batch input carries it).
  const CheckedLoss *body = evaluate.loss ? &*evaluate.loss : evaluate.using_ ? &*evaluate.using_ : nullptr;
  CheckedLoss transformed;
  SmallVector<StringRef> metrics(evaluate.metrics.begin(), evaluate.metrics.end());
  if (evaluate.loss) {
    // Listed under the first model the loss reads; the runtime averages the
    // body's scalar over the split ("mean").
    for (const FeatureNode &f : evaluate.loss->features)
      if (f.kind == FeatureNode::Kind::Tap && f.instance >= 0) {
        model = modelRef(f.instance);
        break;
      }
    metrics = {"mean"};
  } else if (const CheckedModelUse *use = program.findUse(evaluate.model)) {
    model = use->instance >= 0 ? modelRef(use->instance) : useRef(use->name);
    if (!body && use->instance >= 0 && use->transform) {
      const ModelInstance &inst = program.instances[size_t(use->instance)];
      if (const NamedValue *output = inst.findValue("output")) {
        FeatureNode tap;
        tap.kind = FeatureNode::Kind::Tap;
        tap.instance = use->instance;
        tap.node = output->node;
        tap.tap = output->name;
        tap.shape = inst.nodes[size_t(output->node)].shape;
        tap.range = evaluate.range;
        transformed.features.push_back(tap);
        transformed.feature = 0;
        body = &transformed;
      }
    }
  } else if (int index = program.findInstance(evaluate.model); index >= 0) {
    model = modelRef(index);
  }
  if (!model || !evaluate.split.valid() || size_t(evaluate.split.data) >= program.data.size()) {
    emitError(location) << "evaluation of '" << evaluate.model << "' names no model or data";
    failed = true;
    return;
  }
  auto op = builder.create<EvaluateOp>(
      location, model, useRef(program.data[size_t(evaluate.split.data)].name), b.getStringAttr(evaluate.split.split),
      b.getStrArrayAttr(metrics), evaluate.batch > 0 ? b.getI64IntegerAttr(evaluate.batch) : IntegerAttr(),
      evaluate.using_ ? b.getStringAttr(describePrediction(*evaluate.using_, evaluate.using_->feature))
                      : StringAttr());
  if (evaluate.loss)
    op->setAttr("expression", b.getStringAttr(evaluate.expression));
  if (!body)
    return;
  Block *block = new Block();
  op.getBody().push_back(block);
  OpBuilder inner = OpBuilder::atBlockEnd(block);
  Value value = emitLossBody(inner, *body, "eval_" + (evaluate.loss ? std::string("loss") : evaluate.model), location);
  if (!value) {
    failed = true;
    return;
  }
  inner.create<YieldOp>(value.getLoc(), value);
}

void Importer::importExport(OpBuilder &builder, const CheckedExport &exported) {
  Location location = loc(exported.range);
  const CheckedModelUse *use = program.findUse(exported.model);
  int index = use ? use->instance : program.findInstance(exported.model);
  if (index < 0) {
    emitError(location) << "export of '" << exported.model << "' names no single model";
    failed = true;
    return;
  }
  builder.create<ExportOp>(location, modelRef(index), builder.getStringAttr(exported.path),
                           builder.getStringAttr(exported.format));
}

OwningOpRef<ModuleOp> Importer::run() {
  context.getOrLoadDialect<KDDialect>();
  OwningOpRef<ModuleOp> owned = ModuleOp::create(UnknownLoc::get(&context));
  module = *owned;
  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());

  for (const CheckedData &data : program.data)
    importData(builder, data);
  models.resize(program.instances.size());
  for (size_t i = 0; i < program.instances.size() && !failed; ++i)
    importModel(builder, int(i));
  if (failed)
    return nullptr;

  // Uses, stages, evaluations and exports in source order: the order of the
  // stage ops is the order stages run in, and an export or evaluation
  // follows the stage it comes after.
  struct Item {
    SourceLoc at;
    int kind; // 0 use, 1 stage, 2 evaluate, 3 export
    size_t index;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < program.uses.size(); ++i)
    items.push_back({program.uses[i].range.begin, 0, i});
  for (size_t i = 0; i < program.stages.size(); ++i)
    items.push_back({program.stages[i].range.begin, 1, i});
  for (size_t i = 0; i < program.evaluations.size(); ++i)
    items.push_back({program.evaluations[i].range.begin, 2, i});
  for (size_t i = 0; i < program.exports.size(); ++i)
    items.push_back({program.exports[i].range.begin, 3, i});
  std::stable_sort(items.begin(), items.end(), [](const Item &a, const Item &b) {
    return std::make_pair(a.at.file, a.at.offset) < std::make_pair(b.at.file, b.at.offset);
  });
  for (const Item &item : items) {
    switch (item.kind) {
    case 0: importUse(builder, program.uses[item.index]); break;
    case 1: importStage(builder, program.stages[item.index], program.stages[item.index].name); break;
    case 2: importEvaluate(builder, program.evaluations[item.index]); break;
    case 3: importExport(builder, program.exports[item.index]); break;
    }
    if (failed)
      return nullptr;
  }
  if (mlir::failed(mlir::verify(module)))
    return nullptr;
  return owned;
}

OwningOpRef<ModuleOp> importChecked(MLIRContext &context, const CheckedProgram &program,
                                    const SourceManager &sources) {
  return Importer(context, program, sources).run();
}

} // namespace kd

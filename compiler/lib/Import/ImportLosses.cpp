//===- ImportLosses.cpp - Stage bodies: batches, taps, features, losses ---===//
//
// A loss expression becomes, in the body of its stage: one kd.batch_input
// per distinct model input, one kd.apply per model reading every tap the
// expression uses, the feature helpers, one op per loss call, and a single
// kd.loss.combine whose weights fold the expression's `+`, `-`, scalar `*`
// and `/` (a constant term becomes its bias).
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <map>

using namespace mlir;

namespace kd {

namespace {

// A linear combination of loss values.
struct LossTerms {
  std::vector<std::pair<Value, double>> terms;
  double bias = 0;

  void scale(double factor) {
    for (auto &term : terms)
      term.second *= factor;
    bias *= factor;
  }
  void add(const LossTerms &other, double factor) {
    for (const auto &[value, weight] : other.terms)
      terms.push_back({value, weight * factor});
    bias += other.bias * factor;
  }
};

class BodyEmitter {
public:
  BodyEmitter(Importer &importer, OpBuilder &builder, const CheckedLoss &loss, const std::string &scopeName)
      : importer(importer), builder(builder), loss(loss), scopeName(scopeName),
        features(loss.features.size()) {}

  Value emit(Location location);

private:
  bool applyModels();
  Value batchInput(int instance);
  Value feature(int id);
  Value helper(const FeatureNode &f, Location location, ArrayRef<Value> inputs);
  std::optional<LossTerms> terms(int id);
  Value lossCall(const LossNode &node);
  Value ensemble(const FeatureNode &f, Location location, ArrayRef<Value> members);
  /// The stage's batch labels, created on first use.
  Value batchLabels(Location location);
  /// `target` as a loss at `temperature` reads it: an ensemble's logits are
  /// computed at the temperature of the loss (a copy per other temperature).
  Value atTemperature(Value target, double temperature);

  FloatAttr f64(double v) { return builder.getF64FloatAttr(v); }
  Type lossType() { return RankedTensorType::get({}, builder.getF32Type()); }
  double num(const Attributes &attrs, const std::string &name, double fallback) {
    const ConstValue &v = findAttr(attrs, name);
    return v.isNumber() ? v.asDouble() : fallback;
  }
  std::string str(const Attributes &attrs, const std::string &name, const std::string &fallback) {
    const ConstValue &v = findAttr(attrs, name);
    return v.isString() ? v.stringValue : fallback;
  }
  ReductionAttr reduction(const Attributes &attrs, const std::string &fallback) {
    std::string r = str(attrs, "reduction", fallback);
    Reduction kind = r == "sum" ? Reduction::Sum : r == "mean" ? Reduction::Mean : Reduction::BatchMean;
    return ReductionAttr::get(builder.getContext(), kind);
  }

  Importer &importer;
  OpBuilder &builder;
  const CheckedLoss &loss;
  const std::string &scopeName;
  std::vector<Value> features;
  // (instance, read through the graft hybrid, tap) -> the kd.apply result.
  std::map<std::tuple<int, bool, std::string>, Value> tapped;
  llvm::DenseMap<std::pair<Attribute, Type>, Value> inputs;
  Value labels;
  int helperCount = 0;
  /// The kd.ensemble ops a loss has given its temperature.
  llvm::DenseSet<Operation *> temperedEnsembles;
};

Value BodyEmitter::batchInput(int instance) {
  const ModelInstance &inst = importer.program.instances[size_t(instance)];
  DictionaryAttr transform;
  for (const CheckedModelUse &use : importer.program.uses)
    if (use.instance == instance && use.transform)
      transform = importer.callAttr(*use.transform);
  Type type = importer.batchType(inst.inputShape);
  Value &input = inputs[{transform, type}];
  if (!input)
    input = builder.create<BatchInputOp>(importer.loc(inst.range), type, transform);
  return input;
}

bool BodyEmitter::applyModels() {
  // Taps per model, in order of first use; a graft's hybrid shares its
  // teacher's instance but is a model of its own, applied separately.
  using Reader = std::pair<int, bool>;
  std::vector<Reader> order;
  std::map<Reader, std::vector<std::pair<std::string, int>>> taps;
  for (const FeatureNode &f : loss.features) {
    if (f.kind != FeatureNode::Kind::Tap)
      continue;
    auto &list = taps[{f.instance, f.hybrid}];
    if (list.empty())
      order.push_back({f.instance, f.hybrid});
    if (llvm::none_of(list, [&](const auto &t) { return t.first == f.tap; }))
      list.push_back({f.tap, f.node});
  }
  for (auto [instance, hybrid] : order) {
    SmallVector<Type> types;
    SmallVector<Attribute> names;
    for (const auto &[tap, node] : taps[{instance, hybrid}]) {
      types.push_back(importer.ensureTap(instance, tap, node));
      names.push_back(builder.getStringAttr(tap));
    }
    const ModelInstance &inst = importer.program.instances[size_t(instance)];
    Value input = batchInput(instance);
    auto apply = builder.create<ApplyOp>(importer.loc(inst.range), types, importer.modelRef(instance), input,
                                         builder.getArrayAttr(names), hybrid ? builder.getUnitAttr() : UnitAttr());
    for (auto [i, tap] : llvm::enumerate(taps[{instance, hybrid}]))
      tapped[{instance, hybrid, tap.first}] = apply.getResult(unsigned(i));
  }
  return true;
}

Value BodyEmitter::helper(const FeatureNode &f, Location location, ArrayRef<Value> in) {
  Type type = importer.batchType(f.shape);
  std::string name = scopeName + "." + f.op + std::to_string(helperCount++);
  // normalize(x) is the layer op the runtime has a kernel and a backward
  // for, with torch.nn.functional.normalize's eps.
  if (f.op == "normalize")
    return builder.create<L2NormalizeOp>(location, in[0].getType(), in[0], builder.getF64FloatAttr(1e-12));
  if (f.op == "detach")
    return builder.create<StopGradientOp>(location, in[0]);
  if (f.op == "adapt")
    return builder.create<AdaptOp>(location, type, in[0], builder.getStringAttr(str(f.attrs, "kind", "auto")),
                                   builder.getStringAttr(name));
  if (f.op == "attention_fuse")
    return builder.create<AttentionFuseOp>(location, type, in,
                                           builder.getI64IntegerAttr(int64_t(num(f.attrs, "heads", 4))),
                                           builder.getI64IntegerAttr(int64_t(num(f.attrs, "dim", 64))),
                                           builder.getStringAttr(name));
  emitError(location) << "feature helper '" << f.op << "' has no kd op";
  return nullptr;
}

Value BodyEmitter::feature(int id) {
  if (id < 0 || size_t(id) >= features.size())
    return nullptr;
  if (features[size_t(id)])
    return features[size_t(id)];
  const FeatureNode &f = loss.features[size_t(id)];
  Location location = importer.loc(f.range);
  SmallVector<Value> in;
  for (int input : f.inputs) {
    Value v = feature(input);
    if (!v)
      return nullptr;
    in.push_back(v);
  }
  Value result;
  switch (f.kind) {
  case FeatureNode::Kind::Tap:
    result = tapped[{f.instance, f.hybrid, f.tap}];
    break;
  case FeatureNode::Kind::Label:
    result = batchLabels(location);
    break;
  case FeatureNode::Kind::Helper:
    result = helper(f, location, in);
    break;
  case FeatureNode::Kind::Value:
    if (f.op == "ensemble") {
      result = ensemble(f, location, in);
      break;
    }
    result = importer.emitLayer(builder, location, LayerSpec{f.op, f.attrs, f.shape, f.learnable}, in,
                                scopeName + "/" + f.op + std::to_string(helperCount++));
    break;
  }
  features[size_t(id)] = result;
  return result;
}

Value BodyEmitter::batchLabels(Location location) {
  if (!labels)
    labels = builder.create<BatchLabelsOp>(location, RankedTensorType::get({ShapedType::kDynamic}, builder.getI64Type()));
  return labels;
}

Value BodyEmitter::ensemble(const FeatureNode &f, Location location, ArrayRef<Value> members) {
  // The feature names the ensemble teacher; its weighting and fixed
  // weights live on that teacher's declaration.
  const CheckedModelUse *use = importer.program.findUse(str(f.attrs, "ensemble", ""));
  if (!use || use->source != CheckedModelUse::Source::Ensemble) {
    emitError(location) << "ensemble feature names no ensemble teacher";
    return nullptr;
  }
  std::string weighting = use->weighting;
  DenseF64ArrayAttr weights;
  if (weighting == "fixed")
    weights = builder.getDenseF64ArrayAttr(use->weights);
  Value labelValue = weighting == "ca_mkd" ? batchLabels(location) : Value();
  return builder.create<EnsembleOp>(location, members.front().getType(), members, labelValue,
                                    builder.getStringAttr(weighting), weights, FloatAttr(),
                                    FlatSymbolRefAttr::get(builder.getContext(), use->name));
}

Value BodyEmitter::atTemperature(Value target, double temperature) {
  auto ensemble = target.getDefiningOp<EnsembleOp>();
  if (!ensemble)
    return target;
  FloatAttr attr = f64(temperature);
  if (temperedEnsembles.insert(ensemble).second) {
    ensemble.setTemperatureAttr(attr);
    return target;
  }
  if (ensemble.getTemperature().convertToDouble() == temperature)
    return target;
  auto copy = cast<EnsembleOp>(builder.clone(*ensemble));
  copy.setTemperatureAttr(attr);
  return copy.getResult();
}

Value BodyEmitter::lossCall(const LossNode &node) {
  Location location = importer.loc(node.range);
  SmallVector<Value> in;
  for (int id : node.features) {
    Value v = feature(id);
    if (!v)
      return nullptr;
    in.push_back(v);
  }
  auto need = [&](size_t n) {
    if (in.size() == n)
      return true;
    emitError(location) << "loss '" << node.op << "' needs " << n << " features, got " << in.size();
    return false;
  };
  const Attributes &a = node.attrs;
  const std::string &op = node.op;
  if (op == "dkd") {
    if (!need(3))
      return nullptr;
    return builder.create<DkdLossOp>(location, lossType(), in[0], atTemperature(in[1], num(a, "temperature", 4)), in[2],
                                     f64(num(a, "alpha", 1)), f64(num(a, "beta", 8)), f64(num(a, "temperature", 4)));
  }
  if (!need(2))
    return nullptr;
  if (op == "ce")
    return builder.create<CrossEntropyLossOp>(location, lossType(), in[0], in[1], f64(num(a, "smoothing", 0)));
  if (op == "kl") {
    const ConstValue &t2 = findAttr(a, "t2");
    return builder.create<KlDivLossOp>(location, lossType(), in[0], atTemperature(in[1], num(a, "temperature", 1)),
                                       f64(num(a, "temperature", 1)),
                                       reduction(a, "batchmean"), builder.getBoolAttr(!t2.isBool() || t2.boolValue),
                                       builder.getBoolAttr(str(a, "direction", "forward") == "reverse"));
  }
  if (op == "mse")
    return builder.create<MseLossOp>(location, lossType(), in[0], in[1], reduction(a, "mean"));
  if (op == "l1")
    return builder.create<L1LossOp>(location, lossType(), in[0], in[1], reduction(a, "mean"));
  if (op == "smooth_l1")
    return builder.create<SmoothL1LossOp>(location, lossType(), in[0], in[1], f64(num(a, "beta", 1)));
  if (op == "cosine")
    return builder.create<CosineLossOp>(location, lossType(), in[0], in[1]);
  if (op == "at")
    return builder.create<AttentionTransferLossOp>(location, lossType(), in[0], in[1], f64(num(a, "p", 2)));
  if (op == "rkd_distance")
    return builder.create<RkdDistanceLossOp>(location, lossType(), in[0], in[1]);
  if (op == "rkd_angle")
    return builder.create<RkdAngleLossOp>(location, lossType(), in[0], in[1]);
  emitError(location) << "loss '" << op << "' has no kd op";
  return nullptr;
}

std::optional<LossTerms> BodyEmitter::terms(int id) {
  if (id < 0 || size_t(id) >= loss.nodes.size())
    return std::nullopt;
  const LossNode &node = loss.nodes[size_t(id)];
  LossTerms result;
  auto operand = [&](size_t i) -> std::optional<LossTerms> {
    if (i >= node.operands.size())
      return std::nullopt;
    return terms(node.operands[i]);
  };
  switch (node.kind) {
  case LossNode::Kind::Call: {
    Value v = lossCall(node);
    if (!v)
      return std::nullopt;
    result.terms.push_back({v, 1.0});
    return result;
  }
  case LossNode::Kind::Constant:
    result.bias = node.constant;
    return result;
  case LossNode::Kind::Add:
  case LossNode::Kind::Sub: {
    std::optional<LossTerms> lhs = operand(0), rhs = operand(1);
    if (!lhs || !rhs)
      return std::nullopt;
    result = *lhs;
    result.add(*rhs, node.kind == LossNode::Kind::Sub ? -1.0 : 1.0);
    return result;
  }
  case LossNode::Kind::Scale:
  case LossNode::Kind::Div: {
    std::optional<LossTerms> inner = operand(0);
    if (!inner)
      return std::nullopt;
    if (node.kind == LossNode::Kind::Div && node.constant == 0) {
      emitError(importer.loc(node.range)) << "loss divided by zero";
      return std::nullopt;
    }
    inner->scale(node.kind == LossNode::Kind::Scale ? node.constant : 1.0 / node.constant);
    return inner;
  }
  }
  return std::nullopt;
}

Value BodyEmitter::emit(Location location) {
  applyModels();
  if (loss.root < 0)
    return feature(loss.feature);
  std::optional<LossTerms> combined = terms(loss.root);
  if (!combined)
    return nullptr;
  if (combined->terms.empty()) {
    emitError(location) << "the loss does not depend on any model";
    return nullptr;
  }
  SmallVector<Value> values;
  SmallVector<double> weights;
  for (const auto &[value, weight] : combined->terms) {
    values.push_back(value);
    weights.push_back(weight);
  }
  return builder.create<LossCombineOp>(importer.loc(loss.nodes[size_t(loss.root)].range), lossType(), values,
                                       builder.getDenseF64ArrayAttr(weights), f64(combined->bias));
}

} // namespace

std::string describePrediction(const CheckedLoss &loss, int feature) {
  if (feature < 0 || size_t(feature) >= loss.features.size())
    return "";
  const FeatureNode &f = loss.features[size_t(feature)];
  switch (f.kind) {
  case FeatureNode::Kind::Tap:
    return f.tap;
  case FeatureNode::Kind::Label:
    return "label";
  case FeatureNode::Kind::Helper:
  case FeatureNode::Kind::Value:
    break;
  }
  std::string text = f.op + "(";
  for (size_t i = 0; i < f.inputs.size(); ++i)
    text += (i ? "," : "") + describePrediction(loss, f.inputs[i]);
  return text + ")";
}

Value Importer::emitLossBody(OpBuilder &builder, const CheckedLoss &loss, const std::string &scopeName,
                             Location location) {
  return BodyEmitter(*this, builder, loss, scopeName).emit(location);
}

} // namespace kd

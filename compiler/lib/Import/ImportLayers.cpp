//===- ImportLayers.cpp - Layers of the catalogue to kd layer ops ---------===//
//
// One case per layer or value function of the built-in table. Parameters are
// created next to the op that reads them, with the init spec of the plan
// format: `init: kaiming` is Kaiming-normal over fan-in with gain sqrt(2)
// (ReLU networks), `kaiming_fan_out` the same over fan-out, `xavier`
// Xavier-uniform, `zeros` zeros; biases start at zero, normalisation scales
// at one, token and position embeddings from N(0, 0.02).
//
//===----------------------------------------------------------------------===//
#include "Importer.h"

#include <cmath>

using namespace mlir;

namespace kd {

const ConstValue &findAttr(const Attributes &attrs, const std::string &name) {
  static const ConstValue none;
  for (const auto &[key, value] : attrs)
    if (key == name)
      return value;
  return none;
}

namespace {

struct InitSpec {
  InitKind kind = InitKind::Zeros;
  std::string fan;
  std::optional<double> gain, std;
};

InitSpec weightInit(const std::string &init) {
  InitSpec spec;
  if (init == "zeros")
    return spec;
  if (init == "xavier") {
    spec.kind = InitKind::XavierUniform;
    return spec;
  }
  spec.kind = InitKind::KaimingNormal;
  spec.fan = init == "kaiming_fan_out" ? "fan_out" : "fan_in";
  spec.gain = std::sqrt(2.0);
  return spec;
}

InitSpec simpleInit(InitKind kind) {
  InitSpec spec;
  spec.kind = kind;
  return spec;
}

InitSpec normalInit(double std) {
  InitSpec spec;
  spec.kind = InitKind::Normal;
  spec.std = std;
  return spec;
}

// Builds layers of one op with shared location, prefix and inputs.
class LayerEmitter {
public:
  LayerEmitter(Importer &importer, OpBuilder &builder, Location location, const LayerSpec &layer,
               ArrayRef<Value> inputs, const std::string &prefix)
      : importer(importer), builder(builder), location(location), layer(layer), inputs(inputs), prefix(prefix) {}

  Value emit();

private:
  int64_t intAttr(const std::string &name, int64_t fallback) {
    const ConstValue &v = findAttr(layer.attrs, name);
    return v.isNumber() ? int64_t(v.asDouble()) : fallback;
  }
  double numAttr(const std::string &name, double fallback) {
    const ConstValue &v = findAttr(layer.attrs, name);
    return v.isNumber() ? v.asDouble() : fallback;
  }
  std::string strAttr(const std::string &name, const std::string &fallback) {
    const ConstValue &v = findAttr(layer.attrs, name);
    return v.isString() ? v.stringValue : fallback;
  }
  bool boolAttr(const std::string &name, bool fallback) {
    const ConstValue &v = findAttr(layer.attrs, name);
    return v.isBool() ? v.boolValue : fallback;
  }
  // The learnable shape Sema inferred for `name`, or null.
  const Shape *learnableShape(const std::string &name) {
    for (const auto &[key, shape] : layer.learnable)
      if (key == name)
        return &shape;
    return nullptr;
  }
  Value param(const std::string &name, const Shape &shape, ParamRole role, const InitSpec &init) {
    auto op = builder.create<ParamOp>(location, importer.staticType(shape), builder.getStringAttr(prefix + "." + name),
                                      ParamRoleAttr::get(builder.getContext(), role),
                                      InitKindAttr::get(builder.getContext(), init.kind), init.fan.empty() ? StringAttr() : builder.getStringAttr(init.fan),
                                      init.gain ? builder.getF64FloatAttr(*init.gain) : FloatAttr(), FloatAttr(),
                                      init.std ? builder.getF64FloatAttr(*init.std) : FloatAttr(), FloatAttr());
    return op.getResult();
  }
  // A learnable Sema listed; an error if it did not.
  Value learnable(const std::string &name, ParamRole role, const InitSpec &init, const Shape *override = nullptr) {
    const Shape *shape = learnableShape(name);
    if (!shape) {
      emitError(location) << "layer '" << layer.op << "' has no learnable '" << name << "'";
      return nullptr;
    }
    return param(name, override ? *override : *shape, role, init);
  }
  Type resultType() { return importer.batchType(layer.shape); }
  DenseI64ArrayAttr pair(int64_t a, int64_t b) { return builder.getDenseI64ArrayAttr({a, b}); }
  FloatAttr f64(double v) { return builder.getF64FloatAttr(v); }
  IntegerAttr i64(int64_t v) { return builder.getI64IntegerAttr(v); }

  Value conv();
  Value linear();
  Value norm();
  Value pool();
  Value tokenLayer();

  Importer &importer;
  OpBuilder &builder;
  Location location;
  const LayerSpec &layer;
  ArrayRef<Value> inputs;
  const std::string &prefix;
};

Value LayerEmitter::conv() {
  InitSpec init = weightInit(strAttr("init", "kaiming"));
  Value weight = learnable("weight", ParamRole::Weight, init);
  Value bias = learnableShape("bias") ? learnable("bias", ParamRole::Bias, simpleInit(InitKind::Zeros)) : Value();
  if (!weight)
    return nullptr;
  int64_t stride = intAttr("stride", 1), pad = intAttr("pad", 0), dilation = intAttr("dilation", 1);
  return builder.create<Conv2dOp>(location, resultType(), inputs[0], weight, bias, pair(stride, stride),
                                  pair(pad, pad), pair(dilation, dilation), i64(intAttr("groups", 1)));
}

Value LayerEmitter::linear() {
  Value weight = learnable("weight", ParamRole::Weight, weightInit(strAttr("init", "kaiming")));
  Value bias = learnableShape("bias") ? learnable("bias", ParamRole::Bias, simpleInit(InitKind::Zeros)) : Value();
  if (!weight)
    return nullptr;
  return builder.create<LinearOp>(location, resultType(), inputs[0], weight, bias);
}

Value LayerEmitter::norm() {
  const std::string &op = layer.op;
  Value scale = learnable("weight", ParamRole::Weight, simpleInit(InitKind::Ones));
  Value shift = learnable("bias", ParamRole::Bias, simpleInit(InitKind::Zeros));
  if (!scale || !shift)
    return nullptr;
  double eps = numAttr("eps", 1e-5);
  if (op == "bn") {
    const Shape &channels = *learnableShape("weight");
    Value mean = param("running_mean", channels, ParamRole::State, simpleInit(InitKind::Zeros));
    Value var = param("running_var", channels, ParamRole::State, simpleInit(InitKind::Ones));
    return builder.create<BatchNormOp>(location, resultType(), inputs[0], scale, shift, mean, var, f64(eps),
                                       f64(numAttr("momentum", 0.1)));
  }
  if (op == "layernorm") {
    int64_t rank = int64_t(learnableShape("weight")->size());
    return builder.create<LayerNormOp>(location, resultType(), inputs[0], scale, shift, i64(rank), f64(eps));
  }
  return builder.create<GroupNormOp>(location, resultType(), inputs[0], scale, shift, i64(intAttr("groups", 32)),
                                     f64(eps));
}

Value LayerEmitter::pool() {
  const std::string &op = layer.op;
  if (op == "maxpool" || op == "avgpool") {
    int64_t k = intAttr("k", 2), stride = intAttr("stride", k), pad = intAttr("pad", 0);
    return builder.create<Pool2dOp>(location, resultType(), inputs[0], PoolModeAttr::get(builder.getContext(), op == "maxpool" ? PoolMode::Max : PoolMode::Avg),
                                    pair(k, k), pair(stride, stride), pair(pad, pad), /*count_include_pad=*/UnitAttr());
  }
  if (op == "gap") {
    // The runtime pools to [N, C, 1, 1]; the language's gap yields [C].
    Shape pooled = {layer.shape[0], 1, 1};
    Value p = builder.create<AdaptivePoolOp>(location, importer.batchType(pooled), inputs[0],
                                             PoolModeAttr::get(builder.getContext(), PoolMode::Avg),
                                             pair(1, 1));
    return builder.create<ReshapeOp>(location, resultType(), p);
  }
  PoolMode mode = op == "adaptive_maxpool" ? PoolMode::Max : PoolMode::Avg;
  return builder.create<AdaptivePoolOp>(location, resultType(), inputs[0],
                                        PoolModeAttr::get(builder.getContext(), mode),
                                        pair(intAttr("h", 1), intAttr("w", 1)));
}

Value LayerEmitter::tokenLayer() {
  const std::string &op = layer.op;
  if (op == "tokens")
    return builder.create<TokensOp>(location, resultType(), inputs[0]);
  if (op == "select")
    return builder.create<SelectTokenOp>(location, resultType(), inputs[0], i64(intAttr("index", 0)));
  if (op == "cls_token" || op == "pos_embed") {
    // The runtime's embeddings carry a leading 1 that broadcasts over the batch.
    const char *name = op == "cls_token" ? "token" : "table";
    const Shape *shape = learnableShape(name);
    if (!shape) {
      emitError(location) << "layer '" << op << "' has no learnable '" << name << "'";
      return nullptr;
    }
    Shape batched = *shape;
    if (op == "pos_embed" || batched.size() == 2)
      batched.insert(batched.begin(), 1);
    Value p = param(name, batched, ParamRole::Weight, normalInit(0.02));
    if (op == "cls_token")
      return builder.create<ClsTokenOp>(location, resultType(), inputs[0], p);
    return builder.create<PosEmbedOp>(location, resultType(), inputs[0], p);
  }
  if (op == "mha") {
    if (numAttr("dropout", 0) != 0) {
      emitError(location) << "mha with attention dropout is not supported by the runtime";
      return nullptr;
    }
    // nn.MultiheadAttention's init: its packed [3D, D] in-projection is
    // Xavier-uniform, bound sqrt(6 / 4D); each [D, D] slice here gets the
    // same bound from Xavier with gain 1/sqrt(2). The output projection is
    // a default nn.Linear (Kaiming-uniform with a = sqrt(5), bound
    // 1/sqrt(D)); every bias starts at zero.
    InitSpec inProjection = simpleInit(InitKind::XavierUniform);
    inProjection.gain = 1.0 / std::sqrt(2.0);
    InitSpec outProjection = simpleInit(InitKind::KaimingUniform);
    outProjection.fan = "fan_in";
    outProjection.gain = std::sqrt(1.0 / 3.0);
    SmallVector<Value, 8> weights;
    for (const char *projection : {"q", "k", "v", "out"}) {
      std::string name = projection;
      weights.push_back(learnable(name + "_weight", ParamRole::Weight, name == "out" ? outProjection : inProjection));
      weights.push_back(learnable(name + "_bias", ParamRole::Bias, simpleInit(InitKind::Zeros)));
    }
    if (llvm::is_contained(weights, Value()))
      return nullptr;
    return builder.create<MultiHeadAttentionOp>(location, resultType(), inputs[0], weights[0], weights[1], weights[2],
                                                weights[3], weights[4], weights[5], weights[6], weights[7],
                                                i64(intAttr("heads", 1)));
  }
  // attention_pool
  InitSpec init = weightInit("kaiming");
  Value weight = learnable("weight", ParamRole::Weight, init);
  Value bias = learnable("bias", ParamRole::Bias, simpleInit(InitKind::Zeros));
  if (!weight || !bias)
    return nullptr;
  return builder.create<AttentionPoolOp>(location, resultType(), inputs[0], weight, bias);
}

Value LayerEmitter::emit() {
  const std::string &op = layer.op;
  if (op == "conv")
    return conv();
  if (op == "linear")
    return linear();
  if (op == "bn" || op == "layernorm" || op == "groupnorm")
    return norm();
  if (op == "relu")
    return builder.create<ReluOp>(location, inputs[0]);
  if (op == "gelu")
    return builder.create<GeluOp>(location, inputs[0]);
  if (op == "sigmoid")
    return builder.create<SigmoidOp>(location, inputs[0]);
  if (op == "tanh")
    return builder.create<TanhOp>(location, inputs[0]);
  if (op == "identity")
    return inputs[0];
  if (op == "softmax" || op == "log_softmax")
    return builder.create<SoftmaxOp>(location, inputs[0], f64(numAttr("temperature", 1)),
                                      op == "log_softmax" ? builder.getUnitAttr() : UnitAttr());
  if (op == "maxpool" || op == "avgpool" || op == "gap" || op == "adaptive_avgpool" || op == "adaptive_maxpool")
    return pool();
  if (op == "dropout") {
    // A seed per layer instance, stable across compilations of the same
    // program, so that masks do not repeat between layers.
    int64_t seed = int64_t(std::hash<std::string>()(prefix) & 0x7fffffff);
    return builder.create<DropoutOp>(location, inputs[0], f64(numAttr("p", 0.5)), i64(seed));
  }
  if (op == "flatten" || op == "reshape")
    return builder.create<ReshapeOp>(location, resultType(), inputs[0]);
  if (op == "resize") {
    std::string mode = strAttr("mode", "bilinear");
    ResizeMode m = mode == "nearest" ? ResizeMode::Nearest : mode == "area" ? ResizeMode::Area : ResizeMode::Bilinear;
    return builder.create<ResizeOp>(location, resultType(), inputs[0], ResizeModeAttr::get(builder.getContext(), m), pair(intAttr("h", 1), intAttr("w", 1)));
  }
  if (op == "tokens" || op == "select" || op == "cls_token" || op == "pos_embed" || op == "mha" ||
      op == "attention_pool")
    return tokenLayer();
  if (op == "add")
    return builder.create<AddOp>(location, inputs[0], inputs[1]);
  if (op == "mul")
    return builder.create<MulOp>(location, inputs[0], inputs[1]);
  if (op == "concat")
    return builder.create<ConcatOp>(location, resultType(), inputs, i64(1));
  if (op == "matmul")
    return builder.create<MatMulOp>(location, resultType(), inputs[0], inputs[1], UnitAttr(), UnitAttr());
  if (op == "mean")
    return builder.create<MeanOp>(location, inputs[0].getType(), inputs);
  emitError(location) << "layer '" << op << "' has no kd op";
  return nullptr;
}

} // namespace

Value Importer::emitLayer(OpBuilder &builder, Location location, const LayerSpec &layer, ArrayRef<Value> inputs,
                          const std::string &paramPrefix) {
  if (inputs.empty()) {
    emitError(location) << "layer '" << layer.op << "' has no input";
    return nullptr;
  }
  return LayerEmitter(*this, builder, location, layer, inputs, paramPrefix).emit();
}

} // namespace kd

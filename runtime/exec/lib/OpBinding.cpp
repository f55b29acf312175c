//===- OpBinding.cpp - The table from op names to backend entries ---------===//
//
// One row per op name: the operand signature of its `in` and `out` lists
// and a binder that reads the attributes and returns the call. Signatures
// are strings, one character per operand: 'r' required, 'o' optional (null
// allowed), '+' one or more required operands (variadic ops; at most one
// '+', between fixed slots: "r+" is one operand then one or more, "+o" one
// or more then an optional one), '*' zero or more (the tensors a layer's
// post-ops read, "rro*"). The operand
// order is the order of the backend entry's tensor arguments (Backend.h):
// `in` holds the const tensors, `out` the tensors written.
//
//===----------------------------------------------------------------------===//

#include "kdrt/exec/OpBinding.h"
#include "kdrt/plan/PlanIo.h"

#include <cmath>
#include <map>

namespace kdrt::exec {
namespace {

using nlohmann::json;
using plan::PlanError;

/// Reads attributes with errors naming their JSON path.
class Attrs {
public:
  Attrs(const json &attrs, std::string source, std::string path)
      : attrs(attrs), source(std::move(source)), path(std::move(path)) {}

  [[noreturn]] void fail(const std::string &key,
                         const std::string &message) const {
    throw PlanError(source + ": " + path + ".attrs." + key + ": " + message);
  }
  const json *find(const std::string &key) const {
    auto it = attrs.find(key);
    return it == attrs.end() || it->is_null() ? nullptr : &*it;
  }
  int64_t integer(const std::string &key, int64_t fallback) const {
    const json *j = find(key);
    if (!j)
      return fallback;
    if (!j->is_number_integer())
      fail(key, "expected an integer");
    return j->get<int64_t>();
  }
  int64_t positive(const std::string &key, int64_t fallback) const {
    int64_t value = integer(key, fallback);
    if (value <= 0)
      fail(key, "must be positive");
    return value;
  }
  double real(const std::string &key, double fallback) const {
    const json *j = find(key);
    if (!j)
      return fallback;
    if (!j->is_number())
      fail(key, "expected a number");
    return j->get<double>();
  }
  bool flag(const std::string &key, bool fallback) const {
    const json *j = find(key);
    if (!j)
      return fallback;
    if (!j->is_boolean())
      fail(key, "expected true or false");
    return j->get<bool>();
  }
  std::string text(const std::string &key, const std::string &fallback) const {
    const json *j = find(key);
    if (!j)
      return fallback;
    if (!j->is_string())
      fail(key, "expected a string");
    return j->get<std::string>();
  }
  /// A (height, width) pair: `stem: [h, w]`, `stem: n` for both, or
  /// `stem_h` / `stem_w`.
  std::pair<int64_t, int64_t> pair(const std::string &stem,
                                   std::pair<int64_t, int64_t> fallback) const {
    if (const json *j = find(stem)) {
      if (j->is_number_integer())
        return {j->get<int64_t>(), j->get<int64_t>()};
      if (!j->is_array() || j->size() != 2 || !(*j)[0].is_number_integer() ||
          !(*j)[1].is_number_integer())
        fail(stem, "expected an integer or a pair [h, w]");
      return {(*j)[0].get<int64_t>(), (*j)[1].get<int64_t>()};
    }
    return {integer(stem + "_h", fallback.first),
            integer(stem + "_w", fallback.second)};
  }
  std::vector<double> reals(const std::string &key) const {
    std::vector<double> values;
    const json *j = find(key);
    if (!j)
      return values;
    if (!j->is_array())
      fail(key, "expected an array of numbers");
    for (const json &v : *j) {
      if (!v.is_number())
        fail(key, "expected an array of numbers");
      values.push_back(v.get<double>());
    }
    return values;
  }

private:
  const json &attrs;
  std::string source;
  std::string path;
};

ActivationKind activationOf(const std::string &name) {
  if (name == "gelu")
    return ActivationKind::Gelu;
  if (name == "sigmoid")
    return ActivationKind::Sigmoid;
  if (name == "tanh")
    return ActivationKind::Tanh;
  return ActivationKind::Relu;
}

/// The post-op chain of a conv or linear (Backend::conv2dFusedForward):
/// activations, `sum` (adds a residual) and `scale_shift` (an inference
/// batch norm as per-channel scale and shift). The tensors they read follow
/// the layer's three `in` operands in chain order: a sum's residual, a
/// scale_shift's scale then shift. `extra` is how many the op has.
PostOpChain postOps(const Attrs &attrs, size_t extra) {
  PostOpChain chain;
  size_t tensors = 0;
  if (const json *list = attrs.find("post_ops")) {
    if (!list->is_array())
      attrs.fail("post_ops", "expected an array");
    for (const json &entry : *list) {
      if (!entry.is_object() || !entry.contains("kind") ||
          !entry["kind"].is_string())
        attrs.fail("post_ops", "each post-op is {\"kind\": ...}");
      std::string kind = entry["kind"].get<std::string>();
      bool appended;
      if (kind == "relu" || kind == "gelu" || kind == "sigmoid" ||
          kind == "tanh") {
        appended = chain.appendActivation(activationOf(kind));
      } else if (kind == "sum") {
        appended = chain.appendSum();
        tensors += 1;
      } else if (kind == "scale_shift") {
        appended = chain.appendScaleShift();
        tensors += 2;
      } else {
        attrs.fail("post_ops", "unsupported post-op '" + kind +
                                   "' (expected relu, gelu, sigmoid, tanh, "
                                   "sum or scale_shift)");
      }
      if (!appended)
        attrs.fail("post_ops", "at most " +
                                   std::to_string(PostOpChain::kCapacity) +
                                   " post-ops");
    }
  }
  if (tensors != extra)
    attrs.fail("post_ops", "the chain reads " + std::to_string(tensors) +
                               " tensors after the layer's input, weight and "
                               "bias; the op has " +
                               std::to_string(extra));
  return chain;
}

/// The tensors `chain` reads: the `in` operands after the layer's three.
PostOpTensors postOpTensors(const PostOpChain &chain, const OpInputs &in) {
  PostOpTensors tensors;
  size_t next = 3;
  for (int k = 0; k < chain.count; ++k) {
    if (chain.ops[k].kind == PostOpKind::Sum) {
      tensors.residuals.push_back(in[next++]);
    } else if (chain.ops[k].kind == PostOpKind::ScaleShift) {
      tensors.scales.push_back(in[next++]);
      tensors.shifts.push_back(in[next++]);
    }
  }
  return tensors;
}

/// The `eps` of an inference batch norm's fold or scale and shift.
double positiveEps(const Attrs &attrs) {
  double eps = attrs.real("eps", 1e-5);
  if (!(eps > 0))
    attrs.fail("eps", "must be positive");
  return eps;
}

Reduction reductionOf(const Attrs &attrs) {
  std::string name = attrs.text("reduction", "batchmean");
  if (name == "batchmean" || name == "batch_mean")
    return Reduction::BatchMean;
  if (name == "sum")
    return Reduction::Sum;
  if (name == "mean")
    return Reduction::Mean;
  attrs.fail("reduction", "unknown reduction '" + name +
                              "' (expected batchmean, sum or mean)");
}

struct OpRow {
  const char *in;
  const char *out;
  std::function<BoundOpFn(const Attrs &, const plan::OpSpec &)> bind;
};

/// The scale_add of the contract: out = sum_i scales[i] * in[i] + bias (the
/// bias is the constant term of a loss). Runs on the host through
/// copyOut/copyIn, so it needs no backend entry of its own.
Status scaleAdd(OpContext &ctx, const std::vector<double> &scales, double bias,
                const OpInputs &in, const OpOutputs &out) {
  Tensor &result = *out[0];
  size_t count = size_t(result.numElements());
  std::vector<float> sum(count, float(bias)), term(count);
  for (size_t i = 0; i < in.size(); ++i) {
    if (size_t(in[i]->numElements()) != count)
      return Status::invalidArgument(
          "scale_add: operand " + std::to_string(i) + " has shape " +
          in[i]->shape().toString() + ", output " +
          result.shape().toString());
    KDRT_RETURN_IF_ERROR(ctx.backend->copyOut(term.data(), in[i]->data(),
                                              count * sizeof(float)));
    float scale = float(scales[i]);
    for (size_t k = 0; k < count; ++k)
      sum[k] += scale * term[k];
  }
  return ctx.backend->copyIn(result.data(), sum.data(),
                             count * sizeof(float));
}

/// The terms of a logit_loss_group, from its `terms` attribute.
LogitLossGroupDesc logitLossGroupDesc(const Attrs &attrs, const json &raw,
                                      size_t targets) {
  const json *list = attrs.find("terms");
  if (!list || !list->is_array() || list->empty())
    attrs.fail("terms", "expected a non-empty array of term objects");
  if (list->size() != targets)
    attrs.fail("terms", "has " + std::to_string(list->size()) +
                            " terms for " + std::to_string(targets) +
                            " targets");
  LogitLossGroupDesc desc;
  for (size_t i = 0; i < list->size(); ++i) {
    const json &entry = (*list)[i];
    if (!entry.is_object())
      attrs.fail("terms", "each term is an object");
    Attrs term(entry, "", "");
    std::string where = "terms[" + std::to_string(i) + "]";
    LogitLossTerm t;
    std::string kind = entry.contains("kind") && entry["kind"].is_string()
                           ? entry["kind"].get<std::string>()
                           : "";
    auto number = [&](const char *key, double fallback) {
      const json *value = term.find(key);
      if (!value)
        return fallback;
      if (!value->is_number())
        attrs.fail(where + "." + key, "expected a number");
      return value->get<double>();
    };
    t.weight = number("weight", 1);
    if (kind == "ce") {
      t.kind = LogitLossTermKind::CrossEntropy;
      t.labelSmoothing = number("label_smoothing", 0);
      const json *soft = term.find("soft_targets");
      t.softTargets = soft && soft->is_boolean() && soft->get<bool>();
    } else if (kind == "kl") {
      t.kind = LogitLossTermKind::KlDiv;
      t.temperature = number("temperature", 1);
      if (!(t.temperature > 0))
        attrs.fail(where + ".temperature", "must be positive");
      const json *t2 = term.find("scale_by_temperature_squared");
      t.scaleByTemperatureSquared = !t2 || !t2->is_boolean() || t2->get<bool>();
      std::string reduction = "batchmean";
      if (const json *r = term.find("reduction"); r && r->is_string())
        reduction = r->get<std::string>();
      if (reduction == "batchmean" || reduction == "batch_mean")
        t.reduction = Reduction::BatchMean;
      else if (reduction == "sum")
        t.reduction = Reduction::Sum;
      else if (reduction == "mean")
        t.reduction = Reduction::Mean;
      else
        attrs.fail(where + ".reduction", "unknown reduction '" + reduction +
                                             "' (expected batchmean, sum or mean)");
    } else {
      attrs.fail(where + ".kind", "expected \"ce\" or \"kl\"");
    }
    if (!desc.append(t))
      attrs.fail("terms", "has more than " +
                              std::to_string(LogitLossGroupDesc::kCapacity) +
                              " terms");
  }
  (void)raw;
  return desc;
}

/// One logitLossGroup call: the backend writes the values into one [count]
/// tensor, which is then copied into each term's value buffer (the plan
/// keeps one rank-0 buffer per loss value, as the separate kernels do).
Status logitLossGroup(OpContext &ctx, const LogitLossGroupDesc &desc,
                      const OpInputs &in, const OpOutputs &out) {
  size_t count = size_t(desc.count);
  std::vector<const Tensor *> targets(in.begin() + 1, in.end());
  void *storage = nullptr;
  KDRT_RETURN_IF_ERROR(ctx.backend->allocate(count * sizeof(float), &storage));
  Tensor losses = Tensor::view(static_cast<float *>(storage),
                               Shape{int64_t(count)});
  std::vector<float> values(count);
  Status status = ctx.backend->logitLossGroup(desc, *in[0], targets, losses,
                                              out[count]);
  if (status.ok())
    status = ctx.backend->copyOut(values.data(), storage,
                                  count * sizeof(float));
  ctx.backend->deallocate(storage);
  KDRT_RETURN_IF_ERROR(status);
  for (size_t i = 0; i < count; ++i) {
    if (out[i]->numElements() != 1)
      return Status::invalidArgument(
          "logit_loss_group: the value of term " + std::to_string(i) +
          " needs a one-element buffer, got " + out[i]->shape().toString());
    KDRT_RETURN_IF_ERROR(
        ctx.backend->copyIn(out[i]->data(), &values[i], sizeof(float)));
  }
  return Status::success();
}

const std::map<std::string, OpRow> &opTable() {
  static const std::map<std::string, OpRow> table = [] {
    std::map<std::string, OpRow> t;

    // Layers.
    t["conv2d.fwd"] = {"rro*", "r", [](const Attrs &a, const plan::OpSpec &op) {
      Conv2dDesc d;
      std::tie(d.strideH, d.strideW) = a.pair("stride", {1, 1});
      std::tie(d.padH, d.padW) = a.pair("pad", {0, 0});
      std::tie(d.dilationH, d.dilationW) = a.pair("dilation", {1, 1});
      d.groups = a.positive("groups", 1);
      d.postOps = postOps(a, op.in.size() - 3);
      std::string precision = a.text("precision", "fp32");
      if (precision == "bf16")
        d.precision = ConvPrecision::Bf16;
      else if (precision != "fp32")
        a.fail("precision", "unknown precision '" + precision +
                                "' (expected \"fp32\" or \"bf16\")");
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        if (d.postOps.empty())
          return c.backend->conv2dForward(d, *i[0], *i[1], i[2], *o[0]);
        return c.backend->conv2dFusedForward(d, *i[0], *i[1], i[2],
                                             postOpTensors(d.postOps, i),
                                             *o[0]);
      });
    }};
    t["conv2d.bwd"] = {"rrr", "ooo", [](const Attrs &a, const plan::OpSpec &) {
      Conv2dDesc d;
      std::tie(d.strideH, d.strideW) = a.pair("stride", {1, 1});
      std::tie(d.padH, d.padW) = a.pair("pad", {0, 0});
      std::tie(d.dilationH, d.dilationW) = a.pair("dilation", {1, 1});
      d.groups = a.positive("groups", 1);
      if (a.find("post_ops"))
        a.fail("post_ops", "a backward op takes no post-ops (training keeps "
                           "activations as their own ops)");
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->conv2dBackward(d, *i[0], *i[1], *i[2], o[0], o[1],
                                         o[2]);
      });
    }};
    t["linear.fwd"] = {"rro*", "r", [](const Attrs &a, const plan::OpSpec &op) {
      LinearDesc d;
      d.postOps = postOps(a, op.in.size() - 3);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        if (d.postOps.empty())
          return c.backend->linearForward(d, *i[0], *i[1], i[2], *o[0]);
        return c.backend->linearFusedForward(d, *i[0], *i[1], i[2],
                                             postOpTensors(d.postOps, i),
                                             *o[0]);
      });
    }};
    t["linear.bwd"] = {"rrr", "ooo", [](const Attrs &a, const plan::OpSpec &) {
      if (a.find("post_ops"))
        a.fail("post_ops", "a backward op takes no post-ops");
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->linearBackward(LinearDesc{}, *i[0], *i[1], *i[2],
                                         o[0], o[1], o[2]);
      });
    }};
    auto batchNormDesc = [](const Attrs &a) {
      BatchNormDesc d;
      d.training = a.flag("training", true);
      d.eps = a.real("eps", 1e-5);
      d.momentum = a.real("momentum", 0.1);
      return d;
    };
    t["batch_norm.fwd"] = {"rrrrr", "r", [=](const Attrs &a,
                                              const plan::OpSpec &) {
      BatchNormDesc d = batchNormDesc(a);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        // The running statistics are updated in place: they are parameters
        // of role "state", passed in `in` but written.
        return c.backend->batchNormForward(d, *i[0], *i[1], *i[2],
                                           const_cast<Tensor &>(*i[3]),
                                           const_cast<Tensor &>(*i[4]), *o[0]);
      });
    }};
    t["batch_norm.bwd"] = {"rrrrr", "ooo", [=](const Attrs &a,
                                                const plan::OpSpec &) {
      BatchNormDesc d = batchNormDesc(a);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->batchNormBackward(d, *i[0], *i[1], *i[2], *i[3],
                                            *i[4], o[0], o[1], o[2]);
      });
    }};
    // Runs once per .kdx export: `in` names the trained plan's parameters
    // (the layer's weight and optional bias, then gamma, beta and the
    // running statistics), `out` the exported plan's folded weight and bias.
    t["fold_batch_norm"] = {"rorrrr", "rr", [](const Attrs &a,
                                                 const plan::OpSpec &) {
      FoldBatchNormDesc d{positiveEps(a)};
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->foldBatchNorm(d, *i[0], i[1], *i[2], *i[3], *i[4],
                                        *i[5], *o[0], *o[1]);
      });
    }};
    // The operands of the scale_shift post-ops of frozen and inference
    // layers, computed from the running statistics where the batch norm was.
    t["batch_norm_scale_shift"] = {"rrrr", "rr", [](const Attrs &a,
                                                    const plan::OpSpec &) {
      BatchNormScaleShiftDesc d{positiveEps(a)};
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->batchNormScaleShift(d, *i[0], *i[1], *i[2], *i[3],
                                              *o[0], *o[1]);
      });
    }};
    t["layer_norm.fwd"] = {"roo", "r", [](const Attrs &a,
                                           const plan::OpSpec &) {
      LayerNormDesc d;
      d.normalizedRank = a.positive("normalized_rank", 1);
      d.eps = a.real("eps", 1e-5);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->layerNormForward(d, *i[0], i[1], i[2], *o[0]);
      });
    }};
    t["layer_norm.bwd"] = {"ror", "ooo", [](const Attrs &a,
                                             const plan::OpSpec &) {
      LayerNormDesc d;
      d.normalizedRank = a.positive("normalized_rank", 1);
      d.eps = a.real("eps", 1e-5);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->layerNormBackward(d, *i[0], i[1], *i[2], o[0], o[1],
                                            o[2]);
      });
    }};
    t["group_norm.fwd"] = {"roo", "r", [](const Attrs &a,
                                           const plan::OpSpec &) {
      GroupNormDesc d;
      d.groups = a.positive("groups", 1);
      d.eps = a.real("eps", 1e-5);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->groupNormForward(d, *i[0], i[1], i[2], *o[0]);
      });
    }};
    t["group_norm.bwd"] = {"ror", "ooo", [](const Attrs &a,
                                             const plan::OpSpec &) {
      GroupNormDesc d;
      d.groups = a.positive("groups", 1);
      d.eps = a.real("eps", 1e-5);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->groupNormBackward(d, *i[0], i[1], *i[2], o[0], o[1],
                                            o[2]);
      });
    }};

    // Activations and softmax.
    for (const char *name : {"relu", "gelu", "sigmoid", "tanh"}) {
      ActivationDesc d;
      d.kind = activationOf(name);
      t[std::string(name) + ".fwd"] = {"r", "r", [d](const Attrs &,
                                                     const plan::OpSpec &) {
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->activationForward(d, *i[0], *o[0]);
        });
      }};
      t[std::string(name) + ".bwd"] = {"rr", "r", [d](const Attrs &,
                                                      const plan::OpSpec &) {
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->activationBackward(d, *i[0], *i[1], *o[0]);
        });
      }};
    }
    for (const char *name : {"softmax", "log_softmax"}) {
      bool log = std::string(name) == "log_softmax";
      t[std::string(name) + ".fwd"] = {"r", "r", [log](const Attrs &a,
                                                       const plan::OpSpec &) {
        SoftmaxDesc d;
        d.log = log;
        d.temperature = a.real("temperature", 1.0);
        if (!(d.temperature > 0))
          a.fail("temperature", "must be positive");
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->softmaxForward(d, *i[0], *o[0]);
        });
      }};
      t[std::string(name) + ".bwd"] = {"rr", "r", [log](const Attrs &a,
                                                        const plan::OpSpec &) {
        SoftmaxDesc d;
        d.log = log;
        d.temperature = a.real("temperature", 1.0);
        if (!(d.temperature > 0))
          a.fail("temperature", "must be positive");
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->softmaxBackward(d, *i[0], *i[1], *o[0]);
        });
      }};
    }

    // Pooling and resizing.
    for (const char *name : {"max_pool2d", "avg_pool2d"}) {
      PoolMode mode =
          std::string(name) == "max_pool2d" ? PoolMode::Max : PoolMode::Avg;
      auto desc = [mode](const Attrs &a) {
        Pool2dDesc d;
        d.mode = mode;
        std::tie(d.kernelH, d.kernelW) = a.pair("kernel", {2, 2});
        std::tie(d.strideH, d.strideW) =
            a.pair("stride", {d.kernelH, d.kernelW});
        std::tie(d.padH, d.padW) = a.pair("pad", {0, 0});
        d.countIncludePad = a.flag("count_include_pad", false);
        return d;
      };
      t[std::string(name) + ".fwd"] = {"r", "r", [desc](const Attrs &a,
                                                        const plan::OpSpec &) {
        Pool2dDesc d = desc(a);
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->pool2dForward(d, *i[0], *o[0]);
        });
      }};
      t[std::string(name) + ".bwd"] = {"rr", "r", [desc](const Attrs &a,
                                                         const plan::OpSpec &) {
        Pool2dDesc d = desc(a);
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->pool2dBackward(d, *i[0], *i[1], *o[0]);
        });
      }};
    }
    for (const char *name :
         {"global_avg_pool", "adaptive_avg_pool", "adaptive_max_pool"}) {
      std::string op = name;
      auto desc = [op](const Attrs &a) {
        AdaptivePoolDesc d;
        d.mode = op == "adaptive_max_pool" ? PoolMode::Max : PoolMode::Avg;
        if (op != "global_avg_pool")
          std::tie(d.outputH, d.outputW) = a.pair("output", {1, 1});
        if (d.outputH <= 0 || d.outputW <= 0)
          a.fail("output", "must be positive");
        return d;
      };
      t[op + ".fwd"] = {"r", "r", [desc](const Attrs &a,
                                         const plan::OpSpec &) {
        AdaptivePoolDesc d = desc(a);
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->adaptivePoolForward(d, *i[0], *o[0]);
        });
      }};
      t[op + ".bwd"] = {"rr", "r", [desc](const Attrs &a,
                                          const plan::OpSpec &) {
        AdaptivePoolDesc d = desc(a);
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->adaptivePoolBackward(d, *i[0], *i[1], *o[0]);
        });
      }};
    }
    auto resizeDesc = [](const Attrs &a) {
      ResizeDesc d;
      std::string mode = a.text("mode", "bilinear");
      if (mode == "bilinear")
        d.mode = ResizeMode::Bilinear;
      else if (mode == "nearest")
        d.mode = ResizeMode::Nearest;
      else if (mode == "area")
        d.mode = ResizeMode::Area;
      else
        a.fail("mode", "unknown mode '" + mode +
                           "' (expected bilinear, nearest or area)");
      std::tie(d.outputH, d.outputW) = a.pair("output", {1, 1});
      return d;
    };
    t["resize.fwd"] = {"r", "r", [=](const Attrs &a, const plan::OpSpec &) {
      ResizeDesc d = resizeDesc(a);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->resizeForward(d, *i[0], *o[0]);
      });
    }};
    t["resize.bwd"] = {"r", "r", [=](const Attrs &a, const plan::OpSpec &) {
      ResizeDesc d = resizeDesc(a);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->resizeBackward(d, *i[0], *o[0]);
      });
    }};

    // Plumbing.
    for (const char *name : {"add", "mul"}) {
      BinaryDesc d;
      d.kind = std::string(name) == "add" ? BinaryKind::Add : BinaryKind::Mul;
      t[std::string(name) + ".fwd"] = {"rr", "r", [d](const Attrs &,
                                                      const plan::OpSpec &) {
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->binaryForward(d, *i[0], *i[1], *o[0]);
        });
      }};
      t[std::string(name) + ".bwd"] = {"rrr", "oo", [d](const Attrs &,
                                                        const plan::OpSpec &) {
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->binaryBackward(d, *i[0], *i[1], *i[2], o[0], o[1]);
        });
      }};
    }
    t["concat.fwd"] = {"+", "r", [](const Attrs &a, const plan::OpSpec &) {
      ConcatDesc d;
      d.axis = a.integer("axis", 1);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->concatForward(d, i, *o[0]);
      });
    }};
    t["concat.bwd"] = {"r", "+", [](const Attrs &a, const plan::OpSpec &) {
      ConcatDesc d;
      d.axis = a.integer("axis", 1);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->concatBackward(d, *i[0], o);
      });
    }};
    t["reshape.fwd"] = {"r", "r", [](const Attrs &, const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->reshapeForward(ReshapeDesc{}, *i[0], *o[0]);
      });
    }};
    t["reshape.bwd"] = {"r", "r", [](const Attrs &, const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->reshapeBackward(ReshapeDesc{}, *i[0], *o[0]);
      });
    }};
    t["dropout.fwd"] = {"r", "rr", [](const Attrs &a, const plan::OpSpec &) {
      DropoutDesc d;
      d.p = a.real("p", 0.5);
      if (d.p < 0 || d.p >= 1)
        a.fail("p", "must lie in [0, 1)");
      uint64_t seed = uint64_t(a.integer("seed", 0));
      return BoundOpFn([d, seed](OpContext &c, const OpInputs &i,
                                 const OpOutputs &o) mutable {
        d.seed = seed * 0x9E3779B97F4A7C15ull ^ c.stepSeed;
        return c.backend->dropoutForward(d, *i[0], *o[0], *o[1]);
      });
    }};
    t["dropout.bwd"] = {"rr", "r", [](const Attrs &a, const plan::OpSpec &) {
      DropoutDesc d;
      d.p = a.real("p", 0.5);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->dropoutBackward(d, *i[0], *i[1], *o[0]);
      });
    }};
    auto matMulDesc = [](const Attrs &a) {
      MatMulDesc d;
      d.transposeLhs = a.flag("transpose_lhs", false);
      d.transposeRhs = a.flag("transpose_rhs", false);
      return d;
    };
    t["matmul.fwd"] = {"rr", "r", [=](const Attrs &a, const plan::OpSpec &) {
      MatMulDesc d = matMulDesc(a);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->matMulForward(d, *i[0], *i[1], *o[0]);
      });
    }};
    t["matmul.bwd"] = {"rrr", "oo", [=](const Attrs &a, const plan::OpSpec &) {
      MatMulDesc d = matMulDesc(a);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->matMulBackward(d, *i[0], *i[1], *i[2], o[0], o[1]);
      });
    }};
    t["l2_normalize.fwd"] = {"r", "r", [](const Attrs &a,
                                          const plan::OpSpec &) {
      L2NormalizeDesc d;
      d.eps = a.real("eps", 1e-12);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->l2NormalizeForward(d, *i[0], *o[0]);
      });
    }};
    t["l2_normalize.bwd"] = {"rr", "r", [](const Attrs &a,
                                           const plan::OpSpec &) {
      L2NormalizeDesc d;
      d.eps = a.real("eps", 1e-12);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->l2NormalizeBackward(d, *i[0], *i[1], *o[0]);
      });
    }};

    // Attention and tokens.
    t["multi_head_attention.fwd"] = {
        "rrorororo", "r", [](const Attrs &a, const plan::OpSpec &) {
          MultiHeadAttentionDesc d;
          d.numHeads = a.positive("num_heads", 1);
          return BoundOpFn([d](OpContext &c, const OpInputs &i,
                               const OpOutputs &o) {
            AttentionWeights w{i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8]};
            return c.backend->multiHeadAttentionForward(d, *i[0], w, *o[0]);
          });
        }};
    t["multi_head_attention.bwd"] = {
        "rrorororor", "ooooooooo", [](const Attrs &a, const plan::OpSpec &) {
          MultiHeadAttentionDesc d;
          d.numHeads = a.positive("num_heads", 1);
          return BoundOpFn([d](OpContext &c, const OpInputs &i,
                               const OpOutputs &o) {
            AttentionWeights w{i[1], i[2], i[3], i[4], i[5], i[6], i[7], i[8]};
            AttentionWeightGrads g{o[1], o[2], o[3], o[4],
                                   o[5], o[6], o[7], o[8]};
            return c.backend->multiHeadAttentionBackward(d, *i[0], w, *i[9],
                                                         o[0], g);
          });
        }};
    t["attention_pool.fwd"] = {"rro", "r", [](const Attrs &,
                                              const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->attentionPoolForward(AttentionPoolDesc{}, *i[0],
                                               *i[1], i[2], *o[0]);
      });
    }};
    t["attention_pool.bwd"] = {"rror", "ooo", [](const Attrs &,
                                                 const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->attentionPoolBackward(AttentionPoolDesc{}, *i[0],
                                                *i[1], i[2], *i[3], o[0], o[1],
                                                o[2]);
      });
    }};
    t["tokens.fwd"] = {"r", "r", [](const Attrs &, const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->tokensForward(TokensDesc{}, *i[0], *o[0]);
      });
    }};
    t["tokens.bwd"] = {"r", "r", [](const Attrs &, const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->tokensBackward(TokensDesc{}, *i[0], *o[0]);
      });
    }};
    t["cls_token_prepend.fwd"] = {"rr", "r", [](const Attrs &,
                                                const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->clsTokenPrependForward(ClsTokenPrependDesc{}, *i[0],
                                                 *i[1], *o[0]);
      });
    }};
    t["cls_token_prepend.bwd"] = {"r", "oo", [](const Attrs &,
                                                const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->clsTokenPrependBackward(ClsTokenPrependDesc{}, *i[0],
                                                  o[0], o[1]);
      });
    }};
    t["position_embedding_add.fwd"] = {"rr", "r", [](const Attrs &,
                                                     const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->positionEmbeddingAddForward(
            PositionEmbeddingAddDesc{}, *i[0], *i[1], *o[0]);
      });
    }};
    t["position_embedding_add.bwd"] = {"r", "oo", [](const Attrs &,
                                                     const plan::OpSpec &) {
      return BoundOpFn([](OpContext &c, const OpInputs &i,
                          const OpOutputs &o) {
        return c.backend->positionEmbeddingAddBackward(
            PositionEmbeddingAddDesc{}, *i[0], o[0], o[1]);
      });
    }};
    t["select_token.fwd"] = {"r", "r", [](const Attrs &a,
                                          const plan::OpSpec &) {
      SelectTokenDesc d;
      d.index = a.integer("index", 0);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->selectTokenForward(d, *i[0], *o[0]);
      });
    }};
    t["select_token.bwd"] = {"r", "r", [](const Attrs &a,
                                          const plan::OpSpec &) {
      SelectTokenDesc d;
      d.index = a.integer("index", 0);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->selectTokenBackward(d, *i[0], *o[0]);
      });
    }};

    // Fused losses: out[0] is the value, then the gradients.
    t["cross_entropy_loss"] = {"rr", "ro", [](const Attrs &a,
                                              const plan::OpSpec &) {
      CrossEntropyDesc d;
      d.labelSmoothing = a.real("label_smoothing", 0);
      d.softTargets = a.flag("soft_targets", false);
      d.gradScale = a.real("grad_scale", 1);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->crossEntropyLoss(d, *i[0], *i[1], *o[0], o[1]);
      });
    }};
    t["kl_div_loss"] = {"rr", "roo", [](const Attrs &a, const plan::OpSpec &) {
      KlDivDesc d;
      d.temperature = a.real("temperature", 1);
      if (!(d.temperature > 0))
        a.fail("temperature", "must be positive");
      d.scaleByTemperatureSquared =
          a.flag("scale_by_temperature_squared", true);
      d.reduction = reductionOf(a);
      d.gradScale = a.real("grad_scale", 1);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->klDivLoss(d, *i[0], *i[1], *o[0], o[1], o[2]);
      });
    }};
    for (const char *name : {"mse_loss", "l1_loss", "smooth_l1_loss"}) {
      std::string op = name;
      RegressionKind kind = op == "mse_loss"  ? RegressionKind::Mse
                            : op == "l1_loss" ? RegressionKind::L1
                                              : RegressionKind::SmoothL1;
      t[op] = {"rr", "roo", [kind](const Attrs &a, const plan::OpSpec &) {
        RegressionLossDesc d;
        d.kind = kind;
        d.beta = a.real("beta", 1);
        d.gradScale = a.real("grad_scale", 1);
        return BoundOpFn([d](OpContext &c, const OpInputs &i,
                             const OpOutputs &o) {
          return c.backend->regressionLoss(d, *i[0], *i[1], *o[0], o[1], o[2]);
        });
      }};
    }
    t["cosine_loss"] = {"rr", "roo", [](const Attrs &a, const plan::OpSpec &) {
      CosineLossDesc d;
      d.eps = a.real("eps", 1e-8);
      d.gradScale = a.real("grad_scale", 1);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->cosineLoss(d, *i[0], *i[1], *o[0], o[1], o[2]);
      });
    }};
    t["attention_transfer_loss"] = {"rr", "roo", [](const Attrs &a,
                                                    const plan::OpSpec &) {
      AttentionTransferDesc d;
      d.p = a.real("p", 2);
      d.eps = a.real("eps", 1e-12);
      d.gradScale = a.real("grad_scale", 1);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->attentionTransferLoss(d, *i[0], *i[1], *o[0], o[1],
                                                o[2]);
      });
    }};
    for (const char *name : {"rkd_distance_loss", "rkd_angle_loss"}) {
      bool angle = std::string(name) == "rkd_angle_loss";
      t[name] = {"rr", "roo", [angle](const Attrs &a, const plan::OpSpec &) {
        RkdDesc d;
        d.gradScale = a.real("grad_scale", 1);
        return BoundOpFn([d, angle](OpContext &c, const OpInputs &i,
                                    const OpOutputs &o) {
          return angle ? c.backend->rkdAngleLoss(d, *i[0], *i[1], *o[0], o[1],
                                                 o[2])
                       : c.backend->rkdDistanceLoss(d, *i[0], *i[1], *o[0],
                                                    o[1], o[2]);
        });
      }};
    }
    t["dkd_loss"] = {"rrr", "ro", [](const Attrs &a, const plan::OpSpec &) {
      DkdDesc d;
      d.alpha = a.real("alpha", 1);
      d.beta = a.real("beta", 8);
      d.temperature = a.real("temperature", 4);
      if (!(d.temperature > 0))
        a.fail("temperature", "must be positive");
      d.gradScale = a.real("grad_scale", 1);
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return c.backend->dkdLoss(d, *i[0], *i[1], *i[2], *o[0], o[1]);
      });
    }};

    t["logit_loss_group"] = {"r+", "+o", [](const Attrs &a,
                                            const plan::OpSpec &op) {
      LogitLossGroupDesc d =
          logitLossGroupDesc(a, op.attrs, op.in.size() - 1);
      if (op.out.size() != op.in.size())
        a.fail("terms", "needs one value per term and the gradient as outs (" +
                            std::to_string(op.in.size()) + "), got " +
                            std::to_string(op.out.size()));
      return BoundOpFn([d](OpContext &c, const OpInputs &i,
                           const OpOutputs &o) {
        return logitLossGroup(c, d, i, o);
      });
    }};

    // Members, then the weights (fixed weighting) and the labels
    // (ca_mkd), each null where the weighting does not read it.
    t["ensemble_combine"] = {"+oo", "r", [](const Attrs &a,
                                            const plan::OpSpec &op) {
      EnsembleCombineDesc d;
      std::string weighting = a.text("weighting", "fixed");
      if (weighting == "fixed")
        d.weighting = EnsembleWeighting::Fixed;
      else if (weighting == "entropy")
        d.weighting = EnsembleWeighting::Entropy;
      else if (weighting == "ca_mkd")
        d.weighting = EnsembleWeighting::ConfidenceAware;
      else
        a.fail("weighting", "unknown weighting '" + weighting +
                                "' (expected fixed, entropy or ca_mkd)");
      d.temperature = a.real("temperature", 1);
      if (!(d.temperature > 0))
        a.fail("temperature", "must be positive");
      size_t members = op.in.size() - 2;
      bool needsWeights = d.weighting == EnsembleWeighting::Fixed;
      bool needsLabels = d.weighting == EnsembleWeighting::ConfidenceAware;
      if (needsWeights != (op.in[members].kind != plan::Operand::Kind::None))
        a.fail("weighting", needsWeights
                                ? "fixed weighting needs the weights operand"
                                : "only fixed weighting reads weights");
      if (needsLabels != (op.in[members + 1].kind != plan::Operand::Kind::None))
        a.fail("weighting", needsLabels ? "ca_mkd needs the labels operand"
                                        : "only ca_mkd reads labels");
      return BoundOpFn([d, members](OpContext &c, const OpInputs &i,
                                    const OpOutputs &o) {
        std::vector<const Tensor *> parts(i.begin(), i.begin() + members);
        return c.backend->ensembleCombine(d, parts, i[members],
                                          i[members + 1], *o[0]);
      });
    }};

    t["scale_add"] = {"+", "r", [](const Attrs &a, const plan::OpSpec &op) {
      std::vector<double> scales = a.reals("scales");
      if (scales.size() != op.in.size())
        a.fail("scales", "needs one scale per operand (" +
                             std::to_string(op.in.size()) + ")");
      double bias = a.real("bias", 0.0);
      return BoundOpFn([scales, bias](OpContext &c, const OpInputs &i,
                                      const OpOutputs &o) {
        return scaleAdd(c, scales, bias, i, o);
      });
    }};
    return t;
  }();
  return table;
}

/// Checks one operand list against its signature.
void checkOperands(const std::vector<plan::Operand> &operands,
                   const std::string &signature, const std::string &opName,
                   const std::string &where, const std::string &prefix) {
  size_t plus = signature.find_first_of("+*");
  bool variadic = plus != std::string::npos;
  size_t fixed = variadic ? signature.size() - 1 : signature.size();
  size_t least = variadic && signature[plus] == '+' ? fixed + 1 : fixed;
  if (variadic ? operands.size() < least : operands.size() != fixed)
    throw PlanError(prefix + "." + where + ": " + opName + " takes " +
                    (variadic ? std::to_string(least) + " or more"
                              : std::to_string(fixed)) +
                    " '" + where + "' operands, got " +
                    std::to_string(operands.size()));
  size_t trailing = variadic ? signature.size() - plus - 1 : 0;
  for (size_t k = 0; k < operands.size(); ++k) {
    char slot = 'r';
    if (!variadic || k < plus)
      slot = signature[k];
    else if (k >= operands.size() - trailing)
      slot = signature[signature.size() - (operands.size() - k)];
    if (slot != 'o' && operands[k].kind == plan::Operand::Kind::None)
      throw PlanError(prefix + "." + where + "[" + std::to_string(k) +
                      "]: operand of " + opName + " must not be null");
  }
}

} // namespace

BoundOpFn bindOp(const plan::OpSpec &op, const std::string &source,
                 const std::string &path) {
  const auto &table = opTable();
  auto row = table.find(op.op);
  std::string prefix = source + ": " + path;
  if (row == table.end())
    throw PlanError(prefix + ".op: unknown op '" + op.op + "'");
  checkOperands(op.in, row->second.in, op.op, "in", prefix);
  checkOperands(op.out, row->second.out, op.op, "out", prefix);
  Attrs attrs(op.attrs, source, path);
  return row->second.bind(attrs, op);
}

std::vector<std::string> knownOpNames() {
  std::vector<std::string> names;
  for (const auto &entry : opTable())
    names.push_back(entry.first);
  return names;
}

} // namespace kdrt::exec

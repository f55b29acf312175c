//===- ShapeFunctions.cpp - Shape rules of the tensor built-ins ------------===//
#include "ShapeFunctions.h"

#include <numeric>

namespace kd::shapes {

namespace {
const Shape &in(const ShapeQuery &q, size_t i = 0) { return q.inputs[i].shape; }

std::string str(const Shape &s) { return formatShape(s); }

ShapeResult needImage(const std::string &op, const Shape &s) {
  return ShapeResult::failure(op + " expects an image [C, H, W], got " + str(s));
}
bool isImage(const Shape &s) { return s.size() == 3; }

// out = (size + 2 pad - extent) / stride + 1, the usual window arithmetic.
int64_t windowOutput(int64_t size, int64_t pad, int64_t extent, int64_t stride) {
  int64_t span = size + 2 * pad - extent;
  if (span < 0)
    return 0;
  return span / stride + 1;
}
} // namespace

ShapeResult conv(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (!isImage(x))
    return needImage("conv", x);
  int64_t out = q.args.getInt("out"), k = q.args.getInt("k"), stride = q.args.getInt("stride");
  int64_t pad = q.args.getInt("pad"), groups = q.args.getInt("groups"), dilation = q.args.getInt("dilation");
  if (x[0] % groups != 0)
    return ShapeResult::failure("conv input channels " + std::to_string(x[0]) + " of " + str(x) +
                                " are not divisible by groups " + std::to_string(groups));
  if (out % groups != 0)
    return ShapeResult::failure("conv output channels " + std::to_string(out) + " are not divisible by groups " +
                                std::to_string(groups));
  int64_t extent = dilation * (k - 1) + 1;
  int64_t h = windowOutput(x[1], pad, extent, stride), w = windowOutput(x[2], pad, extent, stride);
  if (h < 1 || w < 1)
    return ShapeResult::failure("conv kernel " + std::to_string(extent) + "x" + std::to_string(extent) +
                                " does not fit the input " + str(x) + " with padding " + std::to_string(pad));
  ShapeResult r = ShapeResult::success({out, h, w});
  r.learnable.push_back({"weight", {out, x[0] / groups, k, k}});
  if (q.args.getBool("bias", true))
    r.learnable.push_back({"bias", {out}});
  return r;
}

ShapeResult linear(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (x.empty() || x.size() == 3)
    return ShapeResult::failure("linear expects a vector [D] or tokens [N, D], got " + str(x),
                                "flatten the image first: `-> flatten -> linear(...)` or `-> gap -> linear(...)`");
  int64_t out = q.args.getInt("out");
  Shape y = x;
  y.back() = out;
  ShapeResult r = ShapeResult::success(y);
  r.learnable.push_back({"weight", {out, x.back()}});
  if (q.args.getBool("bias", true))
    r.learnable.push_back({"bias", {out}});
  return r;
}

ShapeResult batchNorm(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (x.size() != 3 && x.size() != 1)
    return ShapeResult::failure("bn expects an image [C, H, W] or a vector [D], got " + str(x));
  ShapeResult r = ShapeResult::success(x);
  r.learnable = {{"weight", {x[0]}}, {"bias", {x[0]}}};
  return r;
}

ShapeResult layerNorm(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (x.empty())
    return ShapeResult::failure("layernorm expects a tensor, got a scalar");
  ShapeResult r = ShapeResult::success(x);
  Shape normalized = isImage(x) ? x : Shape{x.back()};
  r.learnable = {{"weight", normalized}, {"bias", normalized}};
  return r;
}

ShapeResult groupNorm(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (!isImage(x))
    return needImage("groupnorm", x);
  int64_t groups = q.args.getInt("groups");
  if (x[0] % groups != 0)
    return ShapeResult::failure("groupnorm channels " + std::to_string(x[0]) + " of " + str(x) +
                                " are not divisible by groups " + std::to_string(groups));
  ShapeResult r = ShapeResult::success(x);
  r.learnable = {{"weight", {x[0]}}, {"bias", {x[0]}}};
  return r;
}

ShapeResult elementwise(const ShapeQuery &q) { return ShapeResult::success(in(q)); }

ShapeResult lastDim(const ShapeQuery &q) {
  if (in(q).empty())
    return ShapeResult::failure("softmax needs at least one dimension, got a scalar");
  return ShapeResult::success(in(q));
}

ShapeResult pool(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (!isImage(x))
    return needImage("pooling", x);
  int64_t k = q.args.getInt("k");
  int64_t stride = q.args.value("stride") ? q.args.getInt("stride") : k;
  int64_t pad = q.args.getInt("pad");
  if (pad * 2 > k)
    return ShapeResult::failure("pooling padding " + std::to_string(pad) + " is more than half the window " +
                                std::to_string(k));
  if (k > x[1] + 2 * pad || k > x[2] + 2 * pad)
    return ShapeResult::failure("pooling window " + std::to_string(k) + "x" + std::to_string(k) +
                                " is larger than the input " + str(x));
  return ShapeResult::success({x[0], windowOutput(x[1], pad, k, stride), windowOutput(x[2], pad, k, stride)});
}

ShapeResult globalPool(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (!isImage(x))
    return needImage("gap", x);
  return ShapeResult::success({x[0]});
}

ShapeResult adaptivePool(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (!isImage(x))
    return needImage("adaptive pooling", x);
  return ShapeResult::success({x[0], q.args.getInt("h"), q.args.getInt("w")});
}

ShapeResult flatten(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (x.empty())
    return ShapeResult::failure("flatten expects a tensor, got a scalar");
  return ShapeResult::success({numElements(x)});
}

ShapeResult reshape(const ShapeQuery &q) {
  const Shape &x = in(q);
  Shape target = q.args.getIntList("shape");
  int64_t known = 1;
  int inferred = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1 && inferred < 0) {
      inferred = int(i);
      continue;
    }
    if (target[i] < 1)
      return ShapeResult::failure("reshape dimensions must be positive (one may be -1), got " + str(target));
    known *= target[i];
  }
  int64_t total = numElements(x);
  if (inferred >= 0) {
    if (total % known != 0)
      return ShapeResult::failure("cannot reshape " + str(x) + " into " + str(target));
    target[inferred] = total / known;
  } else if (known != total) {
    return ShapeResult::failure("cannot reshape " + str(x) + " (" + std::to_string(total) + " elements) into " +
                                str(target) + " (" + std::to_string(known) + " elements)");
  }
  return ShapeResult::success(target);
}

ShapeResult tokens(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (!isImage(x))
    return needImage("tokens", x);
  return ShapeResult::success({x[1] * x[2], x[0]});
}

ShapeResult clsToken(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (x.size() != 2)
    return ShapeResult::failure("cls_token expects tokens [N, D], got " + str(x));
  ShapeResult r = ShapeResult::success({x[0] + 1, x[1]});
  r.learnable = {{"token", {1, x[1]}}};
  return r;
}

ShapeResult posEmbed(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (x.size() != 2)
    return ShapeResult::failure("pos_embed expects tokens [N, D], got " + str(x));
  ShapeResult r = ShapeResult::success(x);
  r.learnable = {{"table", x}};
  return r;
}

ShapeResult select(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (x.size() != 2)
    return ShapeResult::failure("select expects tokens [N, D], got " + str(x));
  int64_t index = q.args.getInt("index");
  if (index >= x[0])
    return ShapeResult::failure("select index " + std::to_string(index) + " is out of range for " + str(x));
  return ShapeResult::success({x[1]});
}

ShapeResult attention(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (x.size() != 2)
    return ShapeResult::failure("mha expects tokens [N, D], got " + str(x),
                                "turn an image into tokens first: `-> tokens`");
  int64_t heads = q.args.getInt("heads"), d = x[1];
  if (d % heads != 0)
    return ShapeResult::failure("mha width " + std::to_string(d) + " of " + str(x) +
                                " is not divisible by heads " + std::to_string(heads));
  ShapeResult r = ShapeResult::success(x);
  // Separate projections, named as the runtime's attention entry takes them.
  for (const char *projection : {"q", "k", "v", "out"}) {
    r.learnable.push_back({std::string(projection) + "_weight", {d, d}});
    r.learnable.push_back({std::string(projection) + "_bias", {d}});
  }
  return r;
}

ShapeResult attentionPool(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (!isImage(x))
    return needImage("attention_pool", x);
  ShapeResult r = ShapeResult::success({x[0], 1, 1});
  r.learnable = {{"weight", {1, x[0], 1, 1}}, {"bias", {1}}};
  return r;
}

ShapeResult resize(const ShapeQuery &q) {
  const Shape &x = in(q);
  if (!isImage(x))
    return needImage("resize", x);
  return ShapeResult::success({x[0], q.args.getInt("h"), q.args.getInt("w")});
}

ShapeResult broadcastBinary(const ShapeQuery &q) {
  const Shape &a = in(q, 0), &b = in(q, 1);
  if (a == b)
    return ShapeResult::success(a);
  if (isImage(a) && b == Shape{a[0], 1, 1})
    return ShapeResult::success(a);
  return ShapeResult::failure("shapes " + str(a) + " and " + str(b) +
                              " do not match (the second may also be [C, 1, 1] to broadcast over H, W)");
}

ShapeResult concat(const ShapeQuery &q) {
  if (q.inputs.empty())
    return ShapeResult::failure("concat needs at least one value");
  Shape out = in(q, 0);
  if (out.empty())
    return ShapeResult::failure("concat cannot join scalars");
  for (size_t i = 1; i < q.inputs.size(); ++i) {
    const Shape &s = in(q, i);
    if (s.size() != out.size() || !std::equal(s.begin() + 1, s.end(), out.begin() + 1))
      return ShapeResult::failure("concat joins along the first dimension; " + str(in(q, 0)) + " and " + str(s) +
                                  " differ in the others");
    out[0] += s[0];
  }
  return ShapeResult::success(out);
}

ShapeResult matmul(const ShapeQuery &q) {
  const Shape &a = in(q, 0), &b = in(q, 1);
  if (a.size() != 2 || b.size() != 2 || a[1] != b[0])
    return ShapeResult::failure("matmul needs [N, K] and [K, M], got " + str(a) + " and " + str(b));
  return ShapeResult::success({a[0], b[1]});
}

ShapeResult meanOf(const ShapeQuery &q) {
  if (q.inputs.empty())
    return ShapeResult::failure("mean needs at least one value");
  for (const ShapeInput &s : q.inputs)
    if (s.shape != in(q, 0))
      return ShapeResult::failure("mean needs equal shapes, got " + str(in(q, 0)) + " and " + str(s.shape));
  return ShapeResult::success(in(q, 0));
}

ShapeResult crossEntropy(const ShapeQuery &q) {
  const ShapeInput &logits = q.inputs[0], &target = q.inputs[1];
  if (logits.isLabel)
    return ShapeResult::failure("ce expects logits first and the target second");
  if (logits.shape.size() != 1)
    return ShapeResult::failure("ce expects logits [K], got " + str(logits.shape),
                                "reduce the feature to class scores, e.g. `-> gap -> linear(K)`");
  if (!target.isLabel && target.shape != logits.shape)
    return ShapeResult::failure("ce soft targets " + str(target.shape) + " do not match the logits " +
                                str(logits.shape));
  return ShapeResult::success({});
}

ShapeResult sameShapeLoss(const ShapeQuery &q) {
  const ShapeInput &a = q.inputs[0], &b = q.inputs[1];
  if (a.isLabel || b.isLabel)
    return ShapeResult::failure("this loss compares two features; `label` is not a feature", "use ce(logits, label)");
  if (a.shape == b.shape)
    return ShapeResult::success({});
  // Offer an adapter only where one exists: features of different widths or
  // a larger map against a smaller one, not an image against a vector.
  std::string why = "shapes " + str(a.shape) + " and " + str(b.shape) + " do not match";
  if (!chooseAdapter(a.shape, b.shape).empty() || !chooseAdapter(b.shape, a.shape).empty())
    return ShapeResult::failure(why, "map one onto the other with adapt(x, like: y)");
  return ShapeResult::failure(why);
}

ShapeResult logitPairLoss(const ShapeQuery &q) {
  const ShapeInput &a = q.inputs[0], &b = q.inputs[1];
  if (a.isLabel || b.isLabel)
    return ShapeResult::failure("kl compares two predictions; `label` is not one", "use ce(logits, label)");
  // Both sides are distributions over the same classes: a learned adapter
  // between them would change what the prediction means, so none is offered.
  if (a.shape != b.shape)
    return ShapeResult::failure("kl compares predictions over the same classes, but shapes " + str(a.shape) +
                                " and " + str(b.shape) + " do not match");
  return ShapeResult::success({});
}

ShapeResult attentionTransfer(const ShapeQuery &q) {
  const Shape &s = in(q, 0), &t = in(q, 1);
  if (!isImage(s) || !isImage(t))
    return ShapeResult::failure("at expects two feature maps [C, H, W], got " + str(s) + " and " + str(t));
  if (s[1] != t[1] || s[2] != t[2])
    return ShapeResult::failure("at needs equal spatial sizes, got " + str(s) + " and " + str(t),
                                "pool the larger map, e.g. `-> adaptive_avgpool(" + std::to_string(std::min(s[1], t[1])) +
                                    ", " + std::to_string(std::min(s[2], t[2])) + ")`");
  return ShapeResult::success({});
}

ShapeResult anyShapeLoss(const ShapeQuery &q) {
  if (q.inputs[0].isLabel || q.inputs[1].isLabel)
    return ShapeResult::failure("relational losses compare features; `label` is not a feature");
  return ShapeResult::success({});
}

ShapeResult decoupledKd(const ShapeQuery &q) {
  const ShapeInput &s = q.inputs[0], &t = q.inputs[1], &target = q.inputs[2];
  if (s.isLabel || t.isLabel || s.shape.size() != 1 || s.shape != t.shape)
    return ShapeResult::failure("dkd expects student and teacher logits of one shape [K], got " + str(s.shape) +
                                " and " + str(t.shape));
  if (!target.isLabel)
    return ShapeResult::failure("dkd's target must be `label`");
  return ShapeResult::success({});
}

ShapeResult normalize(const ShapeQuery &q) {
  if (q.inputs[0].isLabel)
    return ShapeResult::failure("normalize expects a feature, not `label`");
  return ShapeResult::success(in(q));
}

std::string chooseAdapter(const Shape &from, const Shape &to) {
  if (from == to)
    return "identity";
  if (from.size() == 1 && to.size() == 1)
    return "linear";
  if (from.size() == 3 && to.size() == 3) {
    bool sameSpatial = from[1] == to[1] && from[2] == to[2];
    bool shrinks = from[1] >= to[1] && from[2] >= to[2];
    if (sameSpatial)
      return "conv1x1";
    if (!shrinks)
      return "";
    return from[0] == to[0] ? "pool" : "conv1x1+pool";
  }
  if (from.size() == 2 && to.size() == 2 && from[0] == to[0])
    return "linear";
  return "";
}

ShapeResult adapt(const ShapeQuery &q) {
  const Shape &from = in(q, 0), &to = in(q, 1);
  if (q.inputs[0].isLabel || q.inputs[1].isLabel)
    return ShapeResult::failure("adapt maps features; `label` is not a feature");
  std::string kind = q.args.getString("kind", "auto");
  std::string chosen = chooseAdapter(from, to);
  if (kind != "auto") {
    bool fits = false;
    if (kind == "conv1x1" || kind == "conv3x3")
      fits = from.size() == 3 && to.size() == 3 && from[1] == to[1] && from[2] == to[2];
    else if (kind == "linear")
      fits = from.size() == to.size() && from.size() <= 2 && (from.size() == 1 || from[0] == to[0]);
    else if (kind == "pool")
      fits = from.size() == 3 && to.size() == 3 && from[0] == to[0] && from[1] >= to[1] && from[2] >= to[2];
    if (!fits)
      return ShapeResult::failure("an adapter of kind \"" + kind + "\" cannot map " + str(from) + " to " + str(to));
    chosen = kind;
  }
  if (chosen.empty())
    return ShapeResult::failure("no adapter can map " + str(from) + " to " + str(to),
                                "adapters map images to images (channels, or shrinking the spatial size) and "
                                "vectors to vectors");
  ShapeResult r = ShapeResult::success(to);
  if (chosen == "conv1x1" || chosen == "conv1x1+pool")
    r.learnable = {{"weight", {to[0], from[0], 1, 1}}, {"bias", {to[0]}}};
  else if (chosen == "conv3x3")
    r.learnable = {{"weight", {to[0], from[0], 3, 3}}, {"bias", {to[0]}}};
  else if (chosen == "linear")
    r.learnable = {{"weight", {to.back(), from.back()}}, {"bias", {to.back()}}};
  // The caller records the kind chosen; it travels as the hint.
  r.hint = chosen;
  return r;
}

ShapeResult attentionFuse(const ShapeQuery &q) {
  if (q.inputs.empty())
    return ShapeResult::failure("attention_fuse needs at least one feature");
  int64_t heads = q.args.getInt("heads"), dim = q.args.getInt("dim");
  if (dim % heads != 0)
    return ShapeResult::failure("attention_fuse dim " + std::to_string(dim) + " is not divisible by heads " +
                                std::to_string(heads));
  // The parameters --kd-materialize-adapters gives the module: a linear
  // projection per feature, then the attention's q, k, v and output
  // projections.
  ShapeResult r = ShapeResult::success({dim});
  for (size_t i = 0; i < q.inputs.size(); ++i) {
    if (q.inputs[i].isLabel)
      return ShapeResult::failure("attention_fuse fuses features; `label` is not a feature");
    std::string proj = "proj" + std::to_string(i);
    r.learnable.push_back({proj + ".weight", {dim, numElements(q.inputs[i].shape)}});
    r.learnable.push_back({proj + ".bias", {dim}});
  }
  for (const char *projection : {"q", "k", "v", "out"}) {
    r.learnable.push_back({std::string("attn.") + projection + "_weight", {dim, dim}});
    r.learnable.push_back({std::string("attn.") + projection + "_bias", {dim}});
  }
  return r;
}

ShapeResult detach(const ShapeQuery &q) {
  if (q.inputs[0].isLabel)
    return ShapeResult::failure("detach expects a feature; `label` carries no gradient anyway");
  return ShapeResult::success(in(q));
}

} // namespace kd::shapes

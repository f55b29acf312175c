//===- LayerOps.cpp - Shape rules of the kd layer ops ---------------------===//
//
// The shape rules of the layer catalogue, with the batch dimension first.
// Sema has already inferred every shape; these checks keep passes honest.
//
//===----------------------------------------------------------------------===//
#include "kd/Dialect/KD/KDOps.h"

#include "ShapeChecks.h"

using namespace mlir;
using namespace kd;

namespace {

// Output size of a sliding window, or dynamic when the input is.
int64_t windowOutput(int64_t in, int64_t pad, int64_t kernel, int64_t stride, int64_t dilation = 1) {
  if (ShapedType::isDynamic(in))
    return ShapedType::kDynamic;
  return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
}

LogicalResult expectPairs(Operation *op, std::initializer_list<std::pair<ArrayRef<int64_t>, StringRef>> pairs,
                          int64_t minimum) {
  for (auto [values, name] : pairs) {
    if (values.size() != 2)
      return op->emitOpError() << name << " must have 2 values, got " << values.size();
    for (int64_t v : values)
      if (v < minimum)
        return op->emitOpError() << name << " values must be at least " << minimum;
  }
  return success();
}

// A per-channel parameter of the channel dimension of `input`.
LogicalResult expectChannelVector(Operation *op, Value param, int64_t channels, StringRef what) {
  if (failed(expectRank(op, param, 1, what)))
    return failure();
  if (!dimsAgree(rankedType(param).getDimSize(0), channels))
    return op->emitOpError() << what << " has " << rankedType(param).getDimSize(0) << " entries for "
                             << channels << " channels";
  return success();
}

} // namespace

LogicalResult Conv2dOp::verify() {
  if (failed(expectRank(*this, getInput(), 4, "input")) || failed(expectRank(*this, getWeight(), 4, "weight")) ||
      failed(expectPairs(*this, {{getStride(), "stride"}, {getDilation(), "dilation"}}, 1)) ||
      failed(expectPairs(*this, {{getPad(), "pad"}}, 0)))
    return failure();
  int64_t groups = getGroupsAttr().getInt();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape(), w = rankedType(getWeight()).getShape();
  if (groups < 1 || w[0] % groups != 0)
    return emitOpError() << "groups " << groups << " must divide the " << w[0] << " output channels";
  if (!dimsAgree(x[1], w[1] * groups))
    return emitOpError() << "input has " << x[1] << " channels but the weight expects " << w[1] * groups;
  if (getBias() && failed(expectChannelVector(*this, getBias(), w[0], "bias")))
    return failure();
  return expectResultShape(*this, getResult(),
                           {x[0], w[0], windowOutput(x[2], getPad()[0], w[2], getStride()[0], getDilation()[0]),
                            windowOutput(x[3], getPad()[1], w[3], getStride()[1], getDilation()[1])});
}

LogicalResult LinearOp::verify() {
  RankedTensorType x = rankedType(getInput());
  if (x.getRank() < 2)
    return emitOpError() << "input must have rank at least 2, got " << formatShape(x);
  if (failed(expectRank(*this, getWeight(), 2, "weight")))
    return failure();
  ArrayRef<int64_t> w = rankedType(getWeight()).getShape();
  if (!dimsAgree(x.getShape().back(), w[1]))
    return emitOpError() << "input width " << x.getShape().back() << " does not match the weight's " << w[1];
  if (getBias() && failed(expectChannelVector(*this, getBias(), w[0], "bias")))
    return failure();
  SmallVector<int64_t> out(x.getShape());
  out.back() = w[0];
  return expectResultShape(*this, getResult(), out);
}

LogicalResult BatchNormOp::verify() {
  RankedTensorType x = rankedType(getInput());
  if (x.getRank() < 2)
    return emitOpError() << "input must have rank at least 2, got " << formatShape(x);
  int64_t c = x.getDimSize(1);
  if (failed(expectChannelVector(*this, getWeight(), c, "weight")) ||
      failed(expectChannelVector(*this, getBias(), c, "bias")) ||
      failed(expectChannelVector(*this, getRunningMean(), c, "running mean")) ||
      failed(expectChannelVector(*this, getRunningVar(), c, "running variance")))
    return failure();
  return expectResultShape(*this, getResult(), x.getShape());
}

LogicalResult LayerNormOp::verify() {
  RankedTensorType x = rankedType(getInput());
  int64_t rank = getNormalizedRankAttr().getInt();
  if (rank < 1 || rank >= x.getRank())
    return emitOpError() << "normalized rank " << rank << " must be in [1, " << x.getRank() - 1 << "]";
  ArrayRef<int64_t> trailing = x.getShape().take_back(rank);
  for (Value param : {getWeight(), getBias()}) {
    if (!param)
      continue;
    if (!shapesAgree(rankedType(param), RankedTensorType::get(trailing, x.getElementType())))
      return emitOpError() << "scale and shift must have the normalized shape "
                           << formatShape(RankedTensorType::get(trailing, x.getElementType()));
  }
  return expectResultShape(*this, getResult(), x.getShape());
}

LogicalResult GroupNormOp::verify() {
  RankedTensorType x = rankedType(getInput());
  if (x.getRank() < 2)
    return emitOpError() << "input must have rank at least 2, got " << formatShape(x);
  int64_t c = x.getDimSize(1), groups = getGroupsAttr().getInt();
  if (groups < 1 || (!ShapedType::isDynamic(c) && c % groups != 0))
    return emitOpError() << "groups " << groups << " must divide the " << c << " channels";
  if (failed(expectChannelVector(*this, getWeight(), c, "weight")) ||
      failed(expectChannelVector(*this, getBias(), c, "bias")))
    return failure();
  return expectResultShape(*this, getResult(), x.getShape());
}

LogicalResult L2NormalizeOp::verify() {
  if (getEps().convertToDouble() <= 0)
    return emitOpError("eps must be positive");
  return success();
}

LogicalResult SoftmaxOp::verify() {
  if (rankedType(getInput()).getRank() < 1)
    return emitOpError("input must have at least one dimension");
  if (getTemperature().convertToDouble() <= 0)
    return emitOpError("temperature must be positive");
  return success();
}

LogicalResult DropoutOp::verify() {
  double p = getP().convertToDouble();
  if (p < 0 || p >= 1)
    return emitOpError() << "drop probability " << p << " must be in [0, 1)";
  return success();
}

LogicalResult Pool2dOp::verify() {
  if (failed(expectRank(*this, getInput(), 4, "input")) ||
      failed(expectPairs(*this, {{getKernel(), "kernel"}, {getStride(), "stride"}}, 1)) ||
      failed(expectPairs(*this, {{getPad(), "pad"}}, 0)))
    return failure();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape();
  return expectResultShape(*this, getResult(),
                           {x[0], x[1], windowOutput(x[2], getPad()[0], getKernel()[0], getStride()[0]),
                            windowOutput(x[3], getPad()[1], getKernel()[1], getStride()[1])});
}

LogicalResult AdaptivePoolOp::verify() {
  if (failed(expectRank(*this, getInput(), 4, "input")) ||
      failed(expectPairs(*this, {{getOutputSize(), "output size"}}, 1)))
    return failure();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape();
  return expectResultShape(*this, getResult(), {x[0], x[1], getOutputSize()[0], getOutputSize()[1]});
}

LogicalResult ResizeOp::verify() {
  if (failed(expectRank(*this, getInput(), 4, "input")) ||
      failed(expectPairs(*this, {{getOutputSize(), "output size"}}, 1)))
    return failure();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape();
  return expectResultShape(*this, getResult(), {x[0], x[1], getOutputSize()[0], getOutputSize()[1]});
}

// numpy-style broadcast of rhs to lhs: right-aligned, each dimension equal
// or 1.
static LogicalResult verifyBroadcast(Operation *op, Value lhs, Value rhs) {
  RankedTensorType a = rankedType(lhs), b = rankedType(rhs);
  if (b.getRank() > a.getRank())
    return op->emitOpError() << "cannot broadcast " << formatShape(b) << " to " << formatShape(a);
  for (int64_t i = 1; i <= b.getRank(); ++i) {
    int64_t da = a.getDimSize(a.getRank() - i), db = b.getDimSize(b.getRank() - i);
    if (db != 1 && !dimsAgree(da, db))
      return op->emitOpError() << "cannot broadcast " << formatShape(b) << " to " << formatShape(a);
  }
  return success();
}

LogicalResult AddOp::verify() { return verifyBroadcast(*this, getLhs(), getRhs()); }
LogicalResult MulOp::verify() { return verifyBroadcast(*this, getLhs(), getRhs()); }

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  RankedTensorType first = rankedType(getInputs().front());
  int64_t axis = getAxisAttr().getInt();
  if (axis < 0 || axis >= first.getRank())
    return emitOpError() << "axis " << axis << " is out of range for rank " << first.getRank();
  SmallVector<int64_t> out(first.getShape());
  for (Value input : getInputs().drop_front()) {
    RankedTensorType t = rankedType(input);
    if (t.getRank() != first.getRank())
      return emitOpError() << "inputs " << formatShape(first) << " and " << formatShape(t) << " differ in rank";
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (d == axis)
        continue;
      if (!dimsAgree(t.getDimSize(d), first.getDimSize(d)))
        return emitOpError() << "inputs " << formatShape(first) << " and " << formatShape(t)
                             << " differ outside axis " << axis;
    }
    out[axis] = ShapedType::isDynamic(out[axis]) || t.isDynamicDim(axis) ? ShapedType::kDynamic
                                                                          : out[axis] + t.getDimSize(axis);
  }
  return expectResultShape(*this, getResult(), out);
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType x = rankedType(getInput()), y = rankedType(getResult());
  if (x.getRank() < 1 || y.getRank() < 1 || x.getDimSize(0) != y.getDimSize(0))
    return emitOpError("must keep the batch dimension");
  auto perSample = [](RankedTensorType t) -> int64_t {
    int64_t n = 1;
    for (int64_t d : t.getShape().drop_front()) {
      if (ShapedType::isDynamic(d))
        return ShapedType::kDynamic;
      n *= d;
    }
    return n;
  };
  if (!dimsAgree(perSample(x), perSample(y)))
    return emitOpError() << "cannot reshape " << formatShape(x) << " to " << formatShape(y)
                         << ": the per-sample element counts differ";
  return success();
}

LogicalResult MatMulOp::verify() {
  RankedTensorType a = rankedType(getLhs()), b = rankedType(getRhs());
  if (a.getRank() != b.getRank() || a.getRank() < 2 || a.getRank() > 3)
    return emitOpError() << "needs two matrices or two batches of matrices, got " << formatShape(a) << " and "
                         << formatShape(b);
  int64_t r = a.getRank();
  int64_t m = a.getDimSize(r - 2), ka = a.getDimSize(r - 1), kb = b.getDimSize(r - 2), n = b.getDimSize(r - 1);
  if (getTransposeLhs())
    std::swap(m, ka);
  if (getTransposeRhs())
    std::swap(kb, n);
  if (!dimsAgree(ka, kb))
    return emitOpError() << "inner dimensions " << ka << " and " << kb << " differ";
  SmallVector<int64_t> out;
  if (r == 3) {
    if (!dimsAgree(a.getDimSize(0), b.getDimSize(0)))
      return emitOpError("batch dimensions differ");
    out.push_back(a.getDimSize(0));
  }
  out.push_back(m);
  out.push_back(n);
  return expectResultShape(*this, getResult(), out);
}

LogicalResult MultiHeadAttentionOp::verify() {
  if (failed(expectRank(*this, getInput(), 3, "input")))
    return failure();
  int64_t d = rankedType(getInput()).getDimSize(2), heads = getNumHeadsAttr().getInt();
  if (heads < 1 || d % heads != 0)
    return emitOpError() << "width " << d << " is not divisible by " << heads << " heads";
  auto expect = [&](Value v, ArrayRef<int64_t> shape, StringRef what) -> LogicalResult {
    if (shapesAgree(rankedType(v), RankedTensorType::get(shape, rankedType(v).getElementType())))
      return success();
    return emitOpError() << what << " must be " << formatShape(RankedTensorType::get(shape, rankedType(v).getElementType()))
                         << ", got " << formatShape(rankedType(v));
  };
  // Every projection maps the width onto itself, so one check per operand
  // names the projection that is off.
  std::pair<Value, StringRef> weights[] = {{getQWeight(), "q_weight"},
                                           {getKWeight(), "k_weight"},
                                           {getVWeight(), "v_weight"},
                                           {getOutWeight(), "out_weight"}};
  std::pair<Value, StringRef> biases[] = {
      {getQBias(), "q_bias"}, {getKBias(), "k_bias"}, {getVBias(), "v_bias"}, {getOutBias(), "out_bias"}};
  for (auto [value, name] : weights)
    if (failed(expect(value, {d, d}, name)))
      return failure();
  for (auto [value, name] : biases)
    if (failed(expect(value, {d}, name)))
      return failure();
  return expectResultShape(*this, getResult(), rankedType(getInput()).getShape());
}

LogicalResult AttentionPoolOp::verify() {
  if (failed(expectRank(*this, getInput(), 4, "input")) || failed(expectRank(*this, getWeight(), 4, "weight")))
    return failure();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape();
  ArrayRef<int64_t> w = rankedType(getWeight()).getShape();
  if (w[0] != 1 || !dimsAgree(w[1], x[1]) || w[2] != 1 || w[3] != 1)
    return emitOpError() << "weight must be [1, " << x[1] << ", 1, 1]";
  if (getBias() && failed(expectChannelVector(*this, getBias(), 1, "bias")))
    return failure();
  return expectResultShape(*this, getResult(), {x[0], x[1], 1, 1});
}

LogicalResult TokensOp::verify() {
  if (failed(expectRank(*this, getInput(), 4, "input")))
    return failure();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape();
  int64_t positions = ShapedType::isDynamic(x[2]) || ShapedType::isDynamic(x[3]) ? ShapedType::kDynamic : x[2] * x[3];
  return expectResultShape(*this, getResult(), {x[0], positions, x[1]});
}

LogicalResult ClsTokenOp::verify() {
  if (failed(expectRank(*this, getInput(), 3, "input")) || failed(expectRank(*this, getToken(), 3, "token")))
    return failure();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape();
  ArrayRef<int64_t> t = rankedType(getToken()).getShape();
  if (t[0] != 1 || t[1] != 1 || !dimsAgree(t[2], x[2]))
    return emitOpError() << "token must be [1, 1, " << x[2] << "]";
  return expectResultShape(*this, getResult(), {x[0], ShapedType::isDynamic(x[1]) ? x[1] : x[1] + 1, x[2]});
}

LogicalResult PosEmbedOp::verify() {
  if (failed(expectRank(*this, getInput(), 3, "input")) || failed(expectRank(*this, getTable(), 3, "table")))
    return failure();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape();
  ArrayRef<int64_t> t = rankedType(getTable()).getShape();
  if (t[0] != 1 || !dimsAgree(t[1], x[1]) || !dimsAgree(t[2], x[2]))
    return emitOpError() << "table must be [1, " << x[1] << ", " << x[2] << "]";
  return expectResultShape(*this, getResult(), x);
}

LogicalResult SelectTokenOp::verify() {
  if (failed(expectRank(*this, getInput(), 3, "input")))
    return failure();
  ArrayRef<int64_t> x = rankedType(getInput()).getShape();
  int64_t index = getIndexAttr().getInt();
  if (!ShapedType::isDynamic(x[1]) && (index >= x[1] || index < -x[1]))
    return emitOpError() << "token index " << index << " is out of range for " << x[1] << " tokens";
  return expectResultShape(*this, getResult(), {x[0], x[2]});
}

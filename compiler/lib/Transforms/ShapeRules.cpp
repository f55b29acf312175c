//===- ShapeRules.cpp - Exact result shapes of kd ops ---------------------===//
#include "ShapeRules.h"

#include "kd/Dialect/KD/KDOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace kd {

using Shape = SmallVector<int64_t>;

static ArrayRef<int64_t> shapeOf(Value v) { return cast<RankedTensorType>(v.getType()).getShape(); }

int64_t slidingWindowSize(int64_t in, int64_t pad, int64_t kernel, int64_t stride, int64_t dilation) {
  if (ShapedType::isDynamic(in))
    return ShapedType::kDynamic;
  return (in + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;
}

std::string describeShape(ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      out += ", ";
    out += ShapedType::isDynamic(d) ? "?" : std::to_string(d);
  }
  return out + "]";
}

static int64_t product(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) ? ShapedType::kDynamic : a * b;
}

// A rule needs operands of the right rank; a wrong rank has no rule (the
// op verifier reports it).
static bool hasRank(Value v, int64_t rank) { return int64_t(shapeOf(v).size()) == rank; }

std::optional<Shape> inferResultShape(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<Shape>>(op)
      .Case([](Conv2dOp conv) -> std::optional<Shape> {
        if (!hasRank(conv.getInput(), 4) || !hasRank(conv.getWeight(), 4))
          return std::nullopt;
        ArrayRef<int64_t> x = shapeOf(conv.getInput()), w = shapeOf(conv.getWeight());
        return Shape{x[0], w[0],
                     slidingWindowSize(x[2], conv.getPad()[0], w[2], conv.getStride()[0], conv.getDilation()[0]),
                     slidingWindowSize(x[3], conv.getPad()[1], w[3], conv.getStride()[1], conv.getDilation()[1])};
      })
      .Case([](LinearOp linear) -> std::optional<Shape> {
        if (!hasRank(linear.getWeight(), 2) || shapeOf(linear.getInput()).empty())
          return std::nullopt;
        Shape out(shapeOf(linear.getInput()));
        out.back() = shapeOf(linear.getWeight())[0];
        return out;
      })
      .Case<BatchNormOp, LayerNormOp, GroupNormOp, L2NormalizeOp, ReluOp, GeluOp, SigmoidOp, TanhOp, SoftmaxOp,
            DropoutOp, MultiHeadAttentionOp, PosEmbedOp, NormalizeOp, StopGradientOp>(
          [](Operation *same) -> std::optional<Shape> { return Shape(shapeOf(same->getOperand(0))); })
      .Case<AddOp, MulOp>([](Operation *binary) -> std::optional<Shape> {
        return Shape(shapeOf(binary->getOperand(0)));
      })
      .Case([](Pool2dOp pool) -> std::optional<Shape> {
        if (!hasRank(pool.getInput(), 4))
          return std::nullopt;
        ArrayRef<int64_t> x = shapeOf(pool.getInput());
        return Shape{x[0], x[1], slidingWindowSize(x[2], pool.getPad()[0], pool.getKernel()[0], pool.getStride()[0]),
                     slidingWindowSize(x[3], pool.getPad()[1], pool.getKernel()[1], pool.getStride()[1])};
      })
      .Case<AdaptivePoolOp, ResizeOp>([](Operation *resize) -> std::optional<Shape> {
        Value input = resize->getOperand(0);
        auto size = resize->getAttrOfType<DenseI64ArrayAttr>("output_size");
        if (!hasRank(input, 4) || !size || size.size() != 2)
          return std::nullopt;
        ArrayRef<int64_t> x = shapeOf(input);
        return Shape{x[0], x[1], size[0], size[1]};
      })
      .Case([](ConcatOp concat) -> std::optional<Shape> {
        Shape out(shapeOf(concat.getInputs().front()));
        int64_t axis = concat.getAxis();
        if (axis < 0 || axis >= int64_t(out.size()))
          return std::nullopt;
        for (Value input : concat.getInputs().drop_front())
          out[axis] = ShapedType::isDynamic(out[axis]) || ShapedType::isDynamic(shapeOf(input)[axis])
                          ? ShapedType::kDynamic
                          : out[axis] + shapeOf(input)[axis];
        return out;
      })
      .Case([](MatMulOp matmul) -> std::optional<Shape> {
        ArrayRef<int64_t> a = shapeOf(matmul.getLhs()), b = shapeOf(matmul.getRhs());
        if (a.size() < 2 || a.size() != b.size())
          return std::nullopt;
        size_t r = a.size();
        int64_t m = matmul.getTransposeLhs() ? a[r - 1] : a[r - 2];
        int64_t n = matmul.getTransposeRhs() ? b[r - 2] : b[r - 1];
        Shape out(a.drop_back(2));
        out.append({m, n});
        return out;
      })
      .Case([](AttentionPoolOp pool) -> std::optional<Shape> {
        if (!hasRank(pool.getInput(), 4))
          return std::nullopt;
        ArrayRef<int64_t> x = shapeOf(pool.getInput());
        return Shape{x[0], x[1], 1, 1};
      })
      .Case([](TokensOp tokens) -> std::optional<Shape> {
        if (!hasRank(tokens.getInput(), 4))
          return std::nullopt;
        ArrayRef<int64_t> x = shapeOf(tokens.getInput());
        return Shape{x[0], product(x[2], x[3]), x[1]};
      })
      .Case([](ClsTokenOp cls) -> std::optional<Shape> {
        if (!hasRank(cls.getInput(), 3))
          return std::nullopt;
        ArrayRef<int64_t> x = shapeOf(cls.getInput());
        return Shape{x[0], ShapedType::isDynamic(x[1]) ? x[1] : x[1] + 1, x[2]};
      })
      .Case([](SelectTokenOp select) -> std::optional<Shape> {
        if (!hasRank(select.getInput(), 3))
          return std::nullopt;
        ArrayRef<int64_t> x = shapeOf(select.getInput());
        return Shape{x[0], x[2]};
      })
      .Case([](AttentionFuseOp fuse) -> std::optional<Shape> {
        return Shape{shapeOf(fuse.getFeatures().front())[0], fuse.getDim()};
      })
      .Default([](Operation *) -> std::optional<Shape> { return std::nullopt; });
}

} // namespace kd

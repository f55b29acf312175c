//===- MatMul.cpp - linear and (batched) matmul on oneDNN matmul ----------===//
//
// Every product here, forward or backward, is C = A * B with C plain and A,
// B possibly transposed views of plain tensors: oneDNN's matmul reads any
// strides, so a transpose is a stride swap and never a copy.
//
//===----------------------------------------------------------------------===//

#include "Ops.h"
#include "PostOps.h"

#include "kdrt/reference/Linear.h"
#include "kdrt/reference/MatMul.h"
#include "kdrt/reference/PostOps.h"

namespace kdrt::onednn {
namespace {

/// A [batch, rows, cols] matrix over plain memory with arbitrary strides.
struct MatrixView {
  const float *data = nullptr;
  int64_t batch = 1, rows = 0, cols = 0;
  int64_t batchStride = 0, rowStride = 0, colStride = 1;

  static MatrixView plain(const float *data, int64_t batch, int64_t rows,
                          int64_t cols) {
    return {data, batch, rows, cols, rows * cols, cols, 1};
  }
  MatrixView transposed() const {
    return {data, batch, cols, rows, batchStride, colStride, rowStride};
  }
  memory::desc desc() const {
    return memory::desc({batch, rows, cols}, memory::data_type::f32,
                        {batchStride, rowStride, colStride});
  }
  void addTo(CacheKey &key) const {
    key.add({batch, rows, cols, batchStride, rowStride, colStride});
  }
};

struct MatMulEntry {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
};

/// c = a * b (+ bias over the last dimension) (+ post-ops); c is plain
/// [batch, a.rows, b.cols].
void runMatMul(DnnContext &ctx, const MatrixView &a, const MatrixView &b,
               float *c, const Tensor *bias = nullptr,
               const PostOpChain &chain = PostOpChain(),
               const FusedPostOps *fused = nullptr) {
  MatrixView out = MatrixView::plain(c, a.batch, a.rows, b.cols);
  CacheKey key("matmul");
  a.addTo(key);
  b.addTo(key);
  key.add(int64_t(bias != nullptr));
  addToKey(key, chain);
  memory::desc biasDesc = plainDesc({1, 1, b.cols});
  const MatMulEntry &entry = ctx.cache.getOrCreate<MatMulEntry>(key, [&] {
    dnnl::matmul::desc opDesc =
        bias ? dnnl::matmul::desc(a.desc(), b.desc(), biasDesc, out.desc())
             : dnnl::matmul::desc(a.desc(), b.desc(), out.desc());
    dnnl::matmul::primitive_desc pd =
        fused ? dnnl::matmul::primitive_desc(opDesc, fused->attr, ctx.engine)
              : dnnl::matmul::primitive_desc(opDesc, ctx.engine);
    return MatMulEntry{pd, dnnl::matmul(pd)};
  });
  memory dst = wrap(ctx, out.desc(), c);
  Args args = fused ? fused->args : Args();
  args[DNNL_ARG_SRC] = wrap(ctx, a.desc(), a.data);
  args[DNNL_ARG_WEIGHTS] = wrap(ctx, b.desc(), b.data);
  args[DNNL_ARG_DST] = dst;
  if (bias)
    args[DNNL_ARG_BIAS] = wrap(ctx, biasDesc, bias->data());
  if (fused && fused->sumResidual &&
      fused->sumResidual->data() != static_cast<const float *>(c))
    std::copy(fused->sumResidual->data(),
              fused->sumResidual->data() + fused->sumResidual->numElements(),
              c);
  run(entry.primitive, ctx.stream, args);
  ctx.stream.wait();
}

MatrixView logicalOperand(const float *data,
                          const reference::detail::MatrixLayout &layout) {
  // A transposed operand is stored [batch, cols, rows].
  if (layout.transposed)
    return MatrixView::plain(data, layout.batch, layout.cols, layout.rows)
        .transposed();
  return MatrixView::plain(data, layout.batch, layout.rows, layout.cols);
}

} // namespace

Status linearForward(DnnContext &ctx, const LinearDesc &desc,
                     const Tensor &input, const Tensor &weight,
                     const Tensor *bias, const PostOpTensors &postOpTensors,
                     Tensor &output) {
  return guarded("linear", [&]() -> Status {
    int64_t rows = 0;
    KDRT_RETURN_IF_ERROR(reference::linearRows(input.shape(), weight.shape(),
                                               output.shape(), rows));
    int64_t outWidth = weight.dim(0), inWidth = weight.dim(1);
    if (bias)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          "linear", "bias", bias->shape(), Shape{outWidth}));
    KDRT_RETURN_IF_ERROR(checkPostOpTensors(
        "linear", desc.postOps, postOpTensors, output.shape(), outWidth));
    FusedPostOps fused = fusePostOps(ctx, desc.postOps, postOpTensors,
                                     {1, 1, outWidth}, {1, rows, outWidth});
    bool expressible = fused.expressible;
    if (!expressible)
      fused = FusedPostOps();
    MatrixView x = MatrixView::plain(input.data(), 1, rows, inWidth);
    // y = x * W^T with W stored [O, I].
    MatrixView wT =
        MatrixView::plain(weight.data(), 1, outWidth, inWidth).transposed();
    runMatMul(ctx, x, wT, output.data(), bias,
              expressible ? desc.postOps : PostOpChain(), &fused);
    if (!expressible)
      applyPostOpsOnHost(desc.postOps, postOpTensors, output, outWidth, 1);
    return Status::success();
  });
}

Status linearBackward(DnnContext &ctx, const LinearDesc &desc,
                      const Tensor &input, const Tensor &weight,
                      const Tensor *output, const Tensor &gradOutput,
                      Tensor *gradInput, Tensor *gradWeight,
                      Tensor *gradBias) {
  return guarded("linear", [&]() -> Status {
    const char *op = "linear";
    int64_t rows = 0;
    KDRT_RETURN_IF_ERROR(reference::linearRows(
        input.shape(), weight.shape(), gradOutput.shape(), rows));
    int64_t outWidth = weight.dim(0), inWidth = weight.dim(1);
    if (gradInput)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradInput", gradInput->shape(), input.shape()));
    if (gradWeight)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          op, "gradWeight", gradWeight->shape(), weight.shape()));
    if (gradBias)
      KDRT_RETURN_IF_ERROR(reference::checkShape(op, "gradBias",
                                                 gradBias->shape(),
                                                 Shape{outWidth}));
    Tensor gradPre = gradOutput;
    if (output && !desc.postOps.empty()) {
      if (output->shape() != gradOutput.shape())
        return reference::shapeError(op, "output and gradOutput differ");
      gradPre = Tensor::owning(gradOutput.shape());
      postOpGradient(desc.postOps, *output, gradOutput, gradPre);
    }
    MatrixView dy = MatrixView::plain(gradPre.data(), 1, rows, outWidth);
    if (gradInput) // dx = dy * W
      runMatMul(ctx, dy,
                MatrixView::plain(weight.data(), 1, outWidth, inWidth),
                gradInput->data());
    if (gradWeight) // dW = dy^T * x
      runMatMul(ctx, dy.transposed(),
                MatrixView::plain(input.data(), 1, rows, inWidth),
                gradWeight->data());
    if (gradBias)
      reduceSum(ctx, wrap(ctx, plainDesc({rows, outWidth}), gradPre.data()),
                wrap(ctx, plainDesc({1, outWidth}), gradBias->data()));
    return Status::success();
  });
}

Status matMulForward(DnnContext &ctx, const MatMulDesc &desc, const Tensor &lhs,
                     const Tensor &rhs, Tensor &output) {
  return guarded("matmul", [&]() -> Status {
    reference::detail::MatrixLayout a, b;
    KDRT_RETURN_IF_ERROR(reference::detail::matMulLayouts(
        desc, lhs.shape(), rhs.shape(), output.shape(), a, b));
    runMatMul(ctx, logicalOperand(lhs.data(), a),
              logicalOperand(rhs.data(), b), output.data());
    return Status::success();
  });
}

Status matMulBackward(DnnContext &ctx, const MatMulDesc &desc,
                      const Tensor &lhs, const Tensor &rhs,
                      const Tensor &gradOutput, Tensor *gradLhs,
                      Tensor *gradRhs) {
  return guarded("matmul", [&]() -> Status {
    reference::detail::MatrixLayout a, b;
    KDRT_RETURN_IF_ERROR(reference::detail::matMulLayouts(
        desc, lhs.shape(), rhs.shape(), gradOutput.shape(), a, b));
    if (gradLhs)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          "matmul", "gradLhs", gradLhs->shape(), lhs.shape()));
    if (gradRhs)
      KDRT_RETURN_IF_ERROR(reference::checkShape(
          "matmul", "gradRhs", gradRhs->shape(), rhs.shape()));
    MatrixView lhsView = logicalOperand(lhs.data(), a);
    MatrixView rhsView = logicalOperand(rhs.data(), b);
    MatrixView dy =
        MatrixView::plain(gradOutput.data(), a.batch, a.rows, b.cols);
    // dLhs = dy * rhs^T, stored transposed when lhs is: (rhs * dy^T).
    if (gradLhs) {
      if (a.transposed)
        runMatMul(ctx, rhsView, dy.transposed(), gradLhs->data());
      else
        runMatMul(ctx, dy, rhsView.transposed(), gradLhs->data());
    }
    // dRhs = lhs^T * dy, stored transposed when rhs is: (dy^T * lhs).
    if (gradRhs) {
      if (b.transposed)
        runMatMul(ctx, dy.transposed(), lhsView, gradRhs->data());
      else
        runMatMul(ctx, lhsView.transposed(), dy, gradRhs->data());
    }
    return Status::success();
  });
}

} // namespace kdrt::onednn

//===- Attention.cpp - Multi-head attention on oneDNN matmul --------------===//
//
// The four projections are linear layers (oneDNN matmul); the attention
// itself is two batched products per (sample, head) read and written in
// place in the token-major [B, N, D] activations: head h of a [B, N, D]
// tensor is the [B, H, N, D/H] view with strides (N*D, D/H, D, 1), so no
// head is ever copied out. Softmax (and its backward) run on the [B, H, N, N]
// scores with the 1/sqrt(D/H) scale as the softmax temperature, which also
// scales the backward. Forward values the backward needs are recomputed, as
// in the reference.
//
//===----------------------------------------------------------------------===//

#include "Ops.h"

#include "kdrt/reference/Attention.h"

#include <cmath>

namespace kdrt::onednn {
namespace {

/// A strided [outer, batch, rows, cols] block of floats.
struct BlockView {
  float *data = nullptr;
  Dims dims;
  Dims strides;

  memory::desc desc() const {
    return memory::desc(dims, memory::data_type::f32, strides);
  }
  BlockView transposed() const {
    BlockView t = *this;
    std::swap(t.dims[2], t.dims[3]);
    std::swap(t.strides[2], t.strides[3]);
    return t;
  }
};

struct Geometry {
  int64_t batch, tokens, width, heads, headWidth;

  /// Head h of a token-major [B, N, D] tensor.
  BlockView heads4(const Tensor &t) const {
    return {const_cast<float *>(t.data()),
            {batch, heads, tokens, headWidth},
            {tokens * width, headWidth, width, 1}};
  }
  /// A plain [B, H, N, N] tensor of scores.
  BlockView scores(const Tensor &t) const {
    return {const_cast<float *>(t.data()),
            {batch, heads, tokens, tokens},
            {heads * tokens * tokens, tokens * tokens, tokens, 1}};
  }
  Shape scoreShape() const { return Shape{batch, heads, tokens, tokens}; }
  SoftmaxDesc softmax() const {
    // softmax(s / sqrt(d)): the scale as a temperature.
    return SoftmaxDesc{std::sqrt(double(headWidth)), false};
  }
};

/// c = a * b over every (outer, batch) block.
void blockMatMul(DnnContext &ctx, const BlockView &a, const BlockView &b,
                 const BlockView &c) {
  struct Entry {
    dnnl::matmul primitive;
  };
  CacheKey key("attention_matmul");
  for (const BlockView *view : {&a, &b, &c})
    key.add(view->dims).add(view->strides);
  const Entry &entry = ctx.cache.getOrCreate<Entry>(key, [&] {
    return Entry{dnnl::matmul(dnnl::matmul::primitive_desc(
        dnnl::matmul::desc(a.desc(), b.desc(), c.desc()), ctx.engine))};
  });
  entry.primitive.execute(ctx.stream,
                          {{DNNL_ARG_SRC, wrap(ctx, a.desc(), a.data)},
                           {DNNL_ARG_WEIGHTS, wrap(ctx, b.desc(), b.data)},
                           {DNNL_ARG_DST, wrap(ctx, c.desc(), c.data)}});
  ctx.stream.wait();
}

Status checkAttention(const MultiHeadAttentionDesc &desc, const Tensor &input,
                      const AttentionWeights &w, Geometry &g) {
  KDRT_RETURN_IF_ERROR(checkAttentionWeights(desc, input, w));
  g = {input.dim(0), input.dim(1), input.dim(2), desc.numHeads,
       input.dim(2) / desc.numHeads};
  return Status::success();
}

/// What the forward computes before the output projection.
struct Trace {
  Tensor q, k, v, probs, context;
};

Status attentionTrace(DnnContext &ctx, const Geometry &g, const Tensor &input,
                      const AttentionWeights &w, Trace &t) {
  const Shape &shape = input.shape();
  Tensor *projections[3] = {&t.q, &t.k, &t.v};
  const Tensor *weights[3] = {w.queryWeight, w.keyWeight, w.valueWeight};
  const Tensor *biases[3] = {w.queryBias, w.keyBias, w.valueBias};
  for (int k = 0; k < 3; ++k) {
    *projections[k] = Tensor::owning(shape);
    KDRT_RETURN_IF_ERROR(linearForward(ctx, LinearDesc{}, input, *weights[k],
                                       biases[k], {}, *projections[k]));
  }
  t.probs = Tensor::owning(g.scoreShape());
  blockMatMul(ctx, g.heads4(t.q), g.heads4(t.k).transposed(),
              g.scores(t.probs));
  KDRT_RETURN_IF_ERROR(softmaxForward(ctx, g.softmax(), t.probs, t.probs));
  t.context = Tensor::owning(shape);
  blockMatMul(ctx, g.scores(t.probs), g.heads4(t.v), g.heads4(t.context));
  return Status::success();
}

} // namespace

Status multiHeadAttentionForward(DnnContext &ctx,
                                 const MultiHeadAttentionDesc &desc,
                                 const Tensor &input,
                                 const AttentionWeights &weights,
                                 Tensor &output) {
  return guarded("multi_head_attention", [&]() -> Status {
    Geometry g;
    KDRT_RETURN_IF_ERROR(checkAttention(desc, input, weights, g));
    KDRT_RETURN_IF_ERROR(reference::checkShape(
        "multi_head_attention", "output", output.shape(), input.shape()));
    Trace t;
    KDRT_RETURN_IF_ERROR(attentionTrace(ctx, g, input, weights, t));
    return linearForward(ctx, LinearDesc{}, t.context, *weights.outputWeight,
                         weights.outputBias, {}, output);
  });
}

Status multiHeadAttentionBackward(DnnContext &ctx,
                                  const MultiHeadAttentionDesc &desc,
                                  const Tensor &input,
                                  const AttentionWeights &weights,
                                  const Tensor &gradOutput, Tensor *gradInput,
                                  const AttentionWeightGrads &grads) {
  return guarded("multi_head_attention", [&]() -> Status {
    const char *op = "multi_head_attention";
    Geometry g;
    KDRT_RETURN_IF_ERROR(checkAttention(desc, input, weights, g));
    const Shape &shape = input.shape();
    KDRT_RETURN_IF_ERROR(
        reference::checkShape(op, "gradOutput", gradOutput.shape(), shape));
    if (gradInput)
      KDRT_RETURN_IF_ERROR(
          reference::checkShape(op, "gradInput", gradInput->shape(), shape));
    Trace t;
    KDRT_RETURN_IF_ERROR(attentionTrace(ctx, g, input, weights, t));

    // Output projection.
    Tensor gradContext = Tensor::owning(shape);
    KDRT_RETURN_IF_ERROR(linearBackward(
        ctx, LinearDesc{}, t.context, *weights.outputWeight, nullptr,
        gradOutput, &gradContext, grads.outputWeight, grads.outputBias));

    // context = P V: dP = dC V^T, dV = P^T dC.
    Tensor gradProbs = Tensor::owning(g.scoreShape());
    blockMatMul(ctx, g.heads4(gradContext), g.heads4(t.v).transposed(),
                g.scores(gradProbs));
    Tensor gradV = Tensor::owning(shape);
    blockMatMul(ctx, g.scores(t.probs).transposed(), g.heads4(gradContext),
                g.heads4(gradV));
    // P = softmax(Q K^T / sqrt(d)): the softmax backward brings the scale.
    Tensor gradScores = Tensor::owning(g.scoreShape());
    KDRT_RETURN_IF_ERROR(
        softmaxBackward(ctx, g.softmax(), t.probs, gradProbs, gradScores));
    Tensor gradQ = Tensor::owning(shape), gradK = Tensor::owning(shape);
    blockMatMul(ctx, g.scores(gradScores), g.heads4(t.k), g.heads4(gradQ));
    blockMatMul(ctx, g.scores(gradScores).transposed(), g.heads4(t.q),
                g.heads4(gradK));

    // Input projections; dx sums the three paths.
    const Tensor *projectionGrads[3] = {&gradQ, &gradK, &gradV};
    const Tensor *projectionWeights[3] = {weights.queryWeight,
                                          weights.keyWeight,
                                          weights.valueWeight};
    Tensor *weightGrads[3] = {grads.queryWeight, grads.keyWeight,
                              grads.valueWeight};
    Tensor *biasGrads[3] = {grads.queryBias, grads.keyBias, grads.valueBias};
    Tensor partial = gradInput ? Tensor::owning(shape) : Tensor();
    for (int k = 0; k < 3; ++k) {
      Tensor *dx = !gradInput ? nullptr : k == 0 ? gradInput : &partial;
      KDRT_RETURN_IF_ERROR(linearBackward(
          ctx, LinearDesc{}, input, *projectionWeights[k], nullptr,
          *projectionGrads[k], dx, weightGrads[k], biasGrads[k]));
      if (gradInput && k > 0) {
        float *sum = gradInput->data();
        const float *add = partial.data();
        int64_t count = partial.numElements();
#pragma omp parallel for
        for (int64_t i = 0; i < count; ++i)
          sum[i] += add[i];
      }
    }
    return Status::success();
  });
}

} // namespace kdrt::onednn

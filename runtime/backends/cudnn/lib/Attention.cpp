//===- Attention.cpp - multi-head attention and attention pooling ---------===//
//
// Multi-head self-attention composed from cuBLAS GEMMs: the projections,
// then per (batch, head) strided-batched Q K^T and P V on head-major copies
// ([B, H, N, hw]), with a row-softmax kernel between them. The backward
// recomputes the forward's intermediates (entries are stateless) and runs
// the same GEMMs transposed. GC-block attention pooling is a kernel chain.
//
//===----------------------------------------------------------------------===//

#include "CudnnBackendImpl.h"

#include "kdrt/reference/Attention.h"

#include <cmath>

namespace kdrt::cudnn {

using reference::checkShape;

namespace {

/// Device intermediates of one attention forward.
struct AttentionTrace {
  int64_t batch = 0, tokens = 0, width = 0, heads = 0, headWidth = 0;
  DeviceBuffer q, k, v;          // [B, N, D] projections
  DeviceBuffer qh, kh, vh;       // [B, H, N, hw] head-major copies
  DeviceBuffer probs;            // [B, H, N, N]
  DeviceBuffer contextHeads;     // [B, H, N, hw]
  DeviceBuffer context;          // [B, N, D]
};

} // namespace

/// Runs the forward up to the concatenated heads (the output projection is
/// the caller's).
static Status attentionForwardTrace(CudnnBackendImpl &backend,
                                    const MultiHeadAttentionDesc &desc,
                                    const Tensor &input,
                                    const AttentionWeights &weights,
                                    AttentionTrace &trace) {
  trace.batch = input.dim(0);
  trace.tokens = input.dim(1);
  trace.width = input.dim(2);
  trace.heads = desc.numHeads;
  trace.headWidth = trace.width / trace.heads;
  int64_t b = trace.batch, n = trace.tokens, d = trace.width,
          h = trace.heads, hw = trace.headWidth, rows = b * n;
  int64_t count = input.numElements();
  cudaStream_t stream = backend.stream();
  const Tensor *w[3] = {weights.queryWeight, weights.keyWeight,
                        weights.valueWeight};
  const Tensor *bias[3] = {weights.queryBias, weights.keyBias,
                           weights.valueBias};
  DeviceBuffer *projections[3] = {&trace.q, &trace.k, &trace.v};
  DeviceBuffer *split[3] = {&trace.qh, &trace.kh, &trace.vh};
  for (int i = 0; i < 3; ++i) {
    KDRT_RETURN_IF_ERROR(backend.scratch(count, *projections[i]));
    KDRT_RETURN_IF_ERROR(backend.scratch(count, *split[i]));
    KDRT_RETURN_IF_ERROR(backend.gemm(false, true, rows, d, d, input.data(),
                                      w[i]->data(),
                                      projections[i]->data()));
    KDRT_LAUNCH(launchBiasAndPostOps(stream, projections[i]->data(), count,
                                     dataOf(bias[i]), d, 1, DevicePostOps()));
    KDRT_LAUNCH(launchHeadSplit(stream, projections[i]->data(),
                                split[i]->data(), b, n, h, hw, true));
  }
  KDRT_RETURN_IF_ERROR(backend.scratch(b * h * n * n, trace.probs));
  KDRT_RETURN_IF_ERROR(backend.scratch(count, trace.contextHeads));
  KDRT_RETURN_IF_ERROR(backend.scratch(count, trace.context));
  // scores = Q K^T per (batch, head), softmax of scores / sqrt(hw).
  KDRT_RETURN_IF_ERROR(backend.gemm(false, true, n, n, hw, trace.qh.data(),
                                    trace.kh.data(), trace.probs.data(), 0.0f,
                                    b * h, n * hw, n * hw, n * n));
  KDRT_LAUNCH(launchSoftmaxRows(stream, trace.probs.data(), trace.probs.data(),
                                b * h * n, n, 1.0f / std::sqrt(float(hw))));
  KDRT_RETURN_IF_ERROR(backend.gemm(false, false, n, hw, n,
                                    trace.probs.data(), trace.vh.data(),
                                    trace.contextHeads.data(), 0.0f, b * h,
                                    n * n, n * hw, n * hw));
  KDRT_LAUNCH(launchHeadSplit(stream, trace.contextHeads.data(),
                              trace.context.data(), b, n, h, hw, false));
  return Status::success();
}

Status CudnnBackendImpl::multiHeadAttentionForward(
    const MultiHeadAttentionDesc &desc, const Tensor &input,
    const AttentionWeights &weights, Tensor &output) {
  KDRT_RETURN_IF_ERROR(checkAttentionWeights(desc, input, weights));
  KDRT_RETURN_IF_ERROR(checkShape("multi_head_attention", "output",
                                  output.shape(), input.shape()));
  AttentionTrace trace;
  KDRT_RETURN_IF_ERROR(
      attentionForwardTrace(*this, desc, input, weights, trace));
  Tensor context = Tensor::view(trace.context.data(), input.shape());
  return linearForward(LinearDesc(), context, *weights.outputWeight,
                       weights.outputBias, output);
}

Status CudnnBackendImpl::multiHeadAttentionBackward(
    const MultiHeadAttentionDesc &desc, const Tensor &input,
    const AttentionWeights &weights, const Tensor &gradOutput,
    Tensor *gradInput, const AttentionWeightGrads &grads) {
  const char *op = "multi_head_attention";
  KDRT_RETURN_IF_ERROR(checkAttentionWeights(desc, input, weights));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradOutput", gradOutput.shape(), input.shape()));
  if (gradInput)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradInput", gradInput->shape(), input.shape()));
  AttentionTrace trace;
  KDRT_RETURN_IF_ERROR(
      attentionForwardTrace(*this, desc, input, weights, trace));
  int64_t b = trace.batch, n = trace.tokens, h = trace.heads,
          hw = trace.headWidth;
  int64_t count = input.numElements();
  const Shape &shape = input.shape();
  // Output projection.
  DeviceBuffer gradContext, gradContextHeads;
  KDRT_RETURN_IF_ERROR(scratch(count, gradContext));
  KDRT_RETURN_IF_ERROR(scratch(count, gradContextHeads));
  Tensor gradContextView = Tensor::view(gradContext.data(), shape);
  KDRT_RETURN_IF_ERROR(linearBackward(
      LinearDesc(), Tensor::view(trace.context.data(), shape),
      *weights.outputWeight, gradOutput, &gradContextView,
      grads.outputWeight, grads.outputBias));
  KDRT_LAUNCH(launchHeadSplit(stream(), gradContext.data(),
                              gradContextHeads.data(), b, n, h, hw, true));
  // Scaled dot-product attention per (batch, head).
  DeviceBuffer gradProbs, gradScores, gradQh, gradKh, gradVh;
  KDRT_RETURN_IF_ERROR(scratch(b * h * n * n, gradProbs));
  KDRT_RETURN_IF_ERROR(scratch(b * h * n * n, gradScores));
  KDRT_RETURN_IF_ERROR(scratch(count, gradQh));
  KDRT_RETURN_IF_ERROR(scratch(count, gradKh));
  KDRT_RETURN_IF_ERROR(scratch(count, gradVh));
  KDRT_RETURN_IF_ERROR(gemm(false, true, n, n, hw, gradContextHeads.data(),
                            trace.vh.data(), gradProbs.data(), 0.0f, b * h,
                            n * hw, n * hw, n * n));
  KDRT_RETURN_IF_ERROR(gemm(true, false, n, hw, n, trace.probs.data(),
                            gradContextHeads.data(), gradVh.data(), 0.0f,
                            b * h, n * n, n * hw, n * hw));
  KDRT_LAUNCH(launchSoftmaxRowsBackward(
      stream(), trace.probs.data(), gradProbs.data(), gradScores.data(),
      b * h * n, n, 1.0f / std::sqrt(float(hw))));
  KDRT_RETURN_IF_ERROR(gemm(false, false, n, hw, n, gradScores.data(),
                            trace.kh.data(), gradQh.data(), 0.0f, b * h,
                            n * n, n * hw, n * hw));
  KDRT_RETURN_IF_ERROR(gemm(true, false, n, hw, n, gradScores.data(),
                            trace.qh.data(), gradKh.data(), 0.0f, b * h,
                            n * n, n * hw, n * hw));
  // Input projections; dx sums the three paths.
  DeviceBuffer gradProjection, partial;
  KDRT_RETURN_IF_ERROR(scratch(count, gradProjection));
  KDRT_RETURN_IF_ERROR(scratch(count, partial));
  DeviceBuffer *gradHeads[3] = {&gradQh, &gradKh, &gradVh};
  const Tensor *w[3] = {weights.queryWeight, weights.keyWeight,
                        weights.valueWeight};
  Tensor *gradW[3] = {grads.queryWeight, grads.keyWeight, grads.valueWeight};
  Tensor *gradB[3] = {grads.queryBias, grads.keyBias, grads.valueBias};
  Tensor partialView = Tensor::view(partial.data(), shape);
  for (int i = 0; i < 3; ++i) {
    KDRT_LAUNCH(launchHeadSplit(stream(), gradHeads[i]->data(),
                                gradProjection.data(), b, n, h, hw, false));
    KDRT_RETURN_IF_ERROR(linearBackward(
        LinearDesc(), input, *w[i],
        Tensor::view(gradProjection.data(), shape),
        gradInput ? (i == 0 ? gradInput : &partialView) : nullptr, gradW[i],
        gradB[i]));
    if (gradInput && i > 0)
      KDRT_LAUNCH(launchAccumulate(stream(), partial.data(),
                                   gradInput->data(), count));
  }
  return Status::success();
}

Status CudnnBackendImpl::attentionPoolForward(const AttentionPoolDesc &,
                                              const Tensor &input,
                                              const Tensor &weight,
                                              const Tensor *bias,
                                              Tensor &output) {
  KDRT_RETURN_IF_ERROR(reference::detail::attentionPoolCheck(
      input.shape(), weight.shape(), bias ? &bias->shape() : nullptr,
      output.shape(), "output"));
  int64_t batch = input.dim(0), space = input.dim(2) * input.dim(3);
  DeviceBuffer workspace;
  KDRT_RETURN_IF_ERROR(scratch(batch * space, workspace));
  KDRT_LAUNCH(launchAttentionPoolForward(stream(), input.data(), weight.data(),
                                         dataOf(bias), output.data(), batch,
                                         input.dim(1), space,
                                         workspace.data()));
  return Status::success();
}

Status CudnnBackendImpl::attentionPoolBackward(
    const AttentionPoolDesc &, const Tensor &input, const Tensor &weight,
    const Tensor *bias, const Tensor &gradOutput, Tensor *gradInput,
    Tensor *gradWeight, Tensor *gradBias) {
  const char *op = "attention_pool";
  KDRT_RETURN_IF_ERROR(reference::detail::attentionPoolCheck(
      input.shape(), weight.shape(), bias ? &bias->shape() : nullptr,
      gradOutput.shape(), "gradOutput"));
  if (gradInput)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradInput", gradInput->shape(), input.shape()));
  if (gradWeight)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradWeight", gradWeight->shape(), weight.shape()));
  if (gradBias)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "gradBias", gradBias->shape(), Shape{1}));
  int64_t batch = input.dim(0), space = input.dim(2) * input.dim(3);
  DeviceBuffer workspace;
  KDRT_RETURN_IF_ERROR(scratch(2 * batch * space, workspace));
  KDRT_LAUNCH(launchAttentionPoolBackward(
      stream(), input.data(), weight.data(), dataOf(bias), gradOutput.data(),
      dataOf(gradInput), dataOf(gradWeight), dataOf(gradBias), batch,
      input.dim(1), space, workspace.data()));
  return Status::success();
}

} // namespace kdrt::cudnn

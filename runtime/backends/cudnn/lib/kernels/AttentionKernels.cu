//===- AttentionKernels.cu - GC-block attention pooling -------------------===//
//
// The steps of reference/Attention.h's attention pooling as kernels: the
// 1x1 conv to one logit per position, a softmax over positions per sample
// (RowKernels.cu), and the weighted sum; the backward runs them in reverse.
//
//===----------------------------------------------------------------------===//

#include "kernels/DeviceMath.cuh"

namespace kdrt::cudnn {
namespace {

__global__ void attentionLogitsKernel(const float *x, const float *weight,
                                      const float *bias, int64_t batch,
                                      int64_t channels, int64_t space,
                                      float *logits) {
  KDRT_GRID_STRIDE(i, batch * space) {
    int64_t n = i / space, j = i % space;
    float sum = bias ? bias[0] : 0.0f;
    for (int64_t c = 0; c < channels; ++c)
      sum += weight[c] * x[(n * channels + c) * space + j];
    logits[i] = sum;
  }
}

__global__ void weightedSumKernel(const float *x, const float *probs,
                                  int64_t batch, int64_t channels,
                                  int64_t space, float *out) {
  KDRT_GRID_STRIDE(i, batch * channels) {
    int64_t n = i / channels;
    float sum = 0.0f;
    for (int64_t j = 0; j < space; ++j)
      sum += probs[n * space + j] * x[i * space + j];
    out[i] = sum;
  }
}

/// gradProb[n, j] = sum_c dy[n, c] x[n, c, j].
__global__ void gradProbKernel(const float *x, const float *dy, int64_t batch,
                               int64_t channels, int64_t space,
                               float *gradProb) {
  KDRT_GRID_STRIDE(i, batch * space) {
    int64_t n = i / space, j = i % space;
    float sum = 0.0f;
    for (int64_t c = 0; c < channels; ++c)
      sum += dy[n * channels + c] * x[(n * channels + c) * space + j];
    gradProb[i] = sum;
  }
}

__global__ void attentionPoolInputGradKernel(const float *weight,
                                             const float *probs,
                                             const float *gradLogits,
                                             const float *dy, int64_t batch,
                                             int64_t channels, int64_t space,
                                             float *dx) {
  KDRT_GRID_STRIDE(i, batch * channels * space) {
    int64_t j = i % space, c = (i / space) % channels,
            n = i / (space * channels);
    dx[i] = probs[n * space + j] * dy[n * channels + c] +
            gradLogits[n * space + j] * weight[c];
  }
}

__global__ void attentionPoolWeightGradKernel(const float *x,
                                              const float *gradLogits,
                                              int64_t batch, int64_t channels,
                                              int64_t space, float *dWeight) {
  KDRT_GRID_STRIDE(c, channels) {
    float sum = 0.0f;
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t j = 0; j < space; ++j)
        sum += gradLogits[n * space + j] * x[(n * channels + c) * space + j];
    dWeight[c] = sum;
  }
}

} // namespace

static cudaError_t attentionProbs(cudaStream_t stream, const float *x,
                                  const float *weight, const float *bias,
                                  int64_t batch, int64_t channels,
                                  int64_t space, float *probs) {
  attentionLogitsKernel<<<blocksFor(batch * space), kThreads, 0, stream>>>(
      x, weight, bias, batch, channels, space, probs);
  cudaError_t error = cudaGetLastError();
  if (error != cudaSuccess)
    return error;
  return launchSoftmaxRows(stream, probs, probs, batch, space, 1.0f);
}

cudaError_t launchAttentionPoolForward(cudaStream_t stream, const float *x,
                                       const float *weight, const float *bias,
                                       float *out, int64_t batch,
                                       int64_t channels, int64_t space,
                                       float *workspace) {
  if (batch * channels * space == 0)
    return cudaSuccess;
  cudaError_t error = attentionProbs(stream, x, weight, bias, batch, channels,
                                     space, workspace);
  if (error != cudaSuccess)
    return error;
  weightedSumKernel<<<blocksFor(batch * channels), kThreads, 0, stream>>>(
      x, workspace, batch, channels, space, out);
  return cudaGetLastError();
}

cudaError_t launchAttentionPoolBackward(
    cudaStream_t stream, const float *x, const float *weight,
    const float *bias, const float *dy, float *dx, float *dWeight,
    float *dBias, int64_t batch, int64_t channels, int64_t space,
    float *workspace) {
  if (batch * channels * space == 0)
    return cudaSuccess;
  float *probs = workspace, *gradLogits = workspace + batch * space;
  cudaError_t error = attentionProbs(stream, x, weight, bias, batch, channels,
                                     space, probs);
  if (error != cudaSuccess)
    return error;
  gradProbKernel<<<blocksFor(batch * space), kThreads, 0, stream>>>(
      x, dy, batch, channels, space, gradLogits);
  error = launchSoftmaxRowsBackward(stream, probs, gradLogits, gradLogits,
                                    batch, space, 1.0f);
  if (error != cudaSuccess)
    return error;
  if (dx)
    attentionPoolInputGradKernel<<<blocksFor(batch * channels * space),
                                   kThreads, 0, stream>>>(
        weight, probs, gradLogits, dy, batch, channels, space, dx);
  if (dWeight)
    attentionPoolWeightGradKernel<<<blocksFor(channels), kThreads, 0,
                                    stream>>>(x, gradLogits, batch, channels,
                                              space, dWeight);
  if (dBias) {
    error = launchSum(stream, gradLogits, batch * space, 1.0f, dBias);
    if (error != cudaSuccess)
      return error;
  }
  return cudaGetLastError();
}

} // namespace kdrt::cudnn

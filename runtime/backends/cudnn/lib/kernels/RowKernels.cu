//===- RowKernels.cu - Per-row normalizations and softmax -----------------===//
//
// One block per row (set of elements normalized together); the block sums
// with blockSum and each thread then writes its strided share of the row.
// The formulas are those of reference/Normalization.h and L2Normalize.h.
//
//===----------------------------------------------------------------------===//

#include "kernels/DeviceMath.cuh"

namespace kdrt::cudnn {
namespace {

unsigned rowBlocks(int64_t rows) {
  return static_cast<unsigned>(rows < 1 ? 1 : rows > 65535 ? 65535 : rows);
}

#define KDRT_FOR_EACH_ROW(r, rows)                                             \
  for (int64_t r = blockIdx.x; r < (rows); r += gridDim.x)
#define KDRT_FOR_EACH_IN_ROW(k, length)                                        \
  for (int64_t k = threadIdx.x; k < (length); k += blockDim.x)

/// Mean and 1/sqrt(var + eps) of row x[0..length).
__device__ void rowStatistics(const float *x, int64_t length, double eps,
                              float &mean, float &invStd) {
  float sum = 0.0f;
  KDRT_FOR_EACH_IN_ROW(k, length) sum += x[k];
  mean = blockSum(sum) / float(length);
  float squares = 0.0f;
  KDRT_FOR_EACH_IN_ROW(k, length) {
    float centered = x[k] - mean;
    squares += centered * centered;
  }
  float variance = blockSum(squares) / float(length);
  invStd = 1.0f / sqrtf(variance + float(eps));
}

__device__ inline int64_t affineOf(int64_t r, int64_t k, int64_t groups,
                                   int64_t groupChannels, int64_t space) {
  return (r % groups) * groupChannels + k / space;
}

__global__ void rowNormForwardKernel(const float *x, const float *gamma,
                                     const float *beta, float *y,
                                     int64_t rows, int64_t rowLength,
                                     double eps, int64_t groups,
                                     int64_t groupChannels, int64_t space) {
  KDRT_FOR_EACH_ROW(r, rows) {
    const float *row = x + r * rowLength;
    float mean, invStd;
    rowStatistics(row, rowLength, eps, mean, invStd);
    KDRT_FOR_EACH_IN_ROW(k, rowLength) {
      int64_t a = affineOf(r, k, groups, groupChannels, space);
      float value = (row[k] - mean) * invStd;
      if (gamma)
        value *= gamma[a];
      if (beta)
        value += beta[a];
      y[r * rowLength + k] = value;
    }
  }
}

__global__ void rowNormBackwardKernel(const float *x, const float *gamma,
                                      const float *dy, float *dx,
                                      float *dGamma, float *dBeta,
                                      int64_t rows, int64_t rowLength,
                                      double eps, int64_t groups,
                                      int64_t groupChannels, int64_t space) {
  KDRT_FOR_EACH_ROW(r, rows) {
    const float *row = x + r * rowLength;
    const float *gradRow = dy + r * rowLength;
    float mean, invStd;
    rowStatistics(row, rowLength, eps, mean, invStd);
    float sumGrad = 0.0f, sumGradXhat = 0.0f;
    KDRT_FOR_EACH_IN_ROW(k, rowLength) {
      int64_t a = affineOf(r, k, groups, groupChannels, space);
      float xhat = (row[k] - mean) * invStd;
      float g = gradRow[k] * (gamma ? gamma[a] : 1.0f);
      sumGrad += g;
      sumGradXhat += g * xhat;
      if (dGamma)
        atomicAdd(&dGamma[a], gradRow[k] * xhat);
      if (dBeta)
        atomicAdd(&dBeta[a], gradRow[k]);
    }
    sumGrad = blockSum(sumGrad);
    sumGradXhat = blockSum(sumGradXhat);
    if (!dx)
      continue;
    float count = float(rowLength);
    KDRT_FOR_EACH_IN_ROW(k, rowLength) {
      int64_t a = affineOf(r, k, groups, groupChannels, space);
      float xhat = (row[k] - mean) * invStd;
      float g = gradRow[k] * (gamma ? gamma[a] : 1.0f);
      dx[r * rowLength + k] =
          invStd / count * (count * g - sumGrad - xhat * sumGradXhat);
    }
  }
}

/// One block per channel: sums over batch and space.
__global__ void batchNormInferenceBackwardKernel(
    const float *x, const float *gamma, const float *runningMean,
    const float *runningVar, const float *dy, float *dx, float *dGamma,
    float *dBeta, int64_t batch, int64_t channels, int64_t space,
    double eps) {
  int64_t count = batch * space;
  KDRT_FOR_EACH_ROW(c, channels) {
    float mean = runningMean[c];
    float invStd = 1.0f / sqrtf(runningVar[c] + float(eps));
    float sumGrad = 0.0f, sumGradXhat = 0.0f;
    KDRT_FOR_EACH_IN_ROW(k, count) {
      int64_t i = ((k / space) * channels + c) * space + k % space;
      sumGrad += dy[i];
      sumGradXhat += dy[i] * (x[i] - mean) * invStd;
      if (dx)
        dx[i] = dy[i] * gamma[c] * invStd;
    }
    sumGrad = blockSum(sumGrad);
    sumGradXhat = blockSum(sumGradXhat);
    if (threadIdx.x == 0) {
      if (dGamma)
        dGamma[c] = sumGradXhat;
      if (dBeta)
        dBeta[c] = sumGrad;
    }
  }
}

__global__ void l2NormalizeForwardKernel(const float *x, float *y,
                                         int64_t rows, int64_t length,
                                         double eps) {
  KDRT_FOR_EACH_ROW(r, rows) {
    const float *row = x + r * length;
    float squares = 0.0f;
    KDRT_FOR_EACH_IN_ROW(k, length) squares += row[k] * row[k];
    float norm = fmaxf(sqrtf(blockSum(squares)), float(eps));
    KDRT_FOR_EACH_IN_ROW(k, length) y[r * length + k] = row[k] / norm;
  }
}

__global__ void l2NormalizeBackwardKernel(const float *x, const float *dy,
                                          float *dx, int64_t rows,
                                          int64_t length, double eps) {
  KDRT_FOR_EACH_ROW(r, rows) {
    const float *row = x + r * length;
    const float *gradRow = dy + r * length;
    float squares = 0.0f;
    KDRT_FOR_EACH_IN_ROW(k, length) squares += row[k] * row[k];
    float rawNorm = sqrtf(blockSum(squares));
    float norm = fmaxf(rawNorm, float(eps));
    float dot = 0.0f;
    KDRT_FOR_EACH_IN_ROW(k, length) dot += gradRow[k] * row[k] / norm;
    dot = blockSum(dot);
    // Where the clamp is active the norm is a constant: no projection.
    if (!(rawNorm > float(eps)))
      dot = 0.0f;
    KDRT_FOR_EACH_IN_ROW(k, length)
    dx[r * length + k] = (gradRow[k] - (row[k] / norm) * dot) / norm;
  }
}

__global__ void softmaxRowsKernel(const float *x, float *y, int64_t rows,
                                  int64_t length, float scale) {
  __shared__ float maxShared;
  KDRT_FOR_EACH_ROW(r, rows) {
    const float *row = x + r * length;
    if (threadIdx.x == 0) {
      float maxValue = -INFINITY;
      for (int64_t k = 0; k < length; ++k)
        maxValue = fmaxf(maxValue, row[k] * scale);
      maxShared = maxValue;
    }
    __syncthreads();
    float maxValue = maxShared;
    float sum = 0.0f;
    KDRT_FOR_EACH_IN_ROW(k, length) sum += expf(row[k] * scale - maxValue);
    float logSum = maxValue + logf(blockSum(sum));
    KDRT_FOR_EACH_IN_ROW(k, length)
    y[r * length + k] = expf(row[k] * scale - logSum);
    __syncthreads(); // maxShared is rewritten for the next row
  }
}

__global__ void softmaxRowsBackwardKernel(const float *p, const float *dp,
                                          float *dx, int64_t rows,
                                          int64_t length, float scale) {
  KDRT_FOR_EACH_ROW(r, rows) {
    const float *probs = p + r * length;
    const float *grads = dp + r * length;
    float dot = 0.0f;
    KDRT_FOR_EACH_IN_ROW(k, length) dot += grads[k] * probs[k];
    dot = blockSum(dot);
    KDRT_FOR_EACH_IN_ROW(k, length)
    dx[r * length + k] = probs[k] * (grads[k] - dot) * scale;
  }
}

cudaError_t zero(cudaStream_t stream, float *buffer, int64_t count) {
  if (!buffer)
    return cudaSuccess;
  return cudaMemsetAsync(buffer, 0, size_t(count) * sizeof(float), stream);
}

} // namespace

cudaError_t launchRowNormForward(cudaStream_t stream, const float *x,
                                 const float *gamma, const float *beta,
                                 float *y, int64_t rows, int64_t rowLength,
                                 double eps, int64_t groups,
                                 int64_t groupChannels, int64_t space) {
  if (rows == 0 || rowLength == 0)
    return cudaSuccess;
  rowNormForwardKernel<<<rowBlocks(rows), kThreads, 0, stream>>>(
      x, gamma, beta, y, rows, rowLength, eps, groups, groupChannels, space);
  return cudaGetLastError();
}

cudaError_t launchRowNormBackward(cudaStream_t stream, const float *x,
                                  const float *gamma, const float *dy,
                                  float *dx, float *dGamma, float *dBeta,
                                  int64_t affineCount, int64_t rows,
                                  int64_t rowLength, double eps,
                                  int64_t groups, int64_t groupChannels,
                                  int64_t space) {
  cudaError_t error = zero(stream, dGamma, affineCount);
  if (error == cudaSuccess)
    error = zero(stream, dBeta, affineCount);
  if (error != cudaSuccess || rows == 0 || rowLength == 0)
    return error;
  rowNormBackwardKernel<<<rowBlocks(rows), kThreads, 0, stream>>>(
      x, gamma, dy, dx, dGamma, dBeta, rows, rowLength, eps, groups,
      groupChannels, space);
  return cudaGetLastError();
}

cudaError_t launchBatchNormInferenceBackward(
    cudaStream_t stream, const float *x, const float *gamma,
    const float *runningMean, const float *runningVar, const float *dy,
    float *dx, float *dGamma, float *dBeta, int64_t batch, int64_t channels,
    int64_t space, double eps) {
  if (channels == 0)
    return cudaSuccess;
  batchNormInferenceBackwardKernel<<<rowBlocks(channels), kThreads, 0,
                                     stream>>>(x, gamma, runningMean,
                                               runningVar, dy, dx, dGamma,
                                               dBeta, batch, channels, space,
                                               eps);
  return cudaGetLastError();
}

cudaError_t launchL2NormalizeForward(cudaStream_t stream, const float *x,
                                     float *y, int64_t rows, int64_t length,
                                     double eps) {
  if (rows == 0)
    return cudaSuccess;
  l2NormalizeForwardKernel<<<rowBlocks(rows), kThreads, 0, stream>>>(
      x, y, rows, length, eps);
  return cudaGetLastError();
}

cudaError_t launchL2NormalizeBackward(cudaStream_t stream, const float *x,
                                      const float *dy, float *dx,
                                      int64_t rows, int64_t length,
                                      double eps) {
  if (rows == 0)
    return cudaSuccess;
  l2NormalizeBackwardKernel<<<rowBlocks(rows), kThreads, 0, stream>>>(
      x, dy, dx, rows, length, eps);
  return cudaGetLastError();
}

cudaError_t launchSoftmaxRows(cudaStream_t stream, const float *x, float *y,
                              int64_t rows, int64_t length, float scale) {
  if (rows == 0 || length == 0)
    return cudaSuccess;
  softmaxRowsKernel<<<rowBlocks(rows), kThreads, 0, stream>>>(x, y, rows,
                                                              length, scale);
  return cudaGetLastError();
}

cudaError_t launchSoftmaxRowsBackward(cudaStream_t stream, const float *p,
                                      const float *dp, float *dx,
                                      int64_t rows, int64_t length,
                                      float scale) {
  if (rows == 0 || length == 0)
    return cudaSuccess;
  softmaxRowsBackwardKernel<<<rowBlocks(rows), kThreads, 0, stream>>>(
      p, dp, dx, rows, length, scale);
  return cudaGetLastError();
}

} // namespace kdrt::cudnn

//===- Elementwise.cu - Elementwise, broadcast and copy kernels -----------===//
//
// One thread per element (grid-stride), each computing exactly what the
// reference loop body computes for that element. Reductions that the
// reference does by accumulation (broadcast gradients) use atomicAdd into a
// zeroed buffer.
//
//===----------------------------------------------------------------------===//

#include "kernels/DeviceMath.cuh"
#include "DropoutMask.h"

namespace kdrt::cudnn {
namespace {

__global__ void biasAndPostOpsKernel(float *y, int64_t count,
                                     const float *bias, int64_t channels,
                                     int64_t inner, DevicePostOps chain) {
  KDRT_GRID_STRIDE(i, count) {
    int64_t c = (i / inner) % channels;
    float value = y[i];
    if (bias)
      value += bias[c];
    for (int k = 0; k < chain.count; ++k) {
      switch (chain.kind[k]) {
      case kPostActivation:
        value = activate(chain.activation[k], value);
        break;
      case kPostSum:
        value += chain.sumScale[k] * chain.residual[k][i];
        break;
      case kPostScaleShift:
        value = value * chain.scale[k][c] + chain.shift[k][c];
        break;
      }
    }
    y[i] = value;
  }
}

__global__ void activationForwardKernel(int kind, const float *x, float *y,
                                        int64_t count) {
  KDRT_GRID_STRIDE(i, count) { y[i] = activate(kind, x[i]); }
}

__global__ void activationBackwardKernel(int kind, const float *x,
                                         const float *dy, float *dx,
                                         int64_t count) {
  KDRT_GRID_STRIDE(i, count) { dx[i] = dy[i] * activationSlope(kind, x[i]); }
}

__global__ void slopeFromOutputKernel(int kind, const float *y,
                                      const float *dy, float *out,
                                      int64_t count) {
  KDRT_GRID_STRIDE(i, count) { out[i] = dy[i] * slopeFromOutput(kind, y[i]); }
}

__global__ void scaleKernel(const float *x, float *y, int64_t count,
                            float factor) {
  KDRT_GRID_STRIDE(i, count) { y[i] = x[i] * factor; }
}

__global__ void multiplyKernel(const float *a, const float *b, float *out,
                               int64_t count) {
  KDRT_GRID_STRIDE(i, count) { out[i] = a[i] * b[i]; }
}

__global__ void accumulateKernel(const float *src, float *dst,
                                 int64_t count) {
  KDRT_GRID_STRIDE(i, count) { dst[i] += src[i]; }
}

__global__ void dropoutKernel(const float *x, float *y, float *mask,
                              int64_t count, uint64_t seed, double p,
                              float keepScale) {
  KDRT_GRID_STRIDE(i, count) {
    mask[i] = dropoutKeeps(seed, uint64_t(i), p) ? keepScale : 0.0f;
    y[i] = x[i] * mask[i];
  }
}

__device__ inline int64_t rhsIndexOf(const BroadcastMap &map, int64_t i) {
  int64_t rest = i, index = 0;
  for (int d = map.rank - 1; d >= 0; --d) {
    index += (rest % map.dims[d]) * map.rhsStrides[d];
    rest /= map.dims[d];
  }
  return index;
}

__global__ void binaryForwardKernel(bool isAdd, const float *lhs,
                                    const float *rhs, float *out,
                                    int64_t count, BroadcastMap map) {
  KDRT_GRID_STRIDE(i, count) {
    float r = rhs[rhsIndexOf(map, i)];
    out[i] = isAdd ? lhs[i] + r : lhs[i] * r;
  }
}

__global__ void binaryBackwardKernel(bool isAdd, const float *lhs,
                                     const float *rhs, const float *dy,
                                     float *dLhs, float *dRhs, int64_t count,
                                     BroadcastMap map) {
  KDRT_GRID_STRIDE(i, count) {
    int64_t r = rhsIndexOf(map, i);
    if (dLhs)
      dLhs[i] = isAdd ? dy[i] : dy[i] * rhs[r];
    if (dRhs)
      atomicAdd(&dRhs[r], isAdd ? dy[i] : dy[i] * lhs[i]);
  }
}

__global__ void columnSumsKernel(const float *x, int64_t rows, int64_t cols,
                                 int64_t rowStride, float *out) {
  KDRT_GRID_STRIDE(c, cols) {
    float sum = 0.0f;
    for (int64_t r = 0; r < rows; ++r)
      sum += x[r * rowStride + c];
    out[c] = sum;
  }
}

__global__ void stridedCopyKernel(const float *src, int64_t srcStride,
                                  int64_t srcOffset, float *dst,
                                  int64_t dstStride, int64_t dstOffset,
                                  int64_t outer, int64_t length) {
  KDRT_GRID_STRIDE(i, outer * length) {
    int64_t o = i / length, k = i % length;
    dst[o * dstStride + dstOffset + k] = src[o * srcStride + srcOffset + k];
  }
}

__global__ void sumKernel(const float *values, int64_t count, float factor,
                          float *out) {
  float partial = 0.0f;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x)
    partial += values[i];
  float total = blockSum(partial);
  if (threadIdx.x == 0)
    out[0] = total * factor;
}

} // namespace

cudaError_t launchBiasAndPostOps(cudaStream_t stream, float *y, int64_t count,
                                 const float *bias, int64_t channels,
                                 int64_t inner, const DevicePostOps &chain) {
  if (count == 0 || (!bias && chain.count == 0))
    return cudaSuccess;
  biasAndPostOpsKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      y, count, bias, channels, inner, chain);
  return cudaGetLastError();
}

cudaError_t launchActivationForward(cudaStream_t stream, int kind,
                                    const float *x, float *y, int64_t count) {
  if (count == 0)
    return cudaSuccess;
  activationForwardKernel<<<blocksFor(count), kThreads, 0, stream>>>(kind, x, y,
                                                                     count);
  return cudaGetLastError();
}

cudaError_t launchActivationBackward(cudaStream_t stream, int kind,
                                     const float *x, const float *dy,
                                     float *dx, int64_t count) {
  if (count == 0)
    return cudaSuccess;
  activationBackwardKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      kind, x, dy, dx, count);
  return cudaGetLastError();
}

cudaError_t launchSlopeFromOutput(cudaStream_t stream, int kind,
                                  const float *y, const float *dy, float *out,
                                  int64_t count) {
  if (count == 0)
    return cudaSuccess;
  slopeFromOutputKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      kind, y, dy, out, count);
  return cudaGetLastError();
}

cudaError_t launchScale(cudaStream_t stream, const float *x, float *y,
                        int64_t count, float factor) {
  if (count == 0)
    return cudaSuccess;
  scaleKernel<<<blocksFor(count), kThreads, 0, stream>>>(x, y, count, factor);
  return cudaGetLastError();
}

cudaError_t launchMultiply(cudaStream_t stream, const float *a,
                           const float *b, float *out, int64_t count) {
  if (count == 0)
    return cudaSuccess;
  multiplyKernel<<<blocksFor(count), kThreads, 0, stream>>>(a, b, out, count);
  return cudaGetLastError();
}

cudaError_t launchAccumulate(cudaStream_t stream, const float *src,
                             float *dst, int64_t count) {
  if (count == 0)
    return cudaSuccess;
  accumulateKernel<<<blocksFor(count), kThreads, 0, stream>>>(src, dst, count);
  return cudaGetLastError();
}

cudaError_t launchDropoutForward(cudaStream_t stream, const float *x,
                                 float *y, float *mask, int64_t count,
                                 uint64_t seed, double p, float keepScale) {
  if (count == 0)
    return cudaSuccess;
  dropoutKernel<<<blocksFor(count), kThreads, 0, stream>>>(x, y, mask, count,
                                                           seed, p, keepScale);
  return cudaGetLastError();
}

cudaError_t launchBinaryForward(cudaStream_t stream, bool isAdd,
                                const float *lhs, const float *rhs,
                                float *out, int64_t count,
                                const BroadcastMap &map) {
  if (count == 0)
    return cudaSuccess;
  binaryForwardKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      isAdd, lhs, rhs, out, count, map);
  return cudaGetLastError();
}

cudaError_t launchBinaryBackward(cudaStream_t stream, bool isAdd,
                                 const float *lhs, const float *rhs,
                                 const float *dy, float *dLhs, float *dRhs,
                                 int64_t count, int64_t rhsCount,
                                 const BroadcastMap &map) {
  if (dRhs) {
    cudaError_t error =
        cudaMemsetAsync(dRhs, 0, size_t(rhsCount) * sizeof(float), stream);
    if (error != cudaSuccess)
      return error;
  }
  if (count == 0)
    return cudaSuccess;
  binaryBackwardKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      isAdd, lhs, rhs, dy, dLhs, dRhs, count, map);
  return cudaGetLastError();
}

cudaError_t launchColumnSums(cudaStream_t stream, const float *x,
                             int64_t rows, int64_t cols, int64_t rowStride,
                             float *out) {
  if (cols == 0)
    return cudaSuccess;
  columnSumsKernel<<<blocksFor(cols), kThreads, 0, stream>>>(x, rows, cols,
                                                             rowStride, out);
  return cudaGetLastError();
}

cudaError_t launchStridedCopy(cudaStream_t stream, const float *src,
                              int64_t srcStride, int64_t srcOffset,
                              float *dst, int64_t dstStride,
                              int64_t dstOffset, int64_t outer,
                              int64_t length) {
  if (outer * length == 0)
    return cudaSuccess;
  stridedCopyKernel<<<blocksFor(outer * length), kThreads, 0, stream>>>(
      src, srcStride, srcOffset, dst, dstStride, dstOffset, outer, length);
  return cudaGetLastError();
}

cudaError_t launchSum(cudaStream_t stream, const float *values, int64_t count,
                      float factor, float *out) {
  sumKernel<<<1, kThreads, 0, stream>>>(values, count, factor, out);
  return cudaGetLastError();
}

} // namespace kdrt::cudnn

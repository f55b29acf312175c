//===- DeviceMath.cuh - Helpers shared by the backend's kernels -*- CUDA -*-===//
//
// Device versions of the reference kernels' scalar helpers (activations,
// log-sum-exp, smooth-L1) and a block-wide sum. Each mirrors its reference
// counterpart line for line so the kernels stay obviously equal to the oracle.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_CUDNN_DEVICEMATH_CUH
#define KDRT_CUDNN_DEVICEMATH_CUH

#include "kernels/Kernels.h"

#include <cstdint>
#include <cuda_runtime.h>

namespace kdrt::cudnn {

constexpr int kThreads = 256;

/// Enough blocks of kThreads for `count` items (grid-stride loops cover the
/// rest when the grid is capped).
inline unsigned blocksFor(int64_t count) {
  int64_t blocks = (count + kThreads - 1) / kThreads;
  if (blocks < 1)
    blocks = 1;
  return static_cast<unsigned>(blocks > 65535 ? 65535 : blocks);
}

#define KDRT_GRID_STRIDE(index, count)                                         \
  for (int64_t index = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;         \
       index < (count); index += int64_t(blockDim.x) * gridDim.x)

__device__ inline float activate(int kind, float x) {
  switch (kind) {
  case kActRelu:
    return x > 0.0f ? x : 0.0f;
  case kActGelu:
    return 0.5f * x * (1.0f + erff(x / sqrtf(2.0f)));
  case kActSigmoid:
    return 1.0f / (1.0f + expf(-x));
  case kActTanh:
    return tanhf(x);
  }
  return x;
}

__device__ inline float activationSlope(int kind, float x) {
  switch (kind) {
  case kActRelu:
    return x > 0.0f ? 1.0f : 0.0f;
  case kActGelu:
    return 0.5f * (1.0f + erff(x / sqrtf(2.0f))) +
           x * 0.3989422804014327f * expf(-x * x / 2.0f);
  case kActSigmoid: {
    float s = activate(kActSigmoid, x);
    return s * (1.0f - s);
  }
  case kActTanh: {
    float t = tanhf(x);
    return 1.0f - t * t;
  }
  }
  return 1.0f;
}

/// Slope of relu / sigmoid / tanh from the activation's output.
__device__ inline float slopeFromOutput(int kind, float y) {
  switch (kind) {
  case kActRelu:
    return y > 0.0f ? 1.0f : 0.0f;
  case kActSigmoid:
    return y * (1.0f - y);
  case kActTanh:
    return 1.0f - y * y;
  }
  return 1.0f;
}

/// log(sum_k exp(x[k*stride] / t)) over k < length, skipping index `skip`.
__device__ inline float logSumExp(const float *x, int64_t length, float t,
                                  int64_t skip = -1) {
  float maxValue = -INFINITY;
  for (int64_t k = 0; k < length; ++k)
    if (k != skip)
      maxValue = fmaxf(maxValue, x[k] / t);
  float sum = 0.0f;
  for (int64_t k = 0; k < length; ++k)
    if (k != skip)
      sum += expf(x[k] / t - maxValue);
  return maxValue + logf(sum);
}

__device__ inline float klTerm(float p, float logP, float logQ) {
  return p > 0.0f ? p * (logP - logQ) : 0.0f;
}

__device__ inline float smoothL1(float d, float beta) {
  float a = fabsf(d);
  return a < beta ? 0.5f * d * d / beta : a - 0.5f * beta;
}

__device__ inline float smoothL1Slope(float d, float beta) {
  if (fabsf(d) < beta)
    return d / beta;
  return d > 0.0f ? 1.0f : -1.0f;
}

__device__ inline float signOf(float x) {
  return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;
}

/// Sum of `value` over the block (blockDim.x == kThreads); every thread
/// gets the result.
__device__ inline float blockSum(float value) {
  __shared__ float partial[kThreads];
  __syncthreads(); // the previous call's readers are done with `partial`
  partial[threadIdx.x] = value;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half)
      partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  return partial[0];
}

} // namespace kdrt::cudnn

#endif // KDRT_CUDNN_DEVICEMATH_CUH

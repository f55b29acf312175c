//===- SpatialKernels.cu - Adaptive pooling, resize and layout moves ------===//
//
// Forward kernels gather: one thread per output element computes its window
// or taps as reference/Pooling.h and Resize.h enumerate them. Backward
// kernels scatter the same taps with atomicAdd into a zeroed gradient.
//
//===----------------------------------------------------------------------===//

#include "kernels/DeviceMath.cuh"

namespace kdrt::cudnn {
namespace {

/// PyTorch's adaptive bin [begin, end) of output index o.
__device__ inline void adaptiveBin(int64_t o, int64_t in, int64_t out,
                                   int64_t &begin, int64_t &end) {
  begin = o * in / out;
  end = ((o + 1) * in + out - 1) / out;
}

__global__ void adaptivePoolForwardKernel(bool isMax, const float *x,
                                          float *y, int64_t planes,
                                          int64_t height, int64_t width,
                                          int64_t outH, int64_t outW) {
  KDRT_GRID_STRIDE(o, planes * outH * outW) {
    int64_t ow = o % outW, oh = (o / outW) % outH, p = o / (outW * outH);
    int64_t h0, h1, w0, w1;
    adaptiveBin(oh, height, outH, h0, h1);
    adaptiveBin(ow, width, outW, w0, w1);
    const float *plane = x + p * height * width;
    float result = isMax ? -INFINITY : 0.0f;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w) {
        float v = plane[h * width + w];
        result = isMax ? (v > result ? v : result) : result + v;
      }
    y[o] = isMax ? result : result / float((h1 - h0) * (w1 - w0));
  }
}

__global__ void adaptivePoolBackwardKernel(bool isMax, const float *x,
                                           const float *dy, float *dx,
                                           int64_t planes, int64_t height,
                                           int64_t width, int64_t outH,
                                           int64_t outW) {
  KDRT_GRID_STRIDE(o, planes * outH * outW) {
    int64_t ow = o % outW, oh = (o / outW) % outH, p = o / (outW * outH);
    int64_t h0, h1, w0, w1;
    adaptiveBin(oh, height, outH, h0, h1);
    adaptiveBin(ow, width, outW, w0, w1);
    const float *plane = x + p * height * width;
    float *gradPlane = dx + p * height * width;
    if (!isMax) {
      float share = dy[o] / float((h1 - h0) * (w1 - w0));
      for (int64_t h = h0; h < h1; ++h)
        for (int64_t w = w0; w < w1; ++w)
          atomicAdd(&gradPlane[h * width + w], share);
      continue;
    }
    // The first maximum in row-major order receives the gradient.
    int64_t best = -1;
    for (int64_t h = h0; h < h1; ++h)
      for (int64_t w = w0; w < w1; ++w)
        if (best < 0 || plane[h * width + w] > plane[best])
          best = h * width + w;
    if (best >= 0)
      atomicAdd(&gradPlane[best], dy[o]);
  }
}

/// Taps of output coordinate o along one axis: up to two explicit taps
/// (bilinear, nearest) or a contiguous bin of equal weights (area).
struct AxisTaps {
  int64_t begin = 0, count = 0; // area: sources begin..begin+count
  int64_t source[2] = {0, 0};
  double weight[2] = {0, 0};
  bool isArea = false;
};

__device__ inline AxisTaps axisTaps(int mode, int64_t in, int64_t out,
                                    int64_t o) {
  AxisTaps taps;
  double scale = double(in) / double(out);
  if (mode == kResizeBilinear) {
    double src = fmax((o + 0.5) * scale - 0.5, 0.0);
    int64_t lo = min(int64_t(src), in - 1);
    int64_t hi = min(lo + 1, in - 1);
    double frac = src - double(lo);
    if (hi == lo) {
      taps.count = 1;
      taps.source[0] = lo;
      taps.weight[0] = 1.0;
    } else {
      taps.count = 2;
      taps.source[0] = lo;
      taps.weight[0] = 1.0 - frac;
      taps.source[1] = hi;
      taps.weight[1] = frac;
    }
  } else if (mode == kResizeNearest) {
    taps.count = 1;
    taps.source[0] = min(int64_t(floor(o * scale)), in - 1);
    taps.weight[0] = 1.0;
  } else {
    taps.isArea = true;
    taps.begin = o * in / out;
    taps.count = ((o + 1) * in + out - 1) / out - taps.begin;
  }
  return taps;
}

__device__ inline int64_t tapSource(const AxisTaps &taps, int64_t t) {
  return taps.isArea ? taps.begin + t : taps.source[t];
}
__device__ inline double tapWeight(const AxisTaps &taps, int64_t t) {
  return taps.isArea ? 1.0 / double(taps.count) : taps.weight[t];
}

__global__ void resizeForwardKernel(int mode, const float *x, float *y,
                                    int64_t planes, int64_t height,
                                    int64_t width, int64_t outH,
                                    int64_t outW) {
  KDRT_GRID_STRIDE(o, planes * outH * outW) {
    int64_t ow = o % outW, oh = (o / outW) % outH, p = o / (outW * outH);
    AxisTaps rows = axisTaps(mode, height, outH, oh);
    AxisTaps cols = axisTaps(mode, width, outW, ow);
    float sum = 0.0f;
    for (int64_t r = 0; r < rows.count; ++r)
      for (int64_t c = 0; c < cols.count; ++c)
        sum += float(tapWeight(rows, r) * tapWeight(cols, c)) *
               x[(p * height + tapSource(rows, r)) * width +
                 tapSource(cols, c)];
    y[o] = sum;
  }
}

__global__ void resizeBackwardKernel(int mode, const float *dy, float *dx,
                                     int64_t planes, int64_t height,
                                     int64_t width, int64_t outH,
                                     int64_t outW) {
  KDRT_GRID_STRIDE(o, planes * outH * outW) {
    int64_t ow = o % outW, oh = (o / outW) % outH, p = o / (outW * outH);
    AxisTaps rows = axisTaps(mode, height, outH, oh);
    AxisTaps cols = axisTaps(mode, width, outW, ow);
    for (int64_t r = 0; r < rows.count; ++r)
      for (int64_t c = 0; c < cols.count; ++c)
        atomicAdd(&dx[(p * height + tapSource(rows, r)) * width +
                      tapSource(cols, c)],
                  float(tapWeight(rows, r) * tapWeight(cols, c)) * dy[o]);
  }
}

__global__ void tokensKernel(const float *src, float *dst, int64_t batch,
                             int64_t channels, int64_t space, bool toTokens) {
  KDRT_GRID_STRIDE(i, batch * channels * space) {
    int64_t j = i % space, c = (i / space) % channels,
            n = i / (space * channels);
    int64_t image = (n * channels + c) * space + j;
    int64_t token = (n * space + j) * channels + c;
    if (toTokens)
      dst[token] = src[image];
    else
      dst[image] = src[token];
  }
}

__global__ void headSplitKernel(const float *src, float *dst, int64_t batch,
                                int64_t tokens, int64_t heads,
                                int64_t headWidth, bool toHeads) {
  KDRT_GRID_STRIDE(i, batch * tokens * heads * headWidth) {
    int64_t d = i % headWidth, t = (i / headWidth) % tokens,
            h = (i / (headWidth * tokens)) % heads,
            b = i / (headWidth * tokens * heads);
    int64_t split = i; // [B, H, N, hw]
    int64_t joined = ((b * tokens + t) * heads + h) * headWidth + d;
    if (toHeads)
      dst[split] = src[joined];
    else
      dst[joined] = src[split];
  }
}

} // namespace

cudaError_t launchAdaptivePoolForward(cudaStream_t stream, bool isMax,
                                      const float *x, float *y,
                                      int64_t planes, int64_t height,
                                      int64_t width, int64_t outH,
                                      int64_t outW) {
  int64_t count = planes * outH * outW;
  if (count == 0)
    return cudaSuccess;
  adaptivePoolForwardKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      isMax, x, y, planes, height, width, outH, outW);
  return cudaGetLastError();
}

cudaError_t launchAdaptivePoolBackward(cudaStream_t stream, bool isMax,
                                       const float *x, const float *dy,
                                       float *dx, int64_t planes,
                                       int64_t height, int64_t width,
                                       int64_t outH, int64_t outW) {
  cudaError_t error = cudaMemsetAsync(
      dx, 0, size_t(planes * height * width) * sizeof(float), stream);
  int64_t count = planes * outH * outW;
  if (error != cudaSuccess || count == 0)
    return error;
  adaptivePoolBackwardKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      isMax, x, dy, dx, planes, height, width, outH, outW);
  return cudaGetLastError();
}

cudaError_t launchResizeForward(cudaStream_t stream, int mode, const float *x,
                                float *y, int64_t planes, int64_t height,
                                int64_t width, int64_t outH, int64_t outW) {
  int64_t count = planes * outH * outW;
  if (count == 0)
    return cudaSuccess;
  resizeForwardKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      mode, x, y, planes, height, width, outH, outW);
  return cudaGetLastError();
}

cudaError_t launchResizeBackward(cudaStream_t stream, int mode,
                                 const float *dy, float *dx, int64_t planes,
                                 int64_t height, int64_t width, int64_t outH,
                                 int64_t outW) {
  cudaError_t error = cudaMemsetAsync(
      dx, 0, size_t(planes * height * width) * sizeof(float), stream);
  int64_t count = planes * outH * outW;
  if (error != cudaSuccess || count == 0)
    return error;
  resizeBackwardKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      mode, dy, dx, planes, height, width, outH, outW);
  return cudaGetLastError();
}

cudaError_t launchTokens(cudaStream_t stream, const float *src, float *dst,
                         int64_t batch, int64_t channels, int64_t space,
                         bool toTokens) {
  int64_t count = batch * channels * space;
  if (count == 0)
    return cudaSuccess;
  tokensKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      src, dst, batch, channels, space, toTokens);
  return cudaGetLastError();
}

cudaError_t launchHeadSplit(cudaStream_t stream, const float *src, float *dst,
                            int64_t batch, int64_t tokens, int64_t heads,
                            int64_t headWidth, bool toHeads) {
  int64_t count = batch * tokens * heads * headWidth;
  if (count == 0)
    return cudaSuccess;
  headSplitKernel<<<blocksFor(count), kThreads, 0, stream>>>(
      src, dst, batch, tokens, heads, headWidth, toHeads);
  return cudaGetLastError();
}

} // namespace kdrt::cudnn

//===- Pooling.h - Reference max/avg and adaptive pooling -------*- C++ -*-===//
//
// Every pooling variant is "reduce a rectangular window of each plane". The
// variants differ only in where the windows are and what avg divides by, so
// one window description drives forward and backward of all of them.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_POOLING_H
#define KDRT_REFERENCE_POOLING_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

#include <limits>

namespace kdrt::reference {

namespace detail {
/// Window [hBegin, hEnd) x [wBegin, wEnd) clipped to the plane, and the
/// divisor an average over it uses.
struct PoolWindow {
  int64_t hBegin, hEnd, wBegin, wEnd;
  int64_t divisor;
};

/// Runs visit(plane, outIndex, window) over all output positions; `window`
/// maps (oh, ow) to its PoolWindow.
template <typename WindowOf, typename Visit>
void forEachPoolWindow(const Shape &in, const Shape &out, WindowOf windowOf,
                       Visit visit) {
  int64_t planes = in[0] * in[1];
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oh = 0; oh < out[2]; ++oh)
      for (int64_t ow = 0; ow < out[3]; ++ow)
        visit(p, (p * out[2] + oh) * out[3] + ow, windowOf(oh, ow));
}

template <typename T, typename WindowOf>
void poolForward(PoolMode mode, const Shape &in, const Shape &out, const T *x,
                 T *y, WindowOf windowOf) {
  int64_t height = in[2], width = in[3];
  forEachPoolWindow(in, out, windowOf,
                    [&](int64_t p, int64_t o, const PoolWindow &win) {
                      const T *plane = x + p * height * width;
                      T result = mode == PoolMode::Max
                                     ? -std::numeric_limits<T>::infinity()
                                     : T(0);
                      for (int64_t h = win.hBegin; h < win.hEnd; ++h)
                        for (int64_t w = win.wBegin; w < win.wEnd; ++w) {
                          T v = plane[h * width + w];
                          if (mode == PoolMode::Max)
                            result = v > result ? v : result;
                          else
                            result += v;
                        }
                      y[o] = mode == PoolMode::Max ? result
                                                   : result / T(win.divisor);
                    });
}

template <typename T, typename WindowOf>
void poolBackward(PoolMode mode, const Shape &in, const Shape &out,
                  const T *x, const T *dy, T *dx, WindowOf windowOf) {
  int64_t height = in[2], width = in[3];
  std::fill(dx, dx + in.numElements(), T(0));
  forEachPoolWindow(
      in, out, windowOf, [&](int64_t p, int64_t o, const PoolWindow &win) {
        const T *plane = x + p * height * width;
        T *gradPlane = dx + p * height * width;
        if (mode == PoolMode::Avg) {
          for (int64_t h = win.hBegin; h < win.hEnd; ++h)
            for (int64_t w = win.wBegin; w < win.wEnd; ++w)
              gradPlane[h * width + w] += dy[o] / T(win.divisor);
          return;
        }
        // The first maximum in row-major order receives the gradient.
        int64_t best = -1;
        for (int64_t h = win.hBegin; h < win.hEnd; ++h)
          for (int64_t w = win.wBegin; w < win.wEnd; ++w)
            if (best < 0 || plane[h * width + w] > plane[best])
              best = h * width + w;
        if (best >= 0)
          gradPlane[best] += dy[o];
      });
}

inline Status pool2dOutputShape(const Pool2dDesc &desc, const Shape &in,
                                Shape &out) {
  const char *op = "pool2d";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", in, 4));
  if (desc.kernelH < 1 || desc.kernelW < 1 || desc.strideH < 1 ||
      desc.strideW < 1 || desc.padH < 0 || desc.padW < 0)
    return shapeError(op, "kernel and stride must be >= 1, padding >= 0");
  // As in PyTorch: a window must never lie entirely in the padding.
  if (desc.padH > desc.kernelH / 2 || desc.padW > desc.kernelW / 2)
    return shapeError(op, "padding must be at most half the kernel size");
  int64_t outH = (in[2] + 2 * desc.padH - desc.kernelH) / desc.strideH + 1;
  int64_t outW = (in[3] + 2 * desc.padW - desc.kernelW) / desc.strideW + 1;
  if (outH < 1 || outW < 1)
    return shapeError(op, "window does not fit input " + in.toString());
  out = Shape{in[0], in[1], outH, outW};
  return Status::success();
}

inline auto pool2dWindows(const Pool2dDesc &desc, const Shape &in) {
  return [desc, height = in[2], width = in[3]](int64_t oh, int64_t ow) {
    int64_t h0 = oh * desc.strideH - desc.padH;
    int64_t w0 = ow * desc.strideW - desc.padW;
    int64_t h1 = std::min(h0 + desc.kernelH, height + desc.padH);
    int64_t w1 = std::min(w0 + desc.kernelW, width + desc.padW);
    int64_t paddedArea = (h1 - h0) * (w1 - w0);
    PoolWindow win{std::max<int64_t>(h0, 0), std::min(h1, height),
                   std::max<int64_t>(w0, 0), std::min(w1, width), 0};
    win.divisor = desc.countIncludePad
                      ? paddedArea
                      : (win.hEnd - win.hBegin) * (win.wEnd - win.wBegin);
    return win;
  };
}

inline auto adaptiveWindows(const Shape &in, int64_t outH, int64_t outW) {
  return [height = in[2], width = in[3], outH, outW](int64_t oh, int64_t ow) {
    PoolWindow win{oh * height / outH, ((oh + 1) * height + outH - 1) / outH,
                   ow * width / outW, ((ow + 1) * width + outW - 1) / outW, 0};
    win.divisor = (win.hEnd - win.hBegin) * (win.wEnd - win.wBegin);
    return win;
  };
}

inline Status adaptivePoolCheck(const AdaptivePoolDesc &desc, const Shape &in,
                                const Shape &out, const char *what) {
  const char *op = "adaptive_pool";
  KDRT_RETURN_IF_ERROR(checkRank(op, "input", in, 4));
  if (desc.outputH < 1 || desc.outputW < 1)
    return shapeError(op, "output size must be positive");
  return checkShape(op, what, out,
                    Shape{in[0], in[1], desc.outputH, desc.outputW});
}
} // namespace detail

template <typename T>
Status pool2dForward(const Pool2dDesc &desc, TensorRef<const T> input,
                     TensorRef<T> output) {
  Shape outShape;
  KDRT_RETURN_IF_ERROR(detail::pool2dOutputShape(desc, input.shape, outShape));
  KDRT_RETURN_IF_ERROR(checkShape("pool2d", "output", output.shape, outShape));
  detail::poolForward(desc.mode, input.shape, outShape, input.data,
                      output.data, detail::pool2dWindows(desc, input.shape));
  return Status::success();
}

template <typename T>
Status pool2dBackward(const Pool2dDesc &desc, TensorRef<const T> input,
                      TensorRef<const T> gradOutput, TensorRef<T> gradInput) {
  Shape outShape;
  KDRT_RETURN_IF_ERROR(detail::pool2dOutputShape(desc, input.shape, outShape));
  KDRT_RETURN_IF_ERROR(
      checkShape("pool2d", "gradOutput", gradOutput.shape, outShape));
  KDRT_RETURN_IF_ERROR(
      checkShape("pool2d", "gradInput", gradInput.shape, input.shape));
  detail::poolBackward(desc.mode, input.shape, outShape, input.data,
                       gradOutput.data, gradInput.data,
                       detail::pool2dWindows(desc, input.shape));
  return Status::success();
}

template <typename T>
Status adaptivePoolForward(const AdaptivePoolDesc &desc,
                           TensorRef<const T> input, TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(
      detail::adaptivePoolCheck(desc, input.shape, output.shape, "output"));
  detail::poolForward(
      desc.mode, input.shape, output.shape, input.data, output.data,
      detail::adaptiveWindows(input.shape, desc.outputH, desc.outputW));
  return Status::success();
}

template <typename T>
Status adaptivePoolBackward(const AdaptivePoolDesc &desc,
                            TensorRef<const T> input,
                            TensorRef<const T> gradOutput,
                            TensorRef<T> gradInput) {
  KDRT_RETURN_IF_ERROR(detail::adaptivePoolCheck(
      desc, input.shape, gradOutput.shape, "gradOutput"));
  KDRT_RETURN_IF_ERROR(
      checkShape("adaptive_pool", "gradInput", gradInput.shape, input.shape));
  detail::poolBackward(
      desc.mode, input.shape, gradOutput.shape, input.data, gradOutput.data,
      gradInput.data,
      detail::adaptiveWindows(input.shape, desc.outputH, desc.outputW));
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_POOLING_H

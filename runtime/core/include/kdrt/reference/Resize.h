//===- Resize.h - Reference bilinear / nearest / area resize ----*- C++ -*-===//
//
// Every mode is linear in the input: out[o] = sum_i weight(o, i) * in[i]. One
// enumeration of the (o, i, weight) taps gives the forward and, transposed,
// the backward, which only needs the input's shape.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_RESIZE_H
#define KDRT_REFERENCE_RESIZE_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

#include <cmath>
#include <vector>

namespace kdrt::reference {

namespace detail {
struct ResizeTap {
  int64_t source;
  double weight;
};

/// Taps of one output coordinate along one axis (in = input size,
/// out = output size). Bilinear follows PyTorch with align_corners=false.
inline std::vector<ResizeTap> resizeTaps(ResizeMode mode, int64_t in,
                                         int64_t out, int64_t o) {
  double scale = double(in) / double(out);
  switch (mode) {
  case ResizeMode::Bilinear: {
    double src = std::max((o + 0.5) * scale - 0.5, 0.0);
    int64_t lo = std::min<int64_t>(int64_t(src), in - 1);
    int64_t hi = std::min<int64_t>(lo + 1, in - 1);
    double frac = src - double(lo);
    if (hi == lo)
      return {{lo, 1.0}};
    return {{lo, 1.0 - frac}, {hi, frac}};
  }
  case ResizeMode::Nearest:
    return {{std::min<int64_t>(int64_t(std::floor(o * scale)), in - 1), 1.0}};
  case ResizeMode::Area: {
    int64_t begin = o * in / out, end = ((o + 1) * in + out - 1) / out;
    std::vector<ResizeTap> taps;
    for (int64_t i = begin; i < end; ++i)
      taps.push_back({i, 1.0 / double(end - begin)});
    return taps;
  }
  }
  return {};
}

/// Calls visit(outIndex, inIndex, weight) for every tap; a 2-D tap is the
/// product of one tap per axis (all modes are separable).
template <typename Visit>
void forEachResizeTap(const ResizeDesc &desc, const Shape &in, Visit visit) {
  int64_t planes = in[0] * in[1], height = in[2], width = in[3];
  int64_t outH = desc.outputH, outW = desc.outputW;
  for (int64_t oh = 0; oh < outH; ++oh) {
    auto rowTaps = resizeTaps(desc.mode, height, outH, oh);
    for (int64_t ow = 0; ow < outW; ++ow) {
      auto colTaps = resizeTaps(desc.mode, width, outW, ow);
      for (int64_t p = 0; p < planes; ++p)
        for (const ResizeTap &row : rowTaps)
          for (const ResizeTap &col : colTaps)
            visit((p * outH + oh) * outW + ow,
                  (p * height + row.source) * width + col.source,
                  row.weight * col.weight);
    }
  }
}

inline Status resizeCheck(const ResizeDesc &desc, const Shape &in,
                          const Shape &out, const char *what) {
  KDRT_RETURN_IF_ERROR(checkRank("resize", "input", in, 4));
  if (desc.outputH < 1 || desc.outputW < 1 || in[2] < 1 || in[3] < 1)
    return shapeError("resize", "sizes must be positive");
  return checkShape("resize", what, out,
                    Shape{in[0], in[1], desc.outputH, desc.outputW});
}
} // namespace detail

template <typename T>
Status resizeForward(const ResizeDesc &desc, TensorRef<const T> input,
                     TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(
      detail::resizeCheck(desc, input.shape, output.shape, "output"));
  output.fill(T(0));
  detail::forEachResizeTap(desc, input.shape,
                           [&](int64_t o, int64_t i, double weight) {
                             output[o] += T(weight) * input[i];
                           });
  return Status::success();
}

/// gradInput's shape is the forward input's shape.
template <typename T>
Status resizeBackward(const ResizeDesc &desc, TensorRef<const T> gradOutput,
                      TensorRef<T> gradInput) {
  KDRT_RETURN_IF_ERROR(detail::resizeCheck(desc, gradInput.shape,
                                           gradOutput.shape, "gradOutput"));
  gradInput.fill(T(0));
  detail::forEachResizeTap(desc, gradInput.shape,
                           [&](int64_t o, int64_t i, double weight) {
                             gradInput[i] += T(weight) * gradOutput[o];
                           });
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_RESIZE_H

//===- ImageResize.cpp - Separable bilinear / area resampling -------------===//

#include "kdrt/data/ImageResize.h"

#include "kdrt/data/DataError.h"
#include "kdrt/reference/Resize.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace kdrt::data {
namespace {

struct Tap {
  int64_t index;
  float weight;
};

/// The taps of a named filter: the reference resize kernel's.
std::vector<std::vector<Tap>> namedTaps(ResizeMode mode, int64_t inSize,
                                        int64_t outSize) {
  std::vector<std::vector<Tap>> taps(outSize);
  for (int64_t o = 0; o < outSize; ++o)
    for (const reference::detail::ResizeTap &tap :
         reference::detail::resizeTaps(mode, inSize, outSize, o))
      taps[o].push_back({tap.source, float(tap.weight)});
  return taps;
}

/// For every output position along one axis, the input positions it reads
/// and their weights (which sum to one).
std::vector<std::vector<Tap>> axisTaps(int64_t inSize, int64_t outSize,
                                       ResizeFilter filter) {
  switch (filter) {
  case ResizeFilter::Bilinear:
    return namedTaps(ResizeMode::Bilinear, inSize, outSize);
  case ResizeFilter::Nearest:
    return namedTaps(ResizeMode::Nearest, inSize, outSize);
  case ResizeFilter::Area:
    return namedTaps(ResizeMode::Area, inSize, outSize);
  case ResizeFilter::Auto:
    break;
  }
  std::vector<std::vector<Tap>> taps(outSize);
  double scale = double(inSize) / double(outSize);
  if (outSize < inSize) {
    // Area: output o covers input interval [o*scale, (o+1)*scale).
    for (int64_t o = 0; o < outSize; ++o) {
      double begin = o * scale, end = (o + 1) * scale;
      int64_t first = int64_t(std::floor(begin));
      int64_t last = std::min<int64_t>(int64_t(std::ceil(end)), inSize);
      for (int64_t i = first; i < last; ++i) {
        double overlap = std::min<double>(end, i + 1) - std::max<double>(begin, i);
        if (overlap > 0)
          taps[o].push_back({i, float(overlap / scale)});
      }
    }
    return taps;
  }
  for (int64_t o = 0; o < outSize; ++o) {
    double source = (o + 0.5) * scale - 0.5;
    source = std::clamp(source, 0.0, double(inSize - 1));
    int64_t lower = int64_t(std::floor(source));
    int64_t upper = std::min(lower + 1, inSize - 1);
    float fraction = float(source - lower);
    taps[o].push_back({lower, 1.0f - fraction});
    if (upper != lower && fraction > 0)
      taps[o].push_back({upper, fraction});
  }
  return taps;
}

void checkSizes(int64_t channels, int64_t inHeight, int64_t inWidth,
                int64_t outHeight, int64_t outWidth) {
  if (channels <= 0 || inHeight <= 0 || inWidth <= 0 || outHeight <= 0 ||
      outWidth <= 0)
    throw DataError("cannot resize " + std::to_string(inHeight) + "x" +
                    std::to_string(inWidth) + " to " +
                    std::to_string(outHeight) + "x" +
                    std::to_string(outWidth) + " with " +
                    std::to_string(channels) + " channels");
}

} // namespace

void resizePlanes(const float *input, int64_t channels, int64_t inHeight,
                  int64_t inWidth, float *output, int64_t outHeight,
                  int64_t outWidth, ResizeFilter filter) {
  checkSizes(channels, inHeight, inWidth, outHeight, outWidth);
  if (inHeight == outHeight && inWidth == outWidth) {
    std::copy(input, input + channels * inHeight * inWidth, output);
    return;
  }
  std::vector<std::vector<Tap>> rowTaps = axisTaps(inHeight, outHeight, filter);
  std::vector<std::vector<Tap>> columnTaps =
      axisTaps(inWidth, outWidth, filter);
  // Rows first into an intermediate [outHeight x inWidth] plane.
  std::vector<float> rows(size_t(outHeight) * inWidth);
  for (int64_t c = 0; c < channels; ++c) {
    const float *plane = input + c * inHeight * inWidth;
    std::fill(rows.begin(), rows.end(), 0.0f);
    for (int64_t y = 0; y < outHeight; ++y)
      for (const Tap &tap : rowTaps[y])
        for (int64_t x = 0; x < inWidth; ++x)
          rows[y * inWidth + x] += tap.weight * plane[tap.index * inWidth + x];
    float *out = output + c * outHeight * outWidth;
    for (int64_t y = 0; y < outHeight; ++y)
      for (int64_t x = 0; x < outWidth; ++x) {
        float sum = 0;
        for (const Tap &tap : columnTaps[x])
          sum += tap.weight * rows[y * inWidth + tap.index];
        out[y * outWidth + x] = sum;
      }
  }
}

std::vector<uint8_t> resizePlanes(const std::vector<uint8_t> &input,
                                  int64_t channels, int64_t inHeight,
                                  int64_t inWidth, int64_t outHeight,
                                  int64_t outWidth) {
  checkSizes(channels, inHeight, inWidth, outHeight, outWidth);
  if (input.size() != size_t(channels * inHeight * inWidth))
    throw DataError("resize input holds " + std::to_string(input.size()) +
                    " bytes, expected " +
                    std::to_string(channels * inHeight * inWidth));
  std::vector<float> in(input.begin(), input.end());
  std::vector<float> out(size_t(channels * outHeight * outWidth));
  resizePlanes(in.data(), channels, inHeight, inWidth, out.data(), outHeight,
               outWidth);
  std::vector<uint8_t> result(out.size());
  for (size_t i = 0; i < out.size(); ++i)
    result[i] = uint8_t(std::clamp(std::lround(out[i]), 0L, 255L));
  return result;
}

} // namespace kdrt::data

//===- ImageResize.h - Resizing planar images ------------------*- C++ -*-===//
//
// Resizes C planes of H x W samples, each axis separately. The automatic
// filter (decoding image files to the declared size) interpolates bilinearly
// (half-pixel centres, like align_corners=False) where an axis grows and
// averages the covered area where it shrinks, so that downsampling weighs
// every input sample. The named filters are those of the `resize` layer and
// of a model's `transform resize(..., mode:)`, with the same taps as the
// reference kernel: bilinear interpolates whatever the direction (PyTorch's
// bilinear without antialiasing), nearest picks floor(o * in / out), area
// equals adaptive average pooling.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_IMAGERESIZE_H
#define KDRT_DATA_IMAGERESIZE_H

#include <cstdint>
#include <vector>

namespace kdrt::data {

enum class ResizeFilter { Auto, Bilinear, Nearest, Area };

/// Resizes `channels` planes [inHeight x inWidth] of `input` into `output`,
/// which must hold channels * outHeight * outWidth floats.
void resizePlanes(const float *input, int64_t channels, int64_t inHeight,
                  int64_t inWidth, float *output, int64_t outHeight,
                  int64_t outWidth, ResizeFilter filter = ResizeFilter::Auto);

/// The same on bytes, rounding to the nearest value.
std::vector<uint8_t> resizePlanes(const std::vector<uint8_t> &input,
                                  int64_t channels, int64_t inHeight,
                                  int64_t inWidth, int64_t outHeight,
                                  int64_t outWidth);

} // namespace kdrt::data

#endif // KDRT_DATA_IMAGERESIZE_H

//===- ImageResize.h - Resizing planar images ------------------*- C++ -*-===//
//
// Resizes C planes of H x W samples. Each axis is resampled separately:
// bilinear interpolation (half-pixel centres, like align_corners=False) when
// the axis grows or keeps its size, area averaging when it shrinks, so that
// downsampling averages every input sample instead of skipping some.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_IMAGERESIZE_H
#define KDRT_DATA_IMAGERESIZE_H

#include <cstdint>
#include <vector>

namespace kdrt::data {

/// Resizes `channels` planes [inHeight x inWidth] of `input` into `output`,
/// which must hold channels * outHeight * outWidth floats.
void resizePlanes(const float *input, int64_t channels, int64_t inHeight,
                  int64_t inWidth, float *output, int64_t outHeight,
                  int64_t outWidth);

/// The same on bytes, rounding to the nearest value.
std::vector<uint8_t> resizePlanes(const std::vector<uint8_t> &input,
                                  int64_t channels, int64_t inHeight,
                                  int64_t inWidth, int64_t outHeight,
                                  int64_t outWidth);

} // namespace kdrt::data

#endif // KDRT_DATA_IMAGERESIZE_H

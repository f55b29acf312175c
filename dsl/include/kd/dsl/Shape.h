//===- Shape.h - Per-sample tensor shapes -----------------------*- C++ -*-===//
//
// Shapes in the front end are per sample: the batch dimension is implicit.
// Images are [C, H, W], token sequences [N, D], vectors [D]; a loss is a
// scalar, the empty shape []. Diagnostics print shapes as `[64, 7, 7]`.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_SHAPE_H
#define KD_DSL_SHAPE_H

#include <cstdint>
#include <string>
#include <vector>

namespace kd {

using Shape = std::vector<int64_t>;

// `[64, 7, 7]`; the scalar shape prints as `[]`.
std::string formatShape(const Shape &shape);

// The number of elements of one sample (1 for a scalar).
int64_t numElements(const Shape &shape);

} // namespace kd

#endif // KD_DSL_SHAPE_H

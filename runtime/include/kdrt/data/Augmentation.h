//===- Augmentation.h - Seeded random image transforms ---------*- C++ -*-===//
//
// Augmentations are declared as a list of steps. For one sample the random
// choices of every step are drawn first (an AugmentationDraw, from a
// generator keyed by seed, epoch and sample index) and then applied; a draw
// can be applied to several views of the same image, which is how a teacher
// view and a student view get identical random transforms.
//
// Draws are stored relative to the image (a crop offset is a fraction of the
// free range), so one draw fits views of different sizes.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_AUGMENTATION_H
#define KDRT_DATA_AUGMENTATION_H

#include <cstdint>
#include <variant>
#include <vector>

namespace kdrt::data {

/// Pads with `padding` zeros on every side, then crops height x width at a
/// random position.
struct RandomCrop {
  int64_t height = 0;
  int64_t width = 0;
  int64_t padding = 0;
};
struct HorizontalFlip {
  double probability = 0.5;
};
struct VerticalFlip {
  double probability = 0.5;
};
/// Factors drawn uniformly from [max(0, 1 - x), 1 + x], as in torchvision.
struct ColorJitter {
  double brightness = 0;
  double contrast = 0;
  double saturation = 0;
};
struct Resize {
  int64_t height = 0;
  int64_t width = 0;
};
/// An angle drawn uniformly from [-maxDegrees, maxDegrees]; corners filled
/// with zeros.
struct RandomRotation {
  double maxDegrees = 0;
};

using AugmentationStep = std::variant<RandomCrop, HorizontalFlip, VerticalFlip,
                                      ColorJitter, Resize, RandomRotation>;

/// The random choices of one step for one sample.
struct StepDraw {
  double cropRow = 0;    // fraction of the free rows above the crop
  double cropColumn = 0; // fraction of the free columns left of the crop
  bool flip = false;
  double brightness = 1, contrast = 1, saturation = 1;
  double degrees = 0;
};

struct AugmentationDraw {
  std::vector<StepDraw> steps;
};

/// A planar float image, channels x height x width.
struct FloatImage {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> values;
};

/// Draws the random choices for sample `sample` of epoch `epoch`.
AugmentationDraw drawAugmentation(const std::vector<AugmentationStep> &steps,
                                  uint64_t seed, uint64_t epoch,
                                  uint64_t sample);

/// Applies the steps with the given draw. Pixel values are expected in
/// [0, 1]; colour jitter clamps to that range.
FloatImage applyAugmentation(const std::vector<AugmentationStep> &steps,
                             const AugmentationDraw &draw, FloatImage image);

/// Checks a step list (sizes positive, probabilities in [0, 1], ...) and
/// throws DataError describing the first bad step.
void validateAugmentation(const std::vector<AugmentationStep> &steps);

} // namespace kdrt::data

#endif // KDRT_DATA_AUGMENTATION_H

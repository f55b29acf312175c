//===- Augmentation.cpp - Seeded random image transforms ------------------===//

#include "kdrt/data/Augmentation.h"

#include "kdrt/data/DataError.h"
#include "kdrt/data/ImageResize.h"
#include "kdrt/data/SampleRng.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace kdrt::data {
namespace {

template <class... Ts> struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts> Overloaded(Ts...) -> Overloaded<Ts...>;

double jitterFactor(SampleRng &rng, double strength) {
  if (strength <= 0)
    return 1.0;
  return rng.uniform(std::max(0.0, 1.0 - strength), 1.0 + strength);
}

FloatImage crop(const RandomCrop &step, const StepDraw &draw,
                const FloatImage &image) {
  int64_t paddedHeight = image.height + 2 * step.padding;
  int64_t paddedWidth = image.width + 2 * step.padding;
  if (step.height > paddedHeight || step.width > paddedWidth)
    throw DataError("random crop of " + std::to_string(step.height) + "x" +
                    std::to_string(step.width) + " does not fit an image of " +
                    std::to_string(image.height) + "x" +
                    std::to_string(image.width) + " padded by " +
                    std::to_string(step.padding));
  int64_t freeRows = paddedHeight - step.height;
  int64_t freeColumns = paddedWidth - step.width;
  int64_t top = std::min<int64_t>(int64_t(draw.cropRow * (freeRows + 1)), freeRows);
  int64_t left = std::min<int64_t>(int64_t(draw.cropColumn * (freeColumns + 1)),
                                   freeColumns);
  FloatImage out{image.channels, step.height, step.width,
                 std::vector<float>(size_t(image.channels * step.height * step.width), 0.0f)};
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t y = 0; y < step.height; ++y) {
      int64_t sourceRow = top + y - step.padding;
      if (sourceRow < 0 || sourceRow >= image.height)
        continue; // zero padding
      for (int64_t x = 0; x < step.width; ++x) {
        int64_t sourceColumn = left + x - step.padding;
        if (sourceColumn < 0 || sourceColumn >= image.width)
          continue;
        out.values[(c * step.height + y) * step.width + x] =
            image.values[(c * image.height + sourceRow) * image.width +
                         sourceColumn];
      }
    }
  return out;
}

void flipColumns(FloatImage &image) {
  for (int64_t row = 0; row < image.channels * image.height; ++row)
    std::reverse(image.values.begin() + row * image.width,
                 image.values.begin() + (row + 1) * image.width);
}

void flipRows(FloatImage &image) {
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t y = 0; y < image.height / 2; ++y)
      std::swap_ranges(
          image.values.begin() + (c * image.height + y) * image.width,
          image.values.begin() + (c * image.height + y + 1) * image.width,
          image.values.begin() +
              (c * image.height + image.height - 1 - y) * image.width);
}

/// Per-pixel luma for RGB, the plane itself for gray.
std::vector<float> grayPlane(const FloatImage &image) {
  int64_t plane = image.height * image.width;
  std::vector<float> gray(image.values.begin(), image.values.begin() + plane);
  if (image.channels == 3)
    for (int64_t p = 0; p < plane; ++p)
      gray[p] = 0.299f * image.values[p] + 0.587f * image.values[plane + p] +
                0.114f * image.values[2 * plane + p];
  return gray;
}

void colorJitter(const StepDraw &draw, FloatImage &image) {
  auto clamp01 = [](float v) { return std::clamp(v, 0.0f, 1.0f); };
  for (float &v : image.values)
    v = clamp01(float(v * draw.brightness));
  if (draw.contrast != 1.0) {
    // Blend with the mean gray level, as torchvision's adjust_contrast.
    std::vector<float> gray = grayPlane(image);
    double mean = 0;
    for (float g : gray)
      mean += g;
    mean /= double(gray.size());
    for (float &v : image.values)
      v = clamp01(float(mean + draw.contrast * (v - mean)));
  }
  if (draw.saturation != 1.0 && image.channels == 3) {
    std::vector<float> gray = grayPlane(image);
    int64_t plane = image.height * image.width;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < plane; ++p) {
        float &v = image.values[c * plane + p];
        v = clamp01(float(gray[p] + draw.saturation * (v - gray[p])));
      }
  }
}

FloatImage resize(const Resize &step, const FloatImage &image) {
  FloatImage out{image.channels, step.height, step.width,
                 std::vector<float>(size_t(image.channels * step.height * step.width))};
  resizePlanes(image.values.data(), image.channels, image.height, image.width,
               out.values.data(), step.height, step.width);
  return out;
}

FloatImage rotate(const StepDraw &draw, const FloatImage &image) {
  if (draw.degrees == 0)
    return image;
  FloatImage out{image.channels, image.height, image.width,
                 std::vector<float>(image.values.size(), 0.0f)};
  double radians = draw.degrees * M_PI / 180.0;
  double cosine = std::cos(radians), sine = std::sin(radians);
  double centreY = (image.height - 1) / 2.0, centreX = (image.width - 1) / 2.0;
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x) {
      // Inverse rotation: where does output (y, x) come from?
      double dy = y - centreY, dx = x - centreX;
      double sourceX = cosine * dx + sine * dy + centreX;
      double sourceY = -sine * dx + cosine * dy + centreY;
      int64_t x0 = int64_t(std::floor(sourceX)), y0 = int64_t(std::floor(sourceY));
      double fx = sourceX - x0, fy = sourceY - y0;
      for (int64_t c = 0; c < image.channels; ++c) {
        auto at = [&](int64_t yy, int64_t xx) -> double {
          if (yy < 0 || yy >= image.height || xx < 0 || xx >= image.width)
            return 0.0;
          return image.values[(c * image.height + yy) * image.width + xx];
        };
        double value = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
                       fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
        out.values[(c * image.height + y) * image.width + x] = float(value);
      }
    }
  return out;
}

} // namespace

void validateAugmentation(const std::vector<AugmentationStep> &steps) {
  auto probability = [](double p, const char *name) {
    if (!(p >= 0 && p <= 1))
      throw DataError(std::string(name) + " probability must lie in [0, 1], "
                      "not " + std::to_string(p));
  };
  for (const AugmentationStep &step : steps)
    std::visit(
        Overloaded{
            [](const RandomCrop &s) {
              if (s.height <= 0 || s.width <= 0 || s.padding < 0)
                throw DataError("random crop needs a positive size and a "
                                "non-negative padding");
            },
            [&](const HorizontalFlip &s) { probability(s.probability, "hflip"); },
            [&](const VerticalFlip &s) { probability(s.probability, "vflip"); },
            [](const ColorJitter &s) {
              if (s.brightness < 0 || s.contrast < 0 || s.saturation < 0)
                throw DataError("colour jitter strengths must not be negative");
            },
            [](const Resize &s) {
              if (s.height <= 0 || s.width <= 0)
                throw DataError("resize needs a positive size");
            },
            [](const RandomRotation &s) {
              if (!(s.maxDegrees >= 0 && s.maxDegrees <= 180))
                throw DataError("rotation angle must lie in [0, 180] degrees");
            }},
        step);
}

AugmentationDraw drawAugmentation(const std::vector<AugmentationStep> &steps,
                                  uint64_t seed, uint64_t epoch,
                                  uint64_t sample) {
  SampleRng rng(seed, RandomStream::Augment, epoch, sample);
  AugmentationDraw draw;
  for (const AugmentationStep &step : steps) {
    StepDraw choice;
    std::visit(Overloaded{
                   [&](const RandomCrop &) {
                     choice.cropRow = rng.uniform();
                     choice.cropColumn = rng.uniform();
                   },
                   [&](const HorizontalFlip &s) {
                     choice.flip = rng.uniform() < s.probability;
                   },
                   [&](const VerticalFlip &s) {
                     choice.flip = rng.uniform() < s.probability;
                   },
                   [&](const ColorJitter &s) {
                     choice.brightness = jitterFactor(rng, s.brightness);
                     choice.contrast = jitterFactor(rng, s.contrast);
                     choice.saturation = jitterFactor(rng, s.saturation);
                   },
                   [&](const Resize &) {},
                   [&](const RandomRotation &s) {
                     choice.degrees = rng.uniform(-s.maxDegrees, s.maxDegrees);
                   }},
               step);
    draw.steps.push_back(choice);
  }
  return draw;
}

FloatImage applyAugmentation(const std::vector<AugmentationStep> &steps,
                             const AugmentationDraw &draw, FloatImage image) {
  if (draw.steps.size() != steps.size())
    throw DataError("augmentation draw has " +
                    std::to_string(draw.steps.size()) + " steps, expected " +
                    std::to_string(steps.size()));
  for (size_t i = 0; i < steps.size(); ++i) {
    const StepDraw &choice = draw.steps[i];
    std::visit(Overloaded{
                   [&](const RandomCrop &s) { image = crop(s, choice, image); },
                   [&](const HorizontalFlip &) {
                     if (choice.flip)
                       flipColumns(image);
                   },
                   [&](const VerticalFlip &) {
                     if (choice.flip)
                       flipRows(image);
                   },
                   [&](const ColorJitter &) { colorJitter(choice, image); },
                   [&](const Resize &s) { image = resize(s, image); },
                   [&](const RandomRotation &) { image = rotate(choice, image); }},
               steps[i]);
  }
  return image;
}

} // namespace kdrt::data

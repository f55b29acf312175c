//===- Normalization.h - Reference batch/layer/group norm -------*- C++ -*-===//
//
// All three normalize sets of elements to zero mean and unit variance (biased
// variance, eps inside the square root) and then apply a per-element affine
// map. They differ only in which elements form a set and which gamma/beta an
// element uses, so they share the two helpers below.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_NORMALIZATION_H
#define KDRT_REFERENCE_NORMALIZATION_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/TensorRef.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace kdrt::reference {

namespace detail {
/// Mean and 1/sqrt(var + eps) of the elements x[index(k)], k < count.
template <typename T, typename Index>
void setStatistics(const T *x, int64_t count, Index index, double eps,
                   T &mean, T &invStd, T &variance) {
  T sum = 0;
  for (int64_t k = 0; k < count; ++k)
    sum += x[index(k)];
  mean = sum / T(count);
  T squares = 0;
  for (int64_t k = 0; k < count; ++k) {
    T centered = x[index(k)] - mean;
    squares += centered * centered;
  }
  variance = squares / T(count);
  invStd = T(1) / std::sqrt(variance + T(eps));
}

/// Backward of y = xhat * gamma + beta through the set's own statistics:
/// dx = invStd/M * (M*g - sum g - xhat * sum(g*xhat)) with g = dy*gamma.
template <typename T, typename Index, typename Gamma>
void setStatisticsBackward(const T *x, const T *dy, T *dx, int64_t count,
                           Index index, Gamma gammaOf, T mean, T invStd) {
  T sumGrad = 0, sumGradXhat = 0;
  for (int64_t k = 0; k < count; ++k) {
    int64_t i = index(k);
    T g = dy[i] * gammaOf(i);
    sumGrad += g;
    sumGradXhat += g * (x[i] - mean) * invStd;
  }
  for (int64_t k = 0; k < count; ++k) {
    int64_t i = index(k);
    T xhat = (x[i] - mean) * invStd;
    T g = dy[i] * gammaOf(i);
    dx[i] = invStd / T(count) *
            (T(count) * g - sumGrad - xhat * sumGradXhat);
  }
}
} // namespace detail

//===----------------------------------------------------------------------===//
// Batch norm: one set per channel over batch and space.
//===----------------------------------------------------------------------===//

inline Status batchNormCheck(const Shape &input, const Shape &param,
                             const char *what) {
  if (input.rank() < 2)
    return shapeError("batch_norm", "input must be [N, C, ...], got " +
                                        input.toString());
  return checkShape("batch_norm", what, param, Shape{input[1]});
}

template <typename T>
Status batchNormForward(const BatchNormDesc &desc, TensorRef<const T> input,
                        TensorRef<const T> gamma, TensorRef<const T> beta,
                        TensorRef<T> runningMean, TensorRef<T> runningVar,
                        TensorRef<T> output) {
  const Shape &shape = input.shape;
  for (auto [ref, what] : {std::pair{gamma.shape, "gamma"},
                           std::pair{beta.shape, "beta"},
                           std::pair{runningMean.shape, "running mean"},
                           std::pair{runningVar.shape, "running var"}})
    KDRT_RETURN_IF_ERROR(batchNormCheck(shape, ref, what));
  KDRT_RETURN_IF_ERROR(checkShape("batch_norm", "output", output.shape, shape));
  int64_t batch = shape[0], channels = shape[1];
  int64_t space = productOf(shape, 2, shape.rank());
  int64_t count = batch * space;
  if (desc.training && count < 2)
    return shapeError("batch_norm", "training needs more than one value per "
                                    "channel, got " + shape.toString());
  for (int64_t c = 0; c < channels; ++c) {
    auto index = [&](int64_t k) {
      return ((k / space) * channels + c) * space + k % space;
    };
    T mean, invStd, variance;
    if (desc.training) {
      detail::setStatistics(input.data, count, index, desc.eps, mean, invStd,
                            variance);
      T momentum = T(desc.momentum);
      runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
      // PyTorch keeps the unbiased variance in the running estimate.
      runningVar[c] = (1 - momentum) * runningVar[c] +
                      momentum * variance * T(count) / T(count - 1);
    } else {
      mean = runningMean[c];
      invStd = T(1) / std::sqrt(runningVar[c] + T(desc.eps));
    }
    for (int64_t k = 0; k < count; ++k) {
      int64_t i = index(k);
      output[i] = (input[i] - mean) * invStd * gamma[c] + beta[c];
    }
  }
  return Status::success();
}

/// The scale gamma / sqrt(var + eps) and shift beta - mean * scale of
/// channel `c` of an inference batch norm, in double so that what is built
/// from them matches the batch norm to fp32 rounding.
template <typename T>
std::pair<double, double> batchNormScaleShiftOf(TensorRef<const T> gamma,
                                                TensorRef<const T> beta,
                                                TensorRef<const T> runningMean,
                                                TensorRef<const T> runningVar,
                                                double eps, int64_t c) {
  double scale = double(gamma[c]) / std::sqrt(double(runningVar[c]) + eps);
  return {scale, double(beta[c]) - double(runningMean[c]) * scale};
}

/// Checks the parameters of an inference batch norm on `vector` ([C])
/// channels.
template <typename T>
Status checkInferenceNorm(const char *op, const Shape &vector,
                          TensorRef<const T> gamma, TensorRef<const T> beta,
                          TensorRef<const T> runningMean,
                          TensorRef<const T> runningVar) {
  for (auto [ref, what] : {std::pair{gamma.shape, "gamma"},
                           std::pair{beta.shape, "beta"},
                           std::pair{runningMean.shape, "running mean"},
                           std::pair{runningVar.shape, "running var"}})
    KDRT_RETURN_IF_ERROR(checkShape(op, what, ref, vector));
  return Status::success();
}

/// An inference batch norm as per-channel scale and shift (Backend.h).
template <typename T>
Status batchNormScaleShift(const BatchNormScaleShiftDesc &desc,
                           TensorRef<const T> gamma, TensorRef<const T> beta,
                           TensorRef<const T> runningMean,
                           TensorRef<const T> runningVar, TensorRef<T> scale,
                           TensorRef<T> shift) {
  const char *op = "batch_norm_scale_shift";
  if (gamma.rank() != 1)
    return shapeError(op, "gamma must be [C], got " + gamma.shape.toString());
  if (!(desc.eps > 0))
    return shapeError(op, "eps must be positive");
  Shape vector{gamma.dim(0)};
  KDRT_RETURN_IF_ERROR(
      checkInferenceNorm(op, vector, gamma, beta, runningMean, runningVar));
  KDRT_RETURN_IF_ERROR(checkShape(op, "scale", scale.shape, vector));
  KDRT_RETURN_IF_ERROR(checkShape(op, "shift", shift.shape, vector));
  for (int64_t c = 0; c < gamma.dim(0); ++c) {
    auto [s, t] = batchNormScaleShiftOf(gamma, beta, runningMean, runningVar,
                                        desc.eps, c);
    scale[c] = T(s);
    shift[c] = T(t);
  }
  return Status::success();
}

/// The layer before an inference batch norm with the norm folded in:
/// foldedWeight[o] = weight[o] * scale and foldedBias[o] = bias[o] * scale
/// + shift, with (scale, shift) = scaleShiftOf(o) and `weight` laid out as
/// [channels, perChannel]; `bias` may be null.
template <typename T, typename ScaleShiftOf>
void foldScaleShift(const T *weight, const T *bias, int64_t channels,
                    int64_t perChannel, ScaleShiftOf scaleShiftOf,
                    T *foldedWeight, T *foldedBias) {
  for (int64_t o = 0; o < channels; ++o) {
    auto [scale, shift] = scaleShiftOf(o);
    for (int64_t k = 0; k < perChannel; ++k)
      foldedWeight[o * perChannel + k] =
          T(double(weight[o * perChannel + k]) * double(scale));
    double layerBias = bias ? double(bias[o]) : 0.0;
    foldedBias[o] = T(layerBias * double(scale) + double(shift));
  }
}

/// An inference batch norm folded into the layer before it (Backend.h):
/// the folded bias is bias * scale + shift.
template <typename T>
Status foldBatchNorm(const FoldBatchNormDesc &desc, TensorRef<const T> weight,
                     TensorRef<const T> bias, TensorRef<const T> gamma,
                     TensorRef<const T> beta, TensorRef<const T> runningMean,
                     TensorRef<const T> runningVar, TensorRef<T> foldedWeight,
                     TensorRef<T> foldedBias) {
  const char *op = "fold_batch_norm";
  if (weight.rank() < 2)
    return shapeError(op, "weight must be [O, ...] with an output-channel "
                          "dimension, got " + weight.shape.toString());
  if (!(desc.eps > 0))
    return shapeError(op, "eps must be positive");
  int64_t channels = weight.dim(0);
  Shape vector{channels};
  KDRT_RETURN_IF_ERROR(checkOptional(op, "bias", bias, vector));
  KDRT_RETURN_IF_ERROR(
      checkInferenceNorm(op, vector, gamma, beta, runningMean, runningVar));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "folded bias", foldedBias.shape, vector));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "folded weight", foldedWeight.shape, weight.shape));
  int64_t perChannel = weight.numElements() / std::max<int64_t>(channels, 1);
  foldScaleShift(
      weight.data, bias.data, channels, perChannel,
      [&](int64_t o) {
        return batchNormScaleShiftOf(gamma, beta, runningMean, runningVar,
                                     desc.eps, o);
      },
      foldedWeight.data, foldedBias.data);
  return Status::success();
}

template <typename T>
Status batchNormBackward(const BatchNormDesc &desc, TensorRef<const T> input,
                         TensorRef<const T> gamma,
                         TensorRef<const T> runningMean,
                         TensorRef<const T> runningVar,
                         TensorRef<const T> gradOutput, TensorRef<T> gradInput,
                         TensorRef<T> gradGamma, TensorRef<T> gradBeta) {
  const Shape &shape = input.shape;
  const char *op = "batch_norm";
  KDRT_RETURN_IF_ERROR(batchNormCheck(shape, gamma.shape, "gamma"));
  KDRT_RETURN_IF_ERROR(batchNormCheck(shape, runningMean.shape, "running mean"));
  KDRT_RETURN_IF_ERROR(batchNormCheck(shape, runningVar.shape, "running var"));
  KDRT_RETURN_IF_ERROR(checkShape(op, "gradOutput", gradOutput.shape, shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradInput", gradInput, shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradGamma", gradGamma, gamma.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradBeta", gradBeta, gamma.shape));
  int64_t batch = shape[0], channels = shape[1];
  int64_t space = productOf(shape, 2, shape.rank());
  int64_t count = batch * space;
  if (desc.training && count < 2)
    return shapeError(op, "training needs more than one value per channel");
  for (int64_t c = 0; c < channels; ++c) {
    auto index = [&](int64_t k) {
      return ((k / space) * channels + c) * space + k % space;
    };
    T mean, invStd, variance;
    if (desc.training) {
      detail::setStatistics(input.data, count, index, desc.eps, mean, invStd,
                            variance);
    } else {
      mean = runningMean[c];
      invStd = T(1) / std::sqrt(runningVar[c] + T(desc.eps));
    }
    T sumGrad = 0, sumGradXhat = 0;
    for (int64_t k = 0; k < count; ++k) {
      int64_t i = index(k);
      sumGrad += gradOutput[i];
      sumGradXhat += gradOutput[i] * (input[i] - mean) * invStd;
    }
    if (gradGamma.present())
      gradGamma[c] = sumGradXhat;
    if (gradBeta.present())
      gradBeta[c] = sumGrad;
    if (!gradInput.present())
      continue;
    if (desc.training) {
      detail::setStatisticsBackward(
          input.data, gradOutput.data, gradInput.data, count, index,
          [&](int64_t) { return gamma[c]; }, mean, invStd);
    } else {
      for (int64_t k = 0; k < count; ++k)
        gradInput[index(k)] = gradOutput[index(k)] * gamma[c] * invStd;
    }
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Layer norm and group norm: the sets are contiguous rows.
//===----------------------------------------------------------------------===//

namespace detail {
/// Rows of `rowLength` contiguous elements; affineIndex(j) maps a position
/// in a row to its gamma/beta entry.
template <typename T, typename AffineIndex>
void rowNormForward(const T *x, const T *gamma, const T *beta, T *y,
                    int64_t rows, int64_t rowLength, double eps,
                    AffineIndex affineIndex) {
  for (int64_t r = 0; r < rows; ++r) {
    auto index = [&](int64_t k) { return r * rowLength + k; };
    T mean, invStd, variance;
    setStatistics(x, rowLength, index, eps, mean, invStd, variance);
    for (int64_t k = 0; k < rowLength; ++k) {
      T value = (x[index(k)] - mean) * invStd;
      if (gamma)
        value *= gamma[affineIndex(k)];
      if (beta)
        value += beta[affineIndex(k)];
      y[index(k)] = value;
    }
  }
}

template <typename T, typename AffineIndex>
void rowNormBackward(const T *x, const T *gamma, const T *dy, T *dx,
                     T *dGamma, T *dBeta, int64_t affineCount, int64_t rows,
                     int64_t rowLength, double eps, AffineIndex affineIndex) {
  if (dGamma)
    std::fill(dGamma, dGamma + affineCount, T(0));
  if (dBeta)
    std::fill(dBeta, dBeta + affineCount, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    auto index = [&](int64_t k) { return r * rowLength + k; };
    T mean, invStd, variance;
    setStatistics(x, rowLength, index, eps, mean, invStd, variance);
    for (int64_t k = 0; k < rowLength; ++k) {
      T xhat = (x[index(k)] - mean) * invStd;
      if (dGamma)
        dGamma[affineIndex(k)] += dy[index(k)] * xhat;
      if (dBeta)
        dBeta[affineIndex(k)] += dy[index(k)];
    }
    if (dx)
      setStatisticsBackward(
          x, dy, dx, rowLength, index,
          [&](int64_t i) {
            return gamma ? gamma[affineIndex(i - r * rowLength)] : T(1);
          },
          mean, invStd);
  }
}
} // namespace detail

inline Status layerNormCheck(const LayerNormDesc &desc, const Shape &input,
                             const Shape *gamma, const Shape *beta) {
  const char *op = "layer_norm";
  if (desc.normalizedRank < 1 ||
      static_cast<size_t>(desc.normalizedRank) > input.rank())
    return shapeError(op, "cannot normalize the last " +
                              std::to_string(desc.normalizedRank) +
                              " dimensions of " + input.toString());
  Shape affine = trailingShape(input, desc.normalizedRank);
  if (gamma)
    KDRT_RETURN_IF_ERROR(checkShape(op, "gamma", *gamma, affine));
  if (beta)
    KDRT_RETURN_IF_ERROR(checkShape(op, "beta", *beta, affine));
  return Status::success();
}

template <typename T>
Status layerNormForward(const LayerNormDesc &desc, TensorRef<const T> input,
                        TensorRef<const T> gamma, TensorRef<const T> beta,
                        TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(layerNormCheck(
      desc, input.shape, gamma.present() ? &gamma.shape : nullptr,
      beta.present() ? &beta.shape : nullptr));
  KDRT_RETURN_IF_ERROR(
      checkShape("layer_norm", "output", output.shape, input.shape));
  int64_t rowLength = productOf(input.shape, input.rank() - desc.normalizedRank,
                                input.rank());
  detail::rowNormForward(input.data, gamma.data, beta.data, output.data,
                         input.numElements() / rowLength, rowLength, desc.eps,
                         [](int64_t k) { return k; });
  return Status::success();
}

template <typename T>
Status layerNormBackward(const LayerNormDesc &desc, TensorRef<const T> input,
                         TensorRef<const T> gamma,
                         TensorRef<const T> gradOutput, TensorRef<T> gradInput,
                         TensorRef<T> gradGamma, TensorRef<T> gradBeta) {
  const char *op = "layer_norm";
  KDRT_RETURN_IF_ERROR(layerNormCheck(
      desc, input.shape, gamma.present() ? &gamma.shape : nullptr, nullptr));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradOutput", gradOutput.shape, input.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradInput", gradInput, input.shape));
  Shape affine = trailingShape(input.shape, desc.normalizedRank);
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradGamma", gradGamma, affine));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradBeta", gradBeta, affine));
  int64_t rowLength = affine.numElements();
  detail::rowNormBackward(input.data, gamma.data, gradOutput.data,
                          gradInput.data, gradGamma.data, gradBeta.data,
                          rowLength, input.numElements() / rowLength,
                          rowLength, desc.eps, [](int64_t k) { return k; });
  return Status::success();
}

inline Status groupNormCheck(const GroupNormDesc &desc, const Shape &input,
                             const Shape *gamma, const Shape *beta) {
  const char *op = "group_norm";
  if (input.rank() < 2)
    return shapeError(op, "input must be [N, C, ...], got " + input.toString());
  if (desc.groups < 1 || input[1] % desc.groups != 0)
    return shapeError(op, std::to_string(input[1]) +
                              " channels cannot be split into " +
                              std::to_string(desc.groups) + " groups");
  if (gamma)
    KDRT_RETURN_IF_ERROR(checkShape(op, "gamma", *gamma, Shape{input[1]}));
  if (beta)
    KDRT_RETURN_IF_ERROR(checkShape(op, "beta", *beta, Shape{input[1]}));
  return Status::success();
}

template <typename T>
Status groupNormForward(const GroupNormDesc &desc, TensorRef<const T> input,
                        TensorRef<const T> gamma, TensorRef<const T> beta,
                        TensorRef<T> output) {
  KDRT_RETURN_IF_ERROR(groupNormCheck(
      desc, input.shape, gamma.present() ? &gamma.shape : nullptr,
      beta.present() ? &beta.shape : nullptr));
  KDRT_RETURN_IF_ERROR(
      checkShape("group_norm", "output", output.shape, input.shape));
  int64_t space = productOf(input.shape, 2, input.rank());
  int64_t groupChannels = input.dim(1) / desc.groups;
  int64_t rowLength = groupChannels * space;
  int64_t rows = input.dim(0) * desc.groups;
  // Row r is (n, g); position k of it is channel g*Cg + k/space.
  for (int64_t r = 0; r < rows; ++r) {
    int64_t firstChannel = (r % desc.groups) * groupChannels;
    detail::rowNormForward(input.data + r * rowLength, gamma.data, beta.data,
                           output.data + r * rowLength, 1, rowLength, desc.eps,
                           [&](int64_t k) { return firstChannel + k / space; });
  }
  return Status::success();
}

template <typename T>
Status groupNormBackward(const GroupNormDesc &desc, TensorRef<const T> input,
                         TensorRef<const T> gamma,
                         TensorRef<const T> gradOutput, TensorRef<T> gradInput,
                         TensorRef<T> gradGamma, TensorRef<T> gradBeta) {
  const char *op = "group_norm";
  KDRT_RETURN_IF_ERROR(groupNormCheck(
      desc, input.shape, gamma.present() ? &gamma.shape : nullptr, nullptr));
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "gradOutput", gradOutput.shape, input.shape));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradInput", gradInput, input.shape));
  Shape channels{input.dim(1)};
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradGamma", gradGamma, channels));
  KDRT_RETURN_IF_ERROR(checkOptional(op, "gradBeta", gradBeta, channels));
  int64_t space = productOf(input.shape, 2, input.rank());
  int64_t groupChannels = input.dim(1) / desc.groups;
  int64_t rowLength = groupChannels * space;
  int64_t rows = input.dim(0) * desc.groups;
  // Per-row partial sums of dgamma/dbeta, added up over the batch below.
  std::vector<T> partialGamma(channels[0]), partialBeta(channels[0]);
  if (gradGamma.present())
    gradGamma.fill(T(0));
  if (gradBeta.present())
    gradBeta.fill(T(0));
  for (int64_t r = 0; r < rows; ++r) {
    int64_t firstChannel = (r % desc.groups) * groupChannels;
    detail::rowNormBackward(
        input.data + r * rowLength, gamma.data,
        gradOutput.data + r * rowLength,
        gradInput.present() ? gradInput.data + r * rowLength : nullptr,
        partialGamma.data(), partialBeta.data(), channels[0], 1, rowLength,
        desc.eps, [&](int64_t k) { return firstChannel + k / space; });
    for (int64_t c = 0; c < channels[0]; ++c) {
      if (gradGamma.present())
        gradGamma[c] += partialGamma[c];
      if (gradBeta.present())
        gradBeta[c] += partialBeta[c];
    }
  }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_NORMALIZATION_H

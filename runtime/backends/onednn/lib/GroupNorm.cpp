//===- GroupNorm.cpp - Group normalization as vectorisable host loops -----===//
//
// oneDNN 2.6 has no group normalization. The reference kernel maps every
// element to its channel with a division and runs single-threaded; here a
// row (sample n, group g) is Cg channels of `space` contiguous values
// (row-major), so each channel is a contiguous run:
//
//   forward:  mean and variance of the row in double (two passes), then
//             y = x * a_c + b_c per channel with a_c = gamma_c * invStd,
//             b_c = beta_c - mean * a_c;
//   backward: per channel, sum(dy) and sum(dy * xhat) (dbeta and dgamma of
//             the row, added up over the batch at the end), the row's
//             sum(g) and sum(g * xhat) with g = dy * gamma_c, then
//             dx = invStd / M * (M g - sum(g) - xhat sum(g xhat)).
//
// Rows run in parallel (OpenMP); each writes only its own part of the
// per-row partial sums, so the result does not depend on the thread count.
// The conformance suite compares both directions with the reference.
//
//===----------------------------------------------------------------------===//

#include "Ops.h"

#include "kdrt/reference/Kernels.h"

#include <cmath>
#include <vector>

namespace kdrt::onednn {
namespace {

struct GroupGeometry {
  int64_t batch, channels, groups, groupChannels, space;
  int64_t rows() const { return batch * groups; }
  int64_t rowLength() const { return groupChannels * space; }
};

GroupGeometry geometryOf(const GroupNormDesc &desc, const Shape &input) {
  GroupGeometry g;
  g.batch = input[0];
  g.channels = input[1];
  g.groups = desc.groups;
  g.groupChannels = g.channels / g.groups;
  g.space = 1;
  for (size_t d = 2; d < input.rank(); ++d)
    g.space *= input[d];
  return g;
}

/// Mean and 1/sqrt(var + eps) of `count` values, in double.
void rowStatistics(const float *x, int64_t count, double eps, double &mean,
                   double &invStd) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t k = 0; k < count; ++k)
    sum += x[k];
  mean = sum / double(count);
  double squares = 0;
  const double m = mean;
#pragma omp simd reduction(+ : squares)
  for (int64_t k = 0; k < count; ++k) {
    double centered = double(x[k]) - m;
    squares += centered * centered;
  }
  invStd = 1.0 / std::sqrt(squares / double(count) + eps);
}

Status checkGroupNorm(const GroupNormDesc &desc, const Tensor &input,
                      const Tensor *gamma, const Tensor *beta) {
  if (input.layout() != Layout::RowMajor)
    return Status::internal("group_norm: the host kernel needs a row-major "
                            "input");
  Shape gammaShape = gamma ? gamma->shape() : Shape();
  Shape betaShape = beta ? beta->shape() : Shape();
  return reference::groupNormCheck(desc, input.shape(),
                                   gamma ? &gammaShape : nullptr,
                                   beta ? &betaShape : nullptr);
}

} // namespace

Status groupNormForward(const GroupNormDesc &desc, const Tensor &input,
                        const Tensor *gamma, const Tensor *beta,
                        Tensor &output) {
  KDRT_RETURN_IF_ERROR(checkGroupNorm(desc, input, gamma, beta));
  KDRT_RETURN_IF_ERROR(reference::checkShape("group_norm", "output",
                                             output.shape(), input.shape()));
  GroupGeometry g = geometryOf(desc, input.shape());
  const float *x = input.data();
  float *y = output.data();
  const float *gammaData = gamma ? gamma->data() : nullptr;
  const float *betaData = beta ? beta->data() : nullptr;
#pragma omp parallel for
  for (int64_t r = 0; r < g.rows(); ++r) {
    const float *row = x + r * g.rowLength();
    float *out = y + r * g.rowLength();
    double mean = 0, invStd = 0;
    rowStatistics(row, g.rowLength(), desc.eps, mean, invStd);
    int64_t firstChannel = (r % g.groups) * g.groupChannels;
    for (int64_t j = 0; j < g.groupChannels; ++j) {
      int64_t c = firstChannel + j;
      // Centred first: folding the mean into the shift would cancel
      // digits when the mean is large against the spread.
      float a = float(invStd * (gammaData ? gammaData[c] : 1.0));
      float b = betaData ? betaData[c] : 0.0f;
      float m = float(mean);
      const float *in = row + j * g.space;
      float *o = out + j * g.space;
#pragma omp simd
      for (int64_t k = 0; k < g.space; ++k)
        o[k] = (in[k] - m) * a + b;
    }
  }
  return Status::success();
}

Status groupNormBackward(const GroupNormDesc &desc, const Tensor &input,
                         const Tensor *gamma, const Tensor &gradOutput,
                         Tensor *gradInput, Tensor *gradGamma,
                         Tensor *gradBeta) {
  const char *op = "group_norm";
  KDRT_RETURN_IF_ERROR(checkGroupNorm(desc, input, gamma, nullptr));
  KDRT_RETURN_IF_ERROR(reference::checkShape(op, "gradOutput",
                                             gradOutput.shape(), input.shape()));
  if (gradInput)
    KDRT_RETURN_IF_ERROR(reference::checkShape(op, "gradInput",
                                               gradInput->shape(),
                                               input.shape()));
  Shape channels{input.dim(1)};
  if (gradGamma)
    KDRT_RETURN_IF_ERROR(
        reference::checkShape(op, "gradGamma", gradGamma->shape(), channels));
  if (gradBeta)
    KDRT_RETURN_IF_ERROR(
        reference::checkShape(op, "gradBeta", gradBeta->shape(), channels));
  GroupGeometry g = geometryOf(desc, input.shape());
  const float *x = input.data();
  const float *dy = gradOutput.data();
  float *dx = gradInput ? gradInput->data() : nullptr;
  const float *gammaData = gamma ? gamma->data() : nullptr;
  // Per (sample, channel): sum(dy * xhat) and sum(dy), added up over the
  // samples after the parallel loop.
  std::vector<double> partialGamma(size_t(g.batch * g.channels));
  std::vector<double> partialBeta(size_t(g.batch * g.channels));
  const double count = double(g.rowLength());
#pragma omp parallel for
  for (int64_t r = 0; r < g.rows(); ++r) {
    const float *row = x + r * g.rowLength();
    const float *gradRow = dy + r * g.rowLength();
    double mean = 0, invStd = 0;
    rowStatistics(row, g.rowLength(), desc.eps, mean, invStd);
    int64_t n = r / g.groups;
    int64_t firstChannel = (r % g.groups) * g.groupChannels;
    double sumG = 0, sumGXhat = 0;
    for (int64_t j = 0; j < g.groupChannels; ++j) {
      int64_t c = firstChannel + j;
      const float *in = row + j * g.space;
      const float *grad = gradRow + j * g.space;
      double sumDy = 0, sumDyXhat = 0;
      const double m = mean, s = invStd;
#pragma omp simd reduction(+ : sumDy, sumDyXhat)
      for (int64_t k = 0; k < g.space; ++k) {
        double xhat = (double(in[k]) - m) * s;
        sumDy += grad[k];
        sumDyXhat += double(grad[k]) * xhat;
      }
      partialBeta[size_t(n * g.channels + c)] = sumDy;
      partialGamma[size_t(n * g.channels + c)] = sumDyXhat;
      double gammaC = gammaData ? gammaData[c] : 1.0;
      sumG += gammaC * sumDy;
      sumGXhat += gammaC * sumDyXhat;
    }
    if (!dx)
      continue;
    float *out = dx + r * g.rowLength();
    // dx = invStd * gamma_c * dy - invStd/M * (sumG + xhat * sumGXhat),
    // with xhat = (x - mean) * invStd: per channel,
    // dx = dy * dyScale + (x - mean) * xScale + shift.
    double meanG = sumG / count, meanGXhat = sumGXhat / count;
    float xScale = float(-invStd * invStd * meanGXhat);
    float shift = float(-invStd * meanG);
    float m = float(mean);
    for (int64_t j = 0; j < g.groupChannels; ++j) {
      int64_t c = firstChannel + j;
      float dyScale = float(invStd * (gammaData ? gammaData[c] : 1.0));
      const float *in = row + j * g.space;
      const float *grad = gradRow + j * g.space;
      float *o = out + j * g.space;
#pragma omp simd
      for (int64_t k = 0; k < g.space; ++k)
        o[k] = grad[k] * dyScale + (in[k] - m) * xScale + shift;
    }
  }
  for (Tensor *target : {gradGamma, gradBeta}) {
    if (!target)
      continue;
    const std::vector<double> &partial =
        target == gradGamma ? partialGamma : partialBeta;
    for (int64_t c = 0; c < g.channels; ++c) {
      double sum = 0;
      for (int64_t n = 0; n < g.batch; ++n)
        sum += partial[size_t(n * g.channels + c)];
      target->data()[c] = float(sum);
    }
  }
  return Status::success();
}

} // namespace kdrt::onednn

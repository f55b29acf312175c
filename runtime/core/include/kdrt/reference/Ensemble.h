//===- Ensemble.h - Reference ensemble combine ------------------*- C++ -*-===//
//
// The logits of a teacher ensemble at temperature T: per sample b the
// members' softened predictions p_m = softmax(z_m / T) are mixed with
// weights w_bm that sum to 1, and the mixture p is written as T * log(p),
// so that softmax(output / T) = p. The log of the mixture is a log-sum-exp
// over the members of log w_m + log p_m, which stays finite however small
// a probability is. Members with weight 0 are left out of the sum.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_ENSEMBLE_H
#define KDRT_REFERENCE_ENSEMBLE_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/LogitLosses.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace kdrt::reference {

namespace detail {
/// The weights of one sample's members, which sum to 1: from `fixed` (already
/// normalised), from the entropies of the softened predictions `logProbs`
/// (M rows of K), or from the members' cross-entropies `crossEntropies`.
template <typename T>
void ensembleWeights(EnsembleWeighting weighting, const std::vector<T> &fixed,
                     const std::vector<T> &logProbs,
                     const std::vector<T> &crossEntropies, int64_t members,
                     int64_t classes, std::vector<T> &weights) {
  weights.assign(size_t(members), T(1) / T(members));
  if (weighting == EnsembleWeighting::Fixed) {
    weights = fixed;
    return;
  }
  if (members == 1)
    return;
  std::vector<T> score(static_cast<size_t>(members));
  if (weighting == EnsembleWeighting::Entropy) {
    T total = 0;
    for (int64_t m = 0; m < members; ++m) {
      T h = 0;
      for (int64_t k = 0; k < classes; ++k) {
        T logP = logProbs[size_t(m * classes + k)];
        h -= std::exp(logP) * logP;
      }
      score[size_t(m)] = std::max(h, T(0));
      total += score[size_t(m)];
    }
    if (!(total > T(0)))
      return; // every member is certain: none is preferred
    for (int64_t m = 0; m < members; ++m)
      weights[size_t(m)] =
          (T(1) - score[size_t(m)] / total) / T(members - 1);
    return;
  }
  // Confidence-aware: softmax over the members of their cross-entropies.
  T largest = crossEntropies[0];
  for (int64_t m = 1; m < members; ++m)
    largest = std::max(largest, crossEntropies[size_t(m)]);
  T sum = 0;
  for (int64_t m = 0; m < members; ++m)
    sum += score[size_t(m)] = std::exp(crossEntropies[size_t(m)] - largest);
  for (int64_t m = 0; m < members; ++m)
    weights[size_t(m)] = (T(1) - score[size_t(m)] / sum) / T(members - 1);
}
} // namespace detail

template <typename T>
Status ensembleCombine(const EnsembleCombineDesc &desc,
                       const std::vector<TensorRef<const T>> &members,
                       TensorRef<const T> weights, TensorRef<const T> labels,
                       TensorRef<T> output) {
  const char *op = "ensemble_combine";
  if (members.empty())
    return shapeError(op, "needs at least one member");
  if (!(desc.temperature > 0))
    return shapeError(op, "temperature must be positive");
  KDRT_RETURN_IF_ERROR(detail::logitsCheck(op, output.shape));
  int64_t count = int64_t(members.size());
  int64_t batch = output.dim(0), classes = output.dim(1);
  for (const TensorRef<const T> &member : members) {
    KDRT_RETURN_IF_ERROR(checkPresent(op, "member", member));
    KDRT_RETURN_IF_ERROR(checkShape(op, "member", member.shape, output.shape));
  }
  std::vector<T> fixed;
  if (desc.weighting == EnsembleWeighting::Fixed) {
    KDRT_RETURN_IF_ERROR(checkPresent(op, "weights", weights));
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "weights", weights.shape, Shape{count}));
    T total = 0;
    for (int64_t m = 0; m < count; ++m) {
      if (!(weights[m] >= T(0)) || !std::isfinite(double(weights[m])))
        return shapeError(op, "weight " + std::to_string(double(weights[m])) +
                                  " of member " + std::to_string(m) +
                                  " is not a finite non-negative number");
      total += weights[m];
    }
    if (!(total > T(0)))
      return shapeError(op, "the weights sum to 0");
    for (int64_t m = 0; m < count; ++m)
      fixed.push_back(weights[m] / total);
  }
  std::vector<int64_t> classOf;
  if (desc.weighting == EnsembleWeighting::ConfidenceAware) {
    KDRT_RETURN_IF_ERROR(checkPresent(op, "labels", labels));
    KDRT_RETURN_IF_ERROR(
        detail::readLabels(op, labels, batch, classes, classOf));
  }

  T temperature = T(desc.temperature);
  std::vector<T> logProbs(static_cast<size_t>(count * classes));
  std::vector<T> plain(static_cast<size_t>(classes));
  std::vector<T> crossEntropies(static_cast<size_t>(count)), w;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t m = 0; m < count; ++m) {
      const T *row = members[size_t(m)].data + b * classes;
      detail::logSoftmaxRow(row, logProbs.data() + m * classes, classes,
                            temperature);
      if (desc.weighting == EnsembleWeighting::ConfidenceAware) {
        detail::logSoftmaxRow(row, plain.data(), classes, T(1));
        crossEntropies[size_t(m)] = -plain[size_t(classOf[size_t(b)])];
      }
    }
    detail::ensembleWeights(desc.weighting, fixed, logProbs, crossEntropies,
                            count, classes, w);
    for (int64_t k = 0; k < classes; ++k) {
      // log sum_m w_m p_mk, as a log-sum-exp over the weighted members.
      T largest = -std::numeric_limits<T>::infinity();
      for (int64_t m = 0; m < count; ++m)
        if (w[size_t(m)] > T(0))
          largest = std::max(largest, std::log(w[size_t(m)]) +
                                          logProbs[size_t(m * classes + k)]);
      T sum = 0;
      for (int64_t m = 0; m < count; ++m)
        if (w[size_t(m)] > T(0))
          sum += std::exp(std::log(w[size_t(m)]) +
                          logProbs[size_t(m * classes + k)] - largest);
      output.data[b * classes + k] = temperature * (largest + std::log(sum));
    }
  }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_ENSEMBLE_H

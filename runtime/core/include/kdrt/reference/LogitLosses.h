//===- LogitLosses.h - Reference CE, KL and DKD losses ----------*- C++ -*-===//
//
// Fused losses on logits [B, K]: each returns the value and writes
// gradScale * d(value)/d(logits) where a gradient is given.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_LOGITLOSSES_H
#define KDRT_REFERENCE_LOGITLOSSES_H

#include "kdrt/OpDesc.h"
#include "kdrt/reference/Softmax.h"

#include <cmath>
#include <vector>

namespace kdrt::reference {

namespace detail {
inline Status logitsCheck(const char *op, const Shape &logits) {
  KDRT_RETURN_IF_ERROR(checkRank(op, "logits", logits, 2));
  if (logits[0] < 1 || logits[1] < 1)
    return shapeError(op, "logits must be non-empty, got " + logits.toString());
  return Status::success();
}

/// Labels are fp32 values that must be integral class indices.
template <typename T>
Status readLabels(const char *op, TensorRef<const T> labels, int64_t batch,
                  int64_t classes, std::vector<int64_t> &out) {
  KDRT_RETURN_IF_ERROR(checkShape(op, "labels", labels.shape, Shape{batch}));
  out.resize(batch);
  for (int64_t b = 0; b < batch; ++b) {
    T value = labels[b];
    if (!(value >= 0 && value < T(classes)) || value != std::floor(value))
      return shapeError(op, "label " + std::to_string(double(value)) +
                                " is not a class index below " +
                                std::to_string(classes));
    out[b] = int64_t(value);
  }
  return Status::success();
}

/// x log(x / y) with 0 log 0 = 0, as torch's kl_div.
template <typename T> T klTerm(T p, T logP, T logQ) {
  return p > T(0) ? p * (logP - logQ) : T(0);
}
} // namespace detail

template <typename T>
Status crossEntropyLoss(const CrossEntropyDesc &desc, TensorRef<const T> logits,
                        TensorRef<const T> targets, TensorRef<T> loss,
                        TensorRef<T> gradLogits) {
  const char *op = "cross_entropy_loss";
  KDRT_RETURN_IF_ERROR(detail::logitsCheck(op, logits.shape));
  int64_t batch = logits.dim(0), classes = logits.dim(1);
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape, Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradLogits", gradLogits, logits.shape));
  if (!(desc.labelSmoothing >= 0 && desc.labelSmoothing <= 1))
    return shapeError(op, "label smoothing must lie in [0, 1]");
  std::vector<int64_t> labels;
  if (desc.softTargets)
    KDRT_RETURN_IF_ERROR(
        checkShape(op, "targets", targets.shape, logits.shape));
  else
    KDRT_RETURN_IF_ERROR(
        detail::readLabels(op, targets, batch, classes, labels));
  T smoothing = T(desc.labelSmoothing);
  std::vector<T> logProbs(classes), target(classes);
  T total = 0;
  for (int64_t b = 0; b < batch; ++b) {
    detail::logSoftmaxRow(logits.data + b * classes, logProbs.data(), classes,
                          T(1));
    T targetSum = 0;
    for (int64_t k = 0; k < classes; ++k) {
      T hard = desc.softTargets ? targets[b * classes + k]
                                : T(labels[b] == k ? 1 : 0);
      target[k] = (T(1) - smoothing) * hard + smoothing / T(classes);
      targetSum += target[k];
      total -= target[k] * logProbs[k];
    }
    if (gradLogits.present())
      for (int64_t k = 0; k < classes; ++k)
        gradLogits[b * classes + k] =
            T(desc.gradScale) *
            (std::exp(logProbs[k]) * targetSum - target[k]) / T(batch);
  }
  loss[0] = total / T(batch);
  return Status::success();
}

template <typename T>
Status klDivLoss(const KlDivDesc &desc, TensorRef<const T> student,
                 TensorRef<const T> teacher, TensorRef<T> loss,
                 TensorRef<T> gradStudent, TensorRef<T> gradTeacher) {
  const char *op = "kl_div_loss";
  KDRT_RETURN_IF_ERROR(detail::logitsCheck(op, student.shape));
  KDRT_RETURN_IF_ERROR(checkShape(op, "teacher", teacher.shape, student.shape));
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape, Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradTeacher", gradTeacher, student.shape));
  if (!(desc.temperature > 0))
    return shapeError(op, "temperature must be positive");
  int64_t batch = student.dim(0), classes = student.dim(1);
  T temperature = T(desc.temperature);
  T divisor = desc.reduction == Reduction::BatchMean ? T(batch)
              : desc.reduction == Reduction::Mean    ? T(batch * classes)
                                                     : T(1);
  T factor = (desc.scaleByTemperatureSquared ? temperature * temperature
                                             : T(1)) /
             divisor;
  T gradFactor = T(desc.gradScale) * factor / temperature;
  std::vector<T> logS(classes), logT(classes);
  T total = 0;
  for (int64_t b = 0; b < batch; ++b) {
    detail::logSoftmaxRow(student.data + b * classes, logS.data(), classes,
                          temperature);
    detail::logSoftmaxRow(teacher.data + b * classes, logT.data(), classes,
                          temperature);
    // Mean of g = log pt - log ps under pt, for the teacher gradient.
    T expectedGap = 0;
    for (int64_t k = 0; k < classes; ++k) {
      T pt = std::exp(logT[k]);
      total += detail::klTerm(pt, logT[k], logS[k]);
      expectedGap += pt * (logT[k] - logS[k]);
    }
    for (int64_t k = 0; k < classes; ++k) {
      T ps = std::exp(logS[k]), pt = std::exp(logT[k]);
      if (gradStudent.present())
        gradStudent[b * classes + k] = gradFactor * (ps - pt);
      if (gradTeacher.present())
        gradTeacher[b * classes + k] =
            gradFactor * pt * (logT[k] - logS[k] - expectedGap);
    }
  }
  loss[0] = total * factor;
  return Status::success();
}

/// DKD as in mdistiller: TCKD on the binary (target, rest) split and NCKD on
/// the non-target classes renormalized, both T^2-scaled and batch-averaged.
template <typename T>
Status dkdLoss(const DkdDesc &desc, TensorRef<const T> student,
               TensorRef<const T> teacher, TensorRef<const T> labelsRef,
               TensorRef<T> loss, TensorRef<T> gradStudent) {
  const char *op = "dkd_loss";
  KDRT_RETURN_IF_ERROR(detail::logitsCheck(op, student.shape));
  KDRT_RETURN_IF_ERROR(checkShape(op, "teacher", teacher.shape, student.shape));
  KDRT_RETURN_IF_ERROR(checkShape(op, "loss", loss.shape, Shape{}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradStudent", gradStudent, student.shape));
  if (!(desc.temperature > 0))
    return shapeError(op, "temperature must be positive");
  int64_t batch = student.dim(0), classes = student.dim(1);
  if (classes < 2)
    return shapeError(op, "needs at least two classes");
  std::vector<int64_t> labels;
  KDRT_RETURN_IF_ERROR(
      detail::readLabels(op, labelsRef, batch, classes, labels));
  T temperature = T(desc.temperature);
  T factor = temperature * temperature / T(batch);
  std::vector<T> logS(classes), logT(classes), logSRest(classes),
      logTRest(classes), restS, restT;
  T total = 0;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t gt = labels[b];
    const T *s = student.data + b * classes, *t = teacher.data + b * classes;
    detail::logSoftmaxRow(s, logS.data(), classes, temperature);
    detail::logSoftmaxRow(t, logT.data(), classes, temperature);
    T psGt = std::exp(logS[gt]), ptGt = std::exp(logT[gt]);
    // Probability of "not the target", summed as mdistiller does.
    T psRest = 0, ptRest = 0;
    restS.clear();
    restT.clear();
    for (int64_t k = 0; k < classes; ++k)
      if (k != gt) {
        psRest += std::exp(logS[k]);
        ptRest += std::exp(logT[k]);
        restS.push_back(s[k]);
        restT.push_back(t[k]);
      }
    T tckd = detail::klTerm(ptGt, std::log(ptGt), std::log(psGt)) +
             detail::klTerm(ptRest, std::log(ptRest), std::log(psRest));
    int64_t rest = classes - 1;
    detail::logSoftmaxRow(restS.data(), logSRest.data(), rest, temperature);
    detail::logSoftmaxRow(restT.data(), logTRest.data(), rest, temperature);
    T nckd = 0;
    for (int64_t k = 0; k < rest; ++k)
      nckd += detail::klTerm(std::exp(logTRest[k]), logTRest[k], logSRest[k]);
    total += T(desc.alpha) * tckd + T(desc.beta) * nckd;
    if (!gradStudent.present())
      continue;
    // d tckd / d z (z = s / T): the binary KL through p_gt.
    T slope = -ptGt / psGt + ptRest / psRest;
    T scale = T(desc.gradScale) * factor / temperature;
    for (int64_t k = 0, r = 0; k < classes; ++k) {
      T ps = std::exp(logS[k]);
      T gradTckd = slope * psGt * ((k == gt ? T(1) : T(0)) - ps);
      T gradNckd = 0;
      if (k != gt) {
        gradNckd = std::exp(logSRest[r]) - std::exp(logTRest[r]);
        ++r;
      }
      gradStudent[b * classes + k] =
          scale * (T(desc.alpha) * gradTckd + T(desc.beta) * gradNckd);
    }
  }
  loss[0] = total * factor;
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_LOGITLOSSES_H

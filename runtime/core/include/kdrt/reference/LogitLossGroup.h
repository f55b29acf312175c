//===- LogitLossGroup.h - Reference CE + KL group on shared logits -*- C++ -*-===//
//
// Several cross-entropy and KL terms of the same student logits in one pass:
// the log-softmax of each row is computed once per distinct temperature and
// read by every term at that temperature. Each term's value and gradient
// follow crossEntropyLoss / klDivLoss (LogitLosses.h) step for step, so the
// values are the ones the separate calls return.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCE_LOGITLOSSGROUP_H
#define KDRT_REFERENCE_LOGITLOSSGROUP_H

#include "kdrt/reference/LogitLosses.h"

#include <string>
#include <vector>

namespace kdrt::reference {

namespace detail {
/// Index of the first term with `temperature` in `temperatures`, appending it
/// when new: the shared log-softmax rows are kept per distinct temperature.
inline size_t temperatureSlot(std::vector<double> &temperatures,
                              double temperature) {
  for (size_t i = 0; i < temperatures.size(); ++i)
    if (temperatures[i] == temperature)
      return i;
  temperatures.push_back(temperature);
  return temperatures.size() - 1;
}

inline double termTemperature(const LogitLossTerm &term) {
  return term.kind == LogitLossTermKind::KlDiv ? term.temperature : 1.0;
}
} // namespace detail

template <typename T>
Status logitLossGroup(const LogitLossGroupDesc &desc,
                      TensorRef<const T> logits,
                      const std::vector<TensorRef<const T>> &targets,
                      TensorRef<T> losses, TensorRef<T> gradLogits) {
  const char *op = "logit_loss_group";
  KDRT_RETURN_IF_ERROR(detail::logitsCheck(op, logits.shape));
  if (desc.count < 1 || desc.count > LogitLossGroupDesc::kCapacity)
    return shapeError(op, "needs between 1 and " +
                              std::to_string(LogitLossGroupDesc::kCapacity) +
                              " terms, got " + std::to_string(desc.count));
  if (int64_t(targets.size()) != desc.count)
    return shapeError(op, "has " + std::to_string(desc.count) +
                              " terms but " + std::to_string(targets.size()) +
                              " targets");
  KDRT_RETURN_IF_ERROR(
      checkShape(op, "losses", losses.shape, Shape{desc.count}));
  KDRT_RETURN_IF_ERROR(
      checkOptional(op, "gradLogits", gradLogits, logits.shape));
  int64_t batch = logits.dim(0), classes = logits.dim(1);

  // Validate every term and read its labels before writing anything.
  std::vector<std::vector<int64_t>> labels(desc.count);
  std::vector<double> temperatures;
  std::vector<size_t> slots(desc.count);
  for (int i = 0; i < desc.count; ++i) {
    const LogitLossTerm &term = desc.terms[i];
    if (!targets[i].data)
      return shapeError(op, "target " + std::to_string(i) + " is missing");
    if (term.kind == LogitLossTermKind::KlDiv) {
      if (!(term.temperature > 0))
        return shapeError(op, "temperature must be positive");
      KDRT_RETURN_IF_ERROR(
          checkShape(op, "teacher", targets[i].shape, logits.shape));
    } else {
      if (!(term.labelSmoothing >= 0 && term.labelSmoothing <= 1))
        return shapeError(op, "label smoothing must lie in [0, 1]");
      if (term.softTargets)
        KDRT_RETURN_IF_ERROR(
            checkShape(op, "targets", targets[i].shape, logits.shape));
      else
        KDRT_RETURN_IF_ERROR(detail::readLabels(op, targets[i], batch,
                                                classes, labels[i]));
    }
    slots[i] = detail::temperatureSlot(temperatures,
                                       detail::termTemperature(term));
  }

  std::vector<std::vector<T>> shared(temperatures.size(),
                                     std::vector<T>(classes));
  std::vector<T> teacherLog(classes), target(classes);
  std::vector<T> totals(desc.count, T(0));
  if (gradLogits.present())
    for (int64_t e = 0; e < batch * classes; ++e)
      gradLogits[e] = T(0);

  for (int64_t b = 0; b < batch; ++b) {
    const T *row = logits.data + b * classes;
    for (size_t s = 0; s < temperatures.size(); ++s)
      detail::logSoftmaxRow(row, shared[s].data(), classes, T(temperatures[s]));
    for (int i = 0; i < desc.count; ++i) {
      const LogitLossTerm &term = desc.terms[i];
      const std::vector<T> &logProbs = shared[slots[i]];
      T *grad = gradLogits.present() ? gradLogits.data + b * classes : nullptr;
      if (term.kind == LogitLossTermKind::CrossEntropy) {
        T smoothing = T(term.labelSmoothing);
        T targetSum = 0;
        for (int64_t k = 0; k < classes; ++k) {
          T hard = term.softTargets ? targets[i][b * classes + k]
                                    : T(labels[i][b] == k ? 1 : 0);
          target[k] = (T(1) - smoothing) * hard + smoothing / T(classes);
          targetSum += target[k];
          totals[i] -= target[k] * logProbs[k];
        }
        if (grad)
          for (int64_t k = 0; k < classes; ++k)
            grad[k] += T(term.weight) *
                       (std::exp(logProbs[k]) * targetSum - target[k]) /
                       T(batch);
        continue;
      }
      T temperature = T(term.temperature);
      T divisor = term.reduction == Reduction::BatchMean ? T(batch)
                  : term.reduction == Reduction::Mean    ? T(batch * classes)
                                                         : T(1);
      T factor = (term.scaleByTemperatureSquared ? temperature * temperature
                                                 : T(1)) /
                 divisor;
      detail::logSoftmaxRow(targets[i].data + b * classes, teacherLog.data(),
                            classes, temperature);
      for (int64_t k = 0; k < classes; ++k)
        totals[i] += detail::klTerm(std::exp(teacherLog[k]), teacherLog[k],
                                    logProbs[k]);
      if (grad) {
        T gradFactor = T(term.weight) * factor / temperature;
        for (int64_t k = 0; k < classes; ++k)
          grad[k] += gradFactor *
                     (std::exp(logProbs[k]) - std::exp(teacherLog[k]));
      }
    }
  }

  for (int i = 0; i < desc.count; ++i) {
    const LogitLossTerm &term = desc.terms[i];
    if (term.kind == LogitLossTermKind::CrossEntropy) {
      losses[i] = totals[i] / T(batch);
      continue;
    }
    T temperature = T(term.temperature);
    T divisor = term.reduction == Reduction::BatchMean ? T(batch)
                : term.reduction == Reduction::Mean    ? T(batch * classes)
                                                       : T(1);
    losses[i] = totals[i] * ((term.scaleByTemperatureSquared
                                  ? temperature * temperature
                                  : T(1)) /
                             divisor);
  }
  return Status::success();
}

} // namespace kdrt::reference

#endif // KDRT_REFERENCE_LOGITLOSSGROUP_H

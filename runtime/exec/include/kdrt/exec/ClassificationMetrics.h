//===- ClassificationMetrics.h - Metrics from a confusion matrix -*- C++ -*-===//
//
// Every metric an evaluation can ask for is a function of the confusion
// matrix (rows: true class, columns: predicted class), so an evaluation only
// accumulates the matrix and derives the rest at the end. A class with no
// samples (or no predictions) has an undefined recall (precision); it is
// reported as 0 and still counts in the macro averages, as scikit-learn does
// with zero_division=0.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_CLASSIFICATIONMETRICS_H
#define KDRT_EXEC_CLASSIFICATIONMETRICS_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kdrt::exec {

class ConfusionMatrix {
public:
  explicit ConfusionMatrix(int64_t classes)
      : classes(classes), counts(size_t(classes * classes), 0) {}

  /// Labels or predictions outside [0, classes) are ignored.
  void add(int64_t label, int64_t predicted);
  int64_t at(int64_t label, int64_t predicted) const {
    return counts[size_t(label * classes + predicted)];
  }
  int64_t numClasses() const { return classes; }
  int64_t total() const;

  double accuracy() const;
  /// Per class: recall (sensitivity), specificity, precision, F1.
  std::vector<double> sensitivity() const;
  std::vector<double> specificity() const;
  std::vector<double> precision() const;
  std::vector<double> f1() const;

  /// The requested metrics ("accuracy", "sensitivity", "specificity",
  /// "precision", "f1", "confusion") as JSON: per-class lists plus
  /// "macro_<metric>" averages.
  nlohmann::json report(const std::vector<std::string> &metrics) const;

private:
  int64_t classes;
  std::vector<int64_t> counts;
};

} // namespace kdrt::exec

#endif // KDRT_EXEC_CLASSIFICATIONMETRICS_H

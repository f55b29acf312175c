//===- ClassificationMetrics.cpp - Metrics from a confusion matrix --------===//

#include "kdrt/exec/ClassificationMetrics.h"

#include <numeric>

namespace kdrt::exec {
namespace {

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0.0;
}

double mean(const std::vector<double> &values) {
  return values.empty() ? 0.0
                        : std::accumulate(values.begin(), values.end(), 0.0) /
                              double(values.size());
}

} // namespace

void ConfusionMatrix::add(int64_t label, int64_t predicted) {
  if (label < 0 || label >= classes || predicted < 0 || predicted >= classes)
    return;
  ++counts[size_t(label * classes + predicted)];
}

int64_t ConfusionMatrix::total() const {
  return std::accumulate(counts.begin(), counts.end(), int64_t(0));
}

double ConfusionMatrix::accuracy() const {
  int64_t correct = 0;
  for (int64_t c = 0; c < classes; ++c)
    correct += at(c, c);
  return ratio(double(correct), double(total()));
}

std::vector<double> ConfusionMatrix::sensitivity() const {
  std::vector<double> values;
  for (int64_t c = 0; c < classes; ++c) {
    int64_t actual = 0;
    for (int64_t p = 0; p < classes; ++p)
      actual += at(c, p);
    values.push_back(ratio(double(at(c, c)), double(actual)));
  }
  return values;
}

std::vector<double> ConfusionMatrix::specificity() const {
  std::vector<double> values;
  int64_t all = total();
  for (int64_t c = 0; c < classes; ++c) {
    int64_t actual = 0, predicted = 0;
    for (int64_t k = 0; k < classes; ++k) {
      actual += at(c, k);
      predicted += at(k, c);
    }
    int64_t trueNegatives = all - actual - predicted + at(c, c);
    int64_t negatives = all - actual;
    values.push_back(ratio(double(trueNegatives), double(negatives)));
  }
  return values;
}

std::vector<double> ConfusionMatrix::precision() const {
  std::vector<double> values;
  for (int64_t c = 0; c < classes; ++c) {
    int64_t predicted = 0;
    for (int64_t k = 0; k < classes; ++k)
      predicted += at(k, c);
    values.push_back(ratio(double(at(c, c)), double(predicted)));
  }
  return values;
}

std::vector<double> ConfusionMatrix::f1() const {
  std::vector<double> recall = sensitivity(), prec = precision(), values;
  for (int64_t c = 0; c < classes; ++c)
    values.push_back(ratio(2 * prec[size_t(c)] * recall[size_t(c)],
                           prec[size_t(c)] + recall[size_t(c)]));
  return values;
}

nlohmann::json
ConfusionMatrix::report(const std::vector<std::string> &metrics) const {
  nlohmann::json result = nlohmann::json::object();
  result["samples"] = total();
  auto perClass = [&](const std::string &name, std::vector<double> values) {
    result["macro_" + name] = mean(values);
    result[name] = std::move(values);
  };
  for (const std::string &metric : metrics) {
    if (metric == "accuracy")
      result["accuracy"] = accuracy();
    else if (metric == "sensitivity")
      perClass("sensitivity", sensitivity());
    else if (metric == "specificity")
      perClass("specificity", specificity());
    else if (metric == "precision")
      perClass("precision", precision());
    else if (metric == "f1")
      perClass("f1", f1());
    else if (metric == "confusion") {
      nlohmann::json rows = nlohmann::json::array();
      for (int64_t c = 0; c < classes; ++c) {
        std::vector<int64_t> row(counts.begin() + c * classes,
                                 counts.begin() + (c + 1) * classes);
        rows.push_back(row);
      }
      result["confusion"] = rows;
    }
  }
  return result;
}

} // namespace kdrt::exec

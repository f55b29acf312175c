//===- ParameterStore.h - Every parameter of a plan, with gradients -*- C++ -*-//
//
// One value tensor and one gradient tensor per parameter, in backend memory,
// shared by every stage and evaluation of a session: what one stage trains,
// the next one reads. Values come from the plan's blob or from the seeded
// initialisers; gradients start at zero and are zeroed before every step.
//
// The optimizers of kdrt_train update host arrays in place, so the store
// requires a host-memory backend (reference, oneDNN); a device backend would
// mirror values through copyIn/copyOut around the optimizer step.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_PARAMETERSTORE_H
#define KDRT_EXEC_PARAMETERSTORE_H

#include "kdrt/Backend.h"
#include "kdrt/io/Safetensors.h"
#include "kdrt/plan/PlanFormat.h"

#include <map>
#include <string>
#include <vector>

namespace kdrt::exec {

class ParameterStore {
public:
  explicit ParameterStore(Backend &backend) : backend(backend) {}
  ~ParameterStore();
  ParameterStore(const ParameterStore &) = delete;
  ParameterStore &operator=(const ParameterStore &) = delete;

  /// Allocates and initialises every parameter of `plan` with `seed`.
  Status initialize(const plan::Plan &plan, uint64_t seed);

  bool contains(const std::string &name) const {
    return entries.count(name) != 0;
  }
  /// The value / gradient tensor of a parameter; the name must exist.
  Tensor &value(const std::string &name) { return entries.at(name).value; }
  Tensor &gradient(const std::string &name) {
    return entries.at(name).gradient;
  }
  const std::vector<std::string> &names() const { return order; }
  /// The shape of a parameter; the name must exist.
  const std::vector<int64_t> &shapeOf(const std::string &name) const {
    return entries.at(name).value.shape().dims();
  }

  /// Marks the value of `name` as written outside the store (an optimizer
  /// step, a kernel writing a parameter): backends drop what they cached
  /// from its previous contents (Tensor::version). The store's own writes
  /// do this themselves.
  void touch(const std::string &name) { entries.at(name).value.touch(); }

  /// Copies the value of parameter `from` into `to` (same shape).
  Status copyValue(const std::string &from, const std::string &to);

  /// Zeroes every gradient (start of a step).
  Status zeroGradients();

  /// The named parameters as F32 tensors; `stripPrefix` removes
  /// "<model>/" from each name (exports).
  Status snapshot(const std::vector<std::string> &names, bool stripPrefix,
                  io::SafetensorsFile &file) const;
  /// Copies the tensors of `file` into the parameters named `prefix + name`;
  /// a tensor with no such parameter or with another shape is an error.
  /// Returns the number of parameters loaded through `loaded`.
  Status load(const io::SafetensorsFile &file, const std::string &prefix,
              size_t *loaded = nullptr);

private:
  struct Entry {
    Tensor value;
    Tensor gradient;
  };
  Status allocateTensor(const std::vector<int64_t> &shape, Tensor &tensor);

  Backend &backend;
  std::map<std::string, Entry> entries;
  std::vector<std::string> order;
  std::vector<void *> allocations;
};

} // namespace kdrt::exec

#endif // KDRT_EXEC_PARAMETERSTORE_H

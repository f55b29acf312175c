//===- TrainError.h - Errors of optimizers and schedules -------*- C++ -*-===//

#ifndef KDRT_TRAIN_TRAINERROR_H
#define KDRT_TRAIN_TRAINERROR_H

#include <stdexcept>
#include <string>

namespace kdrt::train {

/// Invalid hyper-parameters, mismatched parameters or an optimizer state that
/// does not fit the parameters it is restored into.
class TrainError : public std::runtime_error {
public:
  explicit TrainError(const std::string &message)
      : std::runtime_error(message) {}
};

} // namespace kdrt::train

#endif // KDRT_TRAIN_TRAINERROR_H

//===- Sgd.h - Stochastic gradient descent with momentum -------*- C++ -*-===//
//
// Follows torch.optim.SGD: weight decay is added to the gradient (coupled),
// the momentum buffer starts as the first gradient, and Nesterov momentum
// steps along g + momentum * buffer.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TRAIN_SGD_H
#define KDRT_TRAIN_SGD_H

#include "kdrt/train/Optimizer.h"

namespace kdrt::train {

struct SgdOptions {
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;
};

class Sgd : public Optimizer {
public:
  Sgd(std::vector<ParameterGroup> groups, SgdOptions options);

protected:
  void update(const ParameterGroup &group, const Parameter &parameter,
              int64_t step) override;
  std::vector<std::string> stateSuffixes() const override;

private:
  SgdOptions options;
};

} // namespace kdrt::train

#endif // KDRT_TRAIN_SGD_H

//===- Adam.h - Adam and AdamW ---------------------------------*- C++ -*-===//
//
// Adam follows torch.optim.Adam: weight decay is added to the gradient (an
// L2 penalty coupled with the adaptive scaling). AdamW follows
// torch.optim.AdamW: the parameter shrinks by lr * weight_decay before the
// Adam step, independently of the gradient statistics. Both use bias
// correction.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TRAIN_ADAM_H
#define KDRT_TRAIN_ADAM_H

#include "kdrt/train/Optimizer.h"

namespace kdrt::train {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
};

class Adam : public Optimizer {
public:
  Adam(std::vector<ParameterGroup> groups, AdamOptions options);

protected:
  Adam(std::vector<ParameterGroup> groups, AdamOptions options,
       bool decoupledWeightDecay);
  void update(const ParameterGroup &group, const Parameter &parameter,
              int64_t step) override;
  std::vector<std::string> stateSuffixes() const override;

private:
  AdamOptions options;
  bool decoupledWeightDecay;
};

class AdamW : public Adam {
public:
  AdamW(std::vector<ParameterGroup> groups, AdamOptions options)
      : Adam(std::move(groups), options, /*decoupledWeightDecay=*/true) {}
};

} // namespace kdrt::train

#endif // KDRT_TRAIN_ADAM_H

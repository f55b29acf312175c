//===- Initializers.cpp - Seeded parameter initialisation -----------------===//

#include "kdrt/exec/Initializers.h"
#include "kdrt/plan/PlanIo.h"

#include <cmath>

namespace kdrt::exec {
namespace {

/// SplitMix64, the same generator family the data pipeline uses.
class ParameterRng {
public:
  ParameterRng(uint64_t seed, uint64_t nameHash)
      : state(mix(mix(seed) ^ nameHash)) {}

  uint64_t next() {
    state += 0x9E3779B97F4A7C15ull;
    return mix(state);
  }
  /// Uniform in [0, 1).
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  /// Standard normal by Box-Muller; one draw per call keeps the stream
  /// independent of how many values were requested before.
  double normal() {
    double u1 = 1.0 - uniform(); // (0, 1]: log stays finite
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

private:
  static uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state;
};

} // namespace

uint64_t stableNameHash(const std::string &name) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::pair<double, double> fansOf(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return {1, 1};
  if (shape.size() == 1)
    return {double(shape[0]), double(shape[0])};
  double receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i)
    receptive *= double(shape[i]);
  return {double(shape[1]) * receptive, double(shape[0]) * receptive};
}

std::vector<float> initialValues(const plan::ParameterSpec &parameter,
                                 uint64_t seed) {
  const plan::InitSpec &init = parameter.init;
  std::vector<float> values(size_t(parameter.numElements()), 0.0f);
  ParameterRng rng(seed, stableNameHash(parameter.name));
  auto [fanIn, fanOut] = fansOf(parameter.shape);
  auto requireFan = [&](double fan) {
    if (fan <= 0)
      throw plan::PlanError("parameter '" + parameter.name + "': " +
                            init.kind + " needs a non-zero fan");
    return fan;
  };

  if (init.kind == "zeros")
    return values;
  if (init.kind == "ones" || init.kind == "constant") {
    float value = init.kind == "ones" ? 1.0f : float(init.value);
    std::fill(values.begin(), values.end(), value);
    return values;
  }
  if (init.kind == "normal" || init.kind == "kaiming_normal") {
    double std = init.std;
    if (init.kind == "kaiming_normal")
      std = init.gain /
            std::sqrt(requireFan(init.fan == "fan_out" ? fanOut : fanIn));
    for (float &v : values)
      v = float(std * rng.normal());
    return values;
  }
  double bound = init.bound;
  if (init.kind == "kaiming_uniform")
    bound = init.gain * std::sqrt(3.0 / requireFan(init.fan == "fan_out"
                                                       ? fanOut
                                                       : fanIn));
  else if (init.kind == "xavier_uniform")
    bound = init.gain * std::sqrt(6.0 / requireFan(fanIn + fanOut));
  else if (init.kind != "uniform")
    throw plan::PlanError("parameter '" + parameter.name +
                          "': unknown init '" + init.kind + "'");
  for (float &v : values)
    v = float(bound * (2.0 * rng.uniform() - 1.0));
  return values;
}

} // namespace kdrt::exec

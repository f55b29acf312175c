//===- ParameterStore.cpp - Parameter values and gradients ----------------===//

#include "kdrt/exec/ParameterStore.h"
#include "kdrt/exec/Initializers.h"
#include "kdrt/plan/PlanIo.h"

#include <cstring>

namespace kdrt::exec {

ParameterStore::~ParameterStore() {
  for (void *allocation : allocations)
    backend.deallocate(allocation);
}

Status ParameterStore::allocateTensor(const std::vector<int64_t> &shape,
                                      Tensor &tensor) {
  Shape dims(shape);
  void *memory = nullptr;
  KDRT_RETURN_IF_ERROR(backend.allocate(
      std::max<size_t>(size_t(dims.numElements()) * sizeof(float), 4),
      &memory));
  allocations.push_back(memory);
  tensor = Tensor::view(static_cast<float *>(memory), dims);
  return Status::success();
}

Status ParameterStore::initialize(const plan::Plan &plan, uint64_t seed) {
  for (const plan::ParameterSpec &spec : plan.parameters) {
    Entry entry;
    KDRT_RETURN_IF_ERROR(allocateTensor(spec.shape, entry.value));
    KDRT_RETURN_IF_ERROR(allocateTensor(spec.shape, entry.gradient));
    std::vector<float> values;
    if (spec.blob) {
      // The reader checked the reference lies inside the blob and matches
      // the shape.
      values.resize(size_t(spec.numElements()));
      std::memcpy(values.data(), plan.blob.data() + spec.blob->offset,
                  spec.blob->bytes);
    } else {
      try {
        values = initialValues(spec, seed);
      } catch (const plan::PlanError &error) {
        return Status::invalidArgument(error.what());
      }
    }
    size_t bytes = values.size() * sizeof(float);
    KDRT_RETURN_IF_ERROR(backend.copyIn(entry.value.data(), values.data(),
                                        bytes));
    entry.value.touch();
    std::fill(values.begin(), values.end(), 0.0f);
    KDRT_RETURN_IF_ERROR(backend.copyIn(entry.gradient.data(), values.data(),
                                        bytes));
    entries.emplace(spec.name, std::move(entry));
    order.push_back(spec.name);
  }
  return Status::success();
}

Status ParameterStore::copyValue(const std::string &from,
                                 const std::string &to) {
  auto source = entries.find(from), target = entries.find(to);
  if (source == entries.end() || target == entries.end())
    return Status::invalidArgument("unknown parameter '" +
                                   (source == entries.end() ? from : to) +
                                   "' to copy");
  const Tensor &value = source->second.value;
  if (value.shape() != target->second.value.shape())
    return Status::invalidArgument("cannot copy '" + from + "' of shape " +
                                   value.shape().toString() + " into '" + to +
                                   "' of shape " +
                                   target->second.value.shape().toString());
  std::vector<float> values(size_t(value.numElements()));
  KDRT_RETURN_IF_ERROR(backend.copyOut(values.data(), value.data(),
                                       values.size() * sizeof(float)));
  target->second.value.touch();
  return backend.copyIn(target->second.value.data(), values.data(),
                        values.size() * sizeof(float));
}

Status ParameterStore::zeroGradients() {
  std::vector<float> zeros;
  for (auto &[name, entry] : entries) {
    zeros.assign(size_t(entry.gradient.numElements()), 0.0f);
    KDRT_RETURN_IF_ERROR(backend.copyIn(entry.gradient.data(), zeros.data(),
                                        zeros.size() * sizeof(float)));
  }
  return Status::success();
}

Status ParameterStore::snapshot(const std::vector<std::string> &names,
                                bool stripPrefix,
                                io::SafetensorsFile &file) const {
  for (const std::string &name : names) {
    auto it = entries.find(name);
    if (it == entries.end())
      return Status::invalidArgument("unknown parameter '" + name + "'");
    const Tensor &value = it->second.value;
    std::vector<float> values(size_t(value.numElements()));
    KDRT_RETURN_IF_ERROR(backend.copyOut(values.data(), value.data(),
                                         values.size() * sizeof(float)));
    std::string stored = name;
    if (stripPrefix) {
      size_t slash = name.find('/');
      if (slash != std::string::npos)
        stored = name.substr(slash + 1);
    }
    file.tensors.push_back(
        io::NamedTensor::fromFloats(stored, value.shape().dims(), values));
  }
  return Status::success();
}

Status ParameterStore::load(const io::SafetensorsFile &file,
                            const std::string &prefix, size_t *loaded) {
  size_t count = 0;
  for (const io::NamedTensor &tensor : file.tensors) {
    std::string name = prefix + tensor.name;
    auto it = entries.find(name);
    if (it == entries.end())
      return Status::invalidArgument("weights name '" + tensor.name +
                                     "', which is not a parameter (looked "
                                     "for '" + name + "')");
    Tensor &value = it->second.value;
    if (tensor.shape != value.shape().dims())
      return Status::invalidArgument(
          "weights '" + tensor.name + "' have shape " +
          Shape(tensor.shape).toString() + ", the parameter " +
          value.shape().toString());
    if (tensor.dtype != io::TensorDtype::F32)
      return Status::invalidArgument("weights '" + tensor.name +
                                     "' are not F32");
    std::vector<float> values = tensor.toFloats();
    value.touch();
    KDRT_RETURN_IF_ERROR(backend.copyIn(value.data(), values.data(),
                                        values.size() * sizeof(float)));
    ++count;
  }
  if (loaded)
    *loaded = count;
  return Status::success();
}

} // namespace kdrt::exec

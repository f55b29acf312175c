//===- Checkpoint.cpp - Stage checkpoints with optimizer state ------------===//

#include "kdrt/exec/Checkpoint.h"

#include <set>

namespace kdrt::exec {

using nlohmann::json;

std::string checkpointPath(const std::string &stage) {
  return "checkpoints/" + stage + ".safetensors";
}

Status makeCheckpoint(const ParameterStore &store, const StageOutcome &outcome,
                      io::SafetensorsFile &file) {
  KDRT_RETURN_IF_ERROR(store.snapshot(store.names(), false, file));
  std::set<std::string> names(store.names().begin(), store.names().end());
  for (const train::StateTensor &state : outcome.optimizerState.tensors) {
    // State arrays are flat; give them their parameter's shape, as
    // PyTorch's optimizer state has.
    std::string parameter = state.name.substr(0, state.name.rfind('.'));
    if (!names.count(parameter))
      return Status::internal("optimizer state '" + state.name +
                              "' belongs to no parameter");
    file.tensors.push_back(io::NamedTensor::fromFloats(
        state.name, store.shapeOf(parameter), state.values));
  }
  file.metadata["stage"] = outcome.stage;
  file.metadata["stage_index"] = std::to_string(outcome.stageIndex);
  file.metadata["seed"] = std::to_string(outcome.seed);
  file.metadata["optimizer"] = outcome.optimizerKind;
  file.metadata["optimizer_step"] =
      std::to_string(outcome.optimizerState.step);
  file.metadata["report"] = outcome.report.dump();
  return Status::success();
}

namespace {

/// The metadata value `key`, or an error naming the checkpoint.
Status metadataOf(const io::SafetensorsFile &file, const std::string &source,
                  const std::string &key, std::string &value) {
  auto found = file.metadata.find(key);
  if (found == file.metadata.end())
    return Status::invalidArgument(source + ": not a kdrt stage checkpoint "
                                            "(no '" +
                                   key + "' in its metadata)");
  value = found->second;
  return Status::success();
}

Status integerOf(const std::string &text, const std::string &source,
                 const std::string &key, int64_t &value) {
  try {
    size_t used = 0;
    value = std::stoll(text, &used);
    if (used == text.size() && value >= 0)
      return Status::success();
  } catch (const std::exception &) {
  }
  return Status::invalidArgument(source + ": metadata '" + key + "' is '" +
                                 text + "', not a non-negative integer");
}

} // namespace

Status readCheckpoint(const io::SafetensorsFile &file,
                      const std::string &source, const ParameterStore &store,
                      LoadedCheckpoint &checkpoint) {
  StageOutcome &outcome = checkpoint.outcome;
  std::string text;
  int64_t number = 0;
  KDRT_RETURN_IF_ERROR(metadataOf(file, source, "stage", outcome.stage));
  KDRT_RETURN_IF_ERROR(metadataOf(file, source, "stage_index", text));
  KDRT_RETURN_IF_ERROR(integerOf(text, source, "stage_index", number));
  outcome.stageIndex = number;
  KDRT_RETURN_IF_ERROR(metadataOf(file, source, "seed", text));
  KDRT_RETURN_IF_ERROR(integerOf(text, source, "seed", number));
  outcome.seed = uint64_t(number);
  KDRT_RETURN_IF_ERROR(
      metadataOf(file, source, "optimizer", outcome.optimizerKind));
  KDRT_RETURN_IF_ERROR(metadataOf(file, source, "optimizer_step", text));
  KDRT_RETURN_IF_ERROR(integerOf(text, source, "optimizer_step", number));
  outcome.optimizerState.step = number;
  KDRT_RETURN_IF_ERROR(metadataOf(file, source, "report", text));
  outcome.report = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (outcome.report.is_discarded() || !outcome.report.is_object())
    return Status::invalidArgument(source +
                                   ": metadata 'report' is not a JSON object");

  std::set<std::string> seen;
  for (const io::NamedTensor &tensor : file.tensors) {
    if (store.contains(tensor.name)) {
      checkpoint.parameters.tensors.push_back(tensor);
      seen.insert(tensor.name);
      continue;
    }
    std::string parameter = tensor.name.substr(0, tensor.name.rfind('.'));
    if (tensor.name.find('.') == std::string::npos ||
        !store.contains(parameter))
      return Status::invalidArgument(
          source + ": tensor '" + tensor.name +
          "' is neither a parameter of the plan nor optimizer state of one");
    if (tensor.dtype != io::TensorDtype::F32)
      return Status::invalidArgument(source + ": optimizer state '" +
                                     tensor.name + "' is not F32");
    outcome.optimizerState.tensors.push_back(
        {tensor.name, tensor.toFloats()});
  }
  for (const std::string &name : store.names())
    if (!seen.count(name))
      return Status::invalidArgument(source + ": parameter '" + name +
                                     "' of the plan is missing");
  return Status::success();
}

} // namespace kdrt::exec

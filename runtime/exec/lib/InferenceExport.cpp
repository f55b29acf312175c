//===- InferenceExport.cpp - Writing a self-contained .kdx export ---------===//
//
// An export to .kdx is a plan of its own: the model's inference program
// the compiler built (batch norms folded into the layers before them,
// fused, memory-planned) as its one evaluation, and the parameters that
// program reads, embedded in the blob. The folded parameters are computed
// here from the trained weights and running statistics with the backend's
// fold_batch_norm; the others are copied. The result is validated by
// reading it back before it replaces the file, so a file at the export's
// path is always a complete plan that `kdrt infer` runs on its own.
//
//===----------------------------------------------------------------------===//

#include "SessionSupport.h"
#include "kdrt/exec/Session.h"
#include "kdrt/io/AtomicFile.h"
#include "kdrt/plan/PlanIo.h"

#include <filesystem>

namespace kdrt::exec {

namespace fs = std::filesystem;

Status Session::bindInferenceExports() {
  const plan::Plan &p = *planSpec;
  exportFolds.assign(p.exports.size(), {});
  for (size_t e = 0; e < p.exports.size(); ++e) {
    if (!p.exports[e].inference)
      continue;
    const auto &fold = p.exports[e].inference->fold;
    for (size_t k = 0; k < fold.size(); ++k)
      exportFolds[e].push_back(bindOp(
          fold[k], planPath,
          "exports[" + std::to_string(e) + "].inference.fold[" +
              std::to_string(k) + "]"));
  }
  return Status::success();
}

Status Session::exportInferencePlan(size_t index) {
  const plan::ExportSpec &spec = planSpec->exports[index];
  const plan::InferenceExportSpec &inference = *spec.inference;
  const plan::DatasetSpec *dataset =
      planSpec->findDataset(inference.data.dataset);

  plan::Plan exported;
  exported.producer = planSpec->producer;
  exported.target = planSpec->target;
  exported.specFile = planSpec->specFile;
  exported.specSha256 = planSpec->specSha256;
  exported.seed = seedValue;
  // The data set describes the inputs (geometry, normalisation, class
  // names); its files are named absolutely, since the export lives
  // elsewhere than the plan it came from.
  plan::DatasetSpec data = *dataset;
  if (!data.path.empty())
    data.path = fs::absolute(catalog->resolve(data.path)).string();
  for (plan::SplitSpec &split : data.splits)
    if (!split.externalPath.empty())
      split.externalPath =
          fs::absolute(catalog->resolve(split.externalPath)).string();
  exported.datasets.push_back(std::move(data));
  for (plan::ParameterSpec parameter : inference.parameters) {
    parameter.init = plan::InitSpec();
    exported.parameters.push_back(std::move(parameter));
  }

  // The exported parameters in backend memory: copies, then the folds.
  ParameterStore values(*device);
  KDRT_RETURN_IF_ERROR(values.initialize(exported, 0));
  for (const plan::ParameterSpec &parameter : inference.parameters) {
    if (!store->contains(parameter.name))
      continue; // written by a fold (the reader checked it is one)
    bool folded = false;
    for (const plan::OpSpec &op : inference.fold)
      for (const plan::Operand &out : op.out)
        folded |= out.name == parameter.name;
    if (folded)
      continue;
    Tensor &target = values.value(parameter.name);
    std::vector<float> host(size_t(target.numElements()));
    KDRT_RETURN_IF_ERROR(device->copyOut(
        host.data(), store->value(parameter.name).data(),
        host.size() * sizeof(float)));
    KDRT_RETURN_IF_ERROR(
        device->copyIn(target.data(), host.data(), host.size() * sizeof(float)));
  }
  OpContext context{device.get(), 0};
  for (size_t k = 0; k < inference.fold.size(); ++k) {
    const plan::OpSpec &op = inference.fold[k];
    OpInputs ins;
    for (const plan::Operand &operand : op.in)
      ins.push_back(operand.kind == plan::Operand::Kind::Param
                        ? &store->value(operand.name)
                        : nullptr);
    OpOutputs outs;
    for (const plan::Operand &operand : op.out)
      outs.push_back(&values.value(operand.name));
    KDRT_RETURN_IF_ERROR(withContext(
        exportFolds[index][k](context, ins, outs),
        "export to '" + spec.path + "' (" + op.loc + ")"));
  }
  for (plan::ParameterSpec &parameter : exported.parameters) {
    const Tensor &value = values.value(parameter.name);
    std::vector<float> host(size_t(value.numElements()));
    KDRT_RETURN_IF_ERROR(device->copyOut(host.data(), value.data(),
                                         host.size() * sizeof(float)));
    parameter.blob = plan::appendToBlob(exported, host.data(),
                                        host.size() * sizeof(float));
  }

  plan::EvaluationSpec evaluation;
  evaluation.model = spec.model;
  evaluation.data = inference.data;
  evaluation.batch = inference.batch;
  evaluation.metrics = inference.metrics;
  evaluation.graph = inference.graph;
  evaluation.outputBuffer = inference.outputBuffer;
  exported.evaluations.push_back(std::move(evaluation));

  std::string path = resolveInRun(spec.path);
  std::vector<uint8_t> bytes = plan::serializePlan(exported);
  // Read back before anything is replaced: a plan the runtime would refuse
  // is never written.
  plan::parsePlan(bytes, path);
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty())
    fs::create_directories(parent);
  io::writeFileAtomically(path, bytes);
  return Status::success();
}

} // namespace kdrt::exec

//===- Inspect.cpp - kdrt inspect -----------------------------------------===//

#include "Inspect.h"

#include <map>

namespace kdrt::tools {
namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string operandText(const plan::Operand &operand) {
  switch (operand.kind) {
  case plan::Operand::Kind::None:
    return "_";
  case plan::Operand::Kind::Buffer:
    return "%" + std::to_string(operand.buffer);
  case plan::Operand::Kind::Param:
    return "@" + operand.name;
  case plan::Operand::Kind::Grad:
    return "grad(@" + operand.name + ")";
  }
  return "?";
}

void printProgram(const std::vector<plan::OpSpec> &program,
                  std::ostream &out) {
  for (size_t i = 0; i < program.size(); ++i) {
    const plan::OpSpec &op = program[i];
    out << "    " << i << ": ";
    for (size_t k = 0; k < op.out.size(); ++k)
      out << (k ? ", " : "") << operandText(op.out[k]);
    out << " = " << op.op << "(";
    for (size_t k = 0; k < op.in.size(); ++k)
      out << (k ? ", " : "") << operandText(op.in[k]);
    out << ")";
    if (!op.attrs.empty())
      out << " " << op.attrs.dump();
    if (!op.loc.empty())
      out << "  // " << op.loc;
    out << "\n";
  }
}

void printGraph(const plan::GraphSpec &graph, std::ostream &out) {
  out << "  arena: " << graph.arenaBytes << " bytes, "
      << graph.buffers.size() << " buffers\n";
  for (const plan::BufferSpec &buffer : graph.buffers)
    out << "    %" << buffer.id << " " << shapeText(buffer.shape) << " at "
        << buffer.offset << "\n";
  out << "  inputs:";
  for (const plan::InputSpec &input : graph.inputs) {
    out << " %" << input.buffer << "=" << input.role;
    if (input.transform)
      out << "(" << input.transform->op << " " << input.transform->height
          << "x"
          << input.transform->width
          << (input.transform->mode.empty() ? "" : " ")
          << input.transform->mode << ")";
  }
  out << "\n  program: " << graph.program.size() << " ops\n";
  printProgram(graph.program, out);
}

} // namespace

void printPlanSummary(const plan::Plan &plan, std::ostream &out) {
  out << "kdx version " << plan.kdxVersion << ", producer '" << plan.producer
      << "', target " << plan.target << ", seed " << plan.seed << "\n";
  if (!plan.specFile.empty())
    out << "spec: " << plan.specFile << "\n";
  for (const plan::DatasetSpec &dataset : plan.datasets) {
    out << "dataset " << dataset.name << ": " << dataset.kind << " '"
        << dataset.path << "', " << dataset.channels << "x" << dataset.height
        << "x" << dataset.width << ", " << dataset.classes
        << " classes, splits:";
    for (const plan::SplitSpec &split : dataset.splits)
      out << " " << split.name << "(" << split.source << ")";
    out << "\n";
  }
  int64_t total = 0;
  std::map<std::string, int64_t> perModel;
  for (const plan::ParameterSpec &parameter : plan.parameters) {
    total += parameter.numElements();
    perModel[parameter.name.substr(0, parameter.name.find('/'))] +=
        parameter.numElements();
  }
  out << "parameters: " << plan.parameters.size() << " tensors, " << total
      << " values";
  for (const auto &[model, count] : perModel)
    out << "; " << model << ": " << count;
  out << "\n";
  for (const plan::StageSpec &stage : plan.stages) {
    out << "stage " << stage.name << " (" << stage.kind << "): "
        << stage.data.dataset << "/" << stage.data.split << ", "
        << stage.epochs << " epochs, batch " << stage.batch << ", "
        << stage.optimizer.kind << ", schedule " << stage.schedule.kind
        << ", loss %" << stage.lossBuffer << "\n";
    printGraph(stage.graph, out);
    if (stage.teacherCache.mode == "cached") {
      out << "  teacher cache: " << stage.teacherCache.model << ", key "
          << stage.teacherCache.key << ", "
          << stage.teacherCache.program.size() << " ops\n";
      printProgram(stage.teacherCache.program, out);
    }
  }
  for (const plan::EvaluationSpec &evaluation : plan.evaluations) {
    out << "evaluation of "
        << (plan::isLossEvaluation(evaluation) ? evaluation.expression
                                               : evaluation.model)
        << (evaluation.prediction.empty() ? ""
                                          : " using " + evaluation.prediction)
        << " on " << evaluation.data.dataset << "/" << evaluation.data.split;
    if (const auto &weight = evaluation.ensembleWeight)
      out << " before " << weight->beforeStage << " (accuracy weight "
          << weight->member << " of " << weight->ensemble << " into @"
          << weight->parameter << ")";
    else
      out << " after " << evaluation.afterStage;
    out << ", batch " << evaluation.batch << ", output %"
        << evaluation.outputBuffer << "\n";
    printGraph(evaluation.graph, out);
  }
  for (const plan::ExportSpec &exported : plan.exports) {
    out << "export " << exported.model << " -> " << exported.path << " ("
        << exported.params.size() << " tensors) after "
        << exported.afterStage << "\n";
    if (!exported.inference)
      continue;
    const plan::InferenceExportSpec &inference = *exported.inference;
    out << "  inference program: " << inference.parameters.size()
        << " parameters, " << inference.fold.size() << " folds, batch "
        << inference.batch << ", output %" << inference.outputBuffer << "\n";
    out << "  fold: " << inference.fold.size() << " ops\n";
    printProgram(inference.fold, out);
    printGraph(inference.graph, out);
  }
}

} // namespace kdrt::tools

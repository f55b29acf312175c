//===- Inspect.cpp - kdrt inspect -----------------------------------------===//

#include "Inspect.h"

#include <cstdio>
#include <map>

namespace kdrt::tools {
namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// A number as %g writes it: 0.1, 0.0005, 10000.
std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

/// "sgd momentum 0.9 nesterov, weight decay 0.0005; lr 0.1 for 12
/// parameters", with each group's learning rate and its own decay and
/// momentum where they differ from the optimizer's.
std::string optimizerText(const plan::OptimizerSpec &optimizer) {
  std::string text = optimizer.kind;
  if (optimizer.kind == "sgd") {
    if (optimizer.momentum != 0)
      text += " momentum " + number(optimizer.momentum);
    if (optimizer.nesterov)
      text += " nesterov";
  } else {
    text += " betas " + number(optimizer.beta1) + ", " +
            number(optimizer.beta2) + ", eps " + number(optimizer.eps);
  }
  if (optimizer.weightDecay != 0)
    text += ", weight decay " + number(optimizer.weightDecay);
  for (size_t g = 0; g < optimizer.groups.size(); ++g) {
    const plan::OptimizerGroup &group = optimizer.groups[g];
    text += std::string(g ? ", " : "; ") + "lr " + number(group.lr);
    if (group.weightDecay != optimizer.weightDecay)
      text += " weight decay " + number(group.weightDecay);
    if (group.momentum)
      text += " momentum " + number(*group.momentum);
    text += " for " + std::to_string(group.params.size()) + " parameters";
  }
  return text;
}

/// "one_cycle pct_start 0.3, div 25, final div 10000, momentum 0.95 ->
/// 0.85", with the warm-up when there is one ("warm-up 1 epoch").
std::string scheduleText(const plan::ScheduleSpec &schedule) {
  std::string text = schedule.kind;
  if (schedule.kind == "step")
    text += " every " + std::to_string(schedule.every) + " epochs, gamma " +
            number(schedule.gamma);
  else if (schedule.kind == "cosine")
    text += " to " + number(schedule.minLr);
  else if (schedule.kind == "one_cycle") {
    text += " pct_start " + number(schedule.pctStart) + ", div " +
            number(schedule.divFactor) + ", final div " +
            number(schedule.finalDivFactor);
    if (schedule.cycleMomentum)
      text += ", momentum " + number(schedule.maxMomentum) + " -> " +
              number(schedule.baseMomentum);
  }
  auto count = [](int64_t n, const char *unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  if (schedule.warmupSteps > 0)
    text += ", warm-up " + count(schedule.warmupSteps, "step");
  if (schedule.warmupEpochs > 0)
    text += ", warm-up " + count(schedule.warmupEpochs, "epoch");
  return text;
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
    out << "  optimizer: " << optimizerText(stage.optimizer) << "\n";
    out << "  schedule: " << scheduleText(stage.schedule) << "\n";
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

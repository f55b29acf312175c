//===- kdrt.cpp - The runtime's command-line driver -----------------------===//
//
//   kdrt run PLAN.kdx [--out DIR | --resume DIR] [--stop-after STAGE]
//                     [--threads N] [--backend NAME] [--max-steps N]
//                     [--seed N] [--quiet]
//   kdrt infer PLAN.kdx IMAGE... [--json] [--model S] [--weights FILE]
//                     [--out DIR] [--backend NAME] [--threads N]
//   kdrt infer PLAN.kdx --bench [--json] [--runs R] [--batches B]
//                     [--warmup W] [--model S] [--weights FILE] ...
//   kdrt inspect PLAN.kdx
//
// Exit codes: 0 success, 1 the plan or the run failed, 2 bad command line.
// `run` and `infer` go through the public C API, so the CLI exercises
// exactly what embedders get.
//
//===----------------------------------------------------------------------===//

#include "Inspect.h"
#include "InspectTensors.h"
#include "kdrt/io/IoError.h"
#include "kdrt/io/Safetensors.h"
#include "kdrt/data/DecodedImage.h"
#include "kdrt/kdrt.h"
#include "kdrt/plan/PlanIo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int kFailure = 1;
constexpr int kUsage = 2;

const char *kUsageText =
    "usage: kdrt <command> [options]\n"
    "\n"
    "commands:\n"
    "  run PLAN.kdx      train every stage, evaluate and export\n"
    "      --out DIR         run directory (default: <plan name>.run)\n"
    "      --backend NAME    reference | onednn (default: onednn if built)\n"
    "      --threads N       backend threads (default: one per core)\n"
    "      --max-steps N     at most N optimizer steps per stage\n"
    "      --seed N          replace the plan's seed\n"
    "      --quiet           no progress output\n"
    "      --resume DIR      continue the run in DIR after its last\n"
    "                        completed stage (its checkpoint)\n"
    "      --stop-after STAGE  stop once STAGE has completed\n"
    "  infer PLAN.kdx IMAGE...  class probabilities per image\n"
    "      --json            one JSON object per image, with the logits\n"
    "      --model S         the model to run (default: first evaluated)\n"
    "      --weights FILE    safetensors weights (default: the model's\n"
    "                        export in the run directory; none for a\n"
    "                        .kdx export, which embeds its weights)\n"
    "      --out DIR         run directory holding the exports\n"
    "      --backend NAME, --threads N\n"
    "  infer PLAN.kdx --bench  time inference on synthetic inputs:\n"
    "                        latency_b1_ms (median) and\n"
    "                        throughput_b256_images_per_s\n"
    "      --json            the figures as one JSON object\n"
    "      --runs R          timed batch-1 forwards (default 200)\n"
    "      --batches B       timed batch-256 forwards (default 10)\n"
    "      --warmup W        untimed batch-1 forwards first (default 20)\n"
    "      --model, --weights, --out, --backend, --threads as above\n"
    "  inspect PLAN.kdx  print a summary: stages, buffers, arena, ops\n"
    "  inspect FILE.safetensors  the tensors of a checkpoint or export:\n"
    "                    name, dtype, shape, values (--json: all values)\n"
    "\n"
    "  --help            this text\n"
    "  --version         the runtime version\n";

struct CommandLine {
  std::string command;
  std::vector<std::string> positional;
  std::string out, backend, model, weights, resume, stopAfter;
  int threads = 0;
  bool bench = false, json = false;
  long long runs = 200, batches = 10, warmup = 20;
  long long maxSteps = 0;
  bool hasSeed = false;
  unsigned long long seed = 0;
  bool quiet = false;
};

int usageError(const std::string &message) {
  std::cerr << "kdrt: error: " << message << "\n"
            << "run 'kdrt --help' for usage\n";
  return kUsage;
}

bool parseNumber(const std::string &text, long long &value) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  value = std::strtoll(text.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

/// Fills `line`; returns -1 on success or the exit code to return.
int parseCommandLine(int argc, char **argv, CommandLine &line) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &into) {
      if (i + 1 >= argc)
        return false;
      into = argv[++i];
      return true;
    };
    std::string text;
    long long number = 0;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsageText;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "kdrt " << kdrt_version() << "\n";
      return 0;
    }
    if (arg == "--quiet") {
      line.quiet = true;
    } else if (arg == "--bench") {
      line.bench = true;
    } else if (arg == "--json") {
      line.json = true;
    } else if (arg == "--out" || arg == "--backend" || arg == "--model" ||
               arg == "--weights" || arg == "--resume" ||
               arg == "--stop-after") {
      if (!value(text) || text.empty())
        return usageError(arg + " needs a value");
      (arg == "--out"       ? line.out
       : arg == "--backend" ? line.backend
       : arg == "--model"   ? line.model
       : arg == "--resume"  ? line.resume
       : arg == "--weights" ? line.weights
                            : line.stopAfter) = text;
    } else if (arg == "--runs" || arg == "--batches" || arg == "--warmup") {
      if (!value(text) || !parseNumber(text, number) ||
          number < (arg == "--warmup" ? 0 : 1))
        return usageError(arg + (arg == "--warmup"
                                     ? " needs a non-negative integer"
                                     : " needs a positive integer"));
      (arg == "--runs" ? line.runs
       : arg == "--batches" ? line.batches
                            : line.warmup) = number;
    } else if (arg == "--threads" || arg == "--max-steps" || arg == "--seed") {
      if (!value(text) || !parseNumber(text, number) || number < 0)
        return usageError(arg + " needs a non-negative integer");
      if (arg == "--threads")
        line.threads = int(number);
      else if (arg == "--max-steps")
        line.maxSteps = number;
      else {
        line.hasSeed = true;
        line.seed = (unsigned long long)number;
      }
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usageError("unknown option '" + arg + "'");
    } else if (line.command.empty()) {
      line.command = arg;
    } else {
      line.positional.push_back(arg);
    }
  }
  if (line.command.empty())
    return usageError("no command given");
  if (!line.resume.empty()) {
    if (!line.out.empty() && line.out != line.resume)
      return usageError("--resume names the run directory; --out must be "
                        "the same directory or left out");
    line.out = line.resume;
  }
  return -1;
}

int fail(kdrt_status status) {
  std::cerr << "kdrt: error: " << kdrt_last_error() << " ("
            << kdrt_status_message(status) << ")\n";
  return kFailure;
}

std::string defaultRunDirectory(const std::string &planPath) {
  return std::filesystem::path(planPath).stem().string() + ".run";
}

/// Loads the plan and opens a session with the command line's options.
kdrt_status openSession(const CommandLine &line, kdrt_session **session) {
  kdrt_plan *plan = nullptr;
  kdrt_status status = kdrt_plan_load(line.positional[0].c_str(), &plan);
  if (status != KDRT_OK)
    return status;
  std::string runDirectory =
      line.out.empty() ? defaultRunDirectory(line.positional[0]) : line.out;
  kdrt_session_options options;
  kdrt_session_options_init(&options);
  options.backend = line.backend.empty() ? nullptr : line.backend.c_str();
  options.threads = line.threads;
  options.override_seed = line.hasSeed;
  options.seed = line.seed;
  options.max_steps = line.maxSteps;
  options.run_directory = runDirectory.c_str();
  options.print_progress = !line.quiet;
  options.resume = !line.resume.empty();
  options.stop_after_stage =
      line.stopAfter.empty() ? nullptr : line.stopAfter.c_str();
  status = kdrt_session_create(plan, &options, session);
  kdrt_plan_release(plan);
  return status;
}

int runCommand(const CommandLine &line) {
  if (line.positional.size() != 1)
    return usageError("run takes exactly one plan");
  if (!line.resume.empty() && !std::filesystem::is_directory(line.resume)) {
    std::cerr << "kdrt: error: no run directory '" << line.resume
              << "' to resume\n";
    return kFailure;
  }
  kdrt_session *session = nullptr;
  kdrt_status status = openSession(line, &session);
  if (status == KDRT_OK)
    status = kdrt_session_run(session);
  kdrt_session_release(session);
  if (status != KDRT_OK)
    return fail(status);
  std::string out =
      line.out.empty() ? defaultRunDirectory(line.positional[0]) : line.out;
  std::cerr << "kdrt: results in " << out << "/final.json\n";
  return 0;
}

/// The weights `infer` loads: --weights, else the model's export in the
/// run directory. Empty (after printing why) when there are none.
std::string weightsFor(const CommandLine &line, const kdrt::plan::Plan &plan,
                       const std::string &model) {
  if (!line.weights.empty())
    return line.weights;
  std::string out =
      line.out.empty() ? defaultRunDirectory(line.positional[0]) : line.out;
  std::string weights;
  for (const auto &exported : plan.exports)
    if (exported.model == model)
      weights = exported.path[0] == '/' ? exported.path
                                        : out + "/" + exported.path;
  if (weights.empty())
    std::cerr << "kdrt: error: no export of model '" << model
              << "'; pass --weights FILE.safetensors\n";
  return weights;
}

/// Times inference (docs/bench.md) and prints the figures.
int benchCommand(const CommandLine &line, kdrt_session *session,
                 const std::string &model) {
  kdrt_benchmark_options options;
  kdrt_benchmark_options_init(&options);
  options.runs = line.runs;
  options.batches = line.batches;
  options.warmup = line.warmup;
  kdrt_benchmark_result result{};
  kdrt_status status =
      kdrt_benchmark_inference(session, model.c_str(), &options, &result);
  if (status != KDRT_OK)
    return fail(status);
  if (line.json) {
    nlohmann::json report = {
        {"model", model},
        {"backend", line.backend.empty() ? "default" : line.backend},
        {"threads", line.threads},
        {"runs", line.runs},
        {"batches", line.batches},
        {"warmup", line.warmup},
        {"program_batch", result.program_batch},
        {"latency_b1_ms", result.latency_b1_ms},
        {"latency_b1_p90_ms", result.latency_b1_p90_ms},
        {"batch256_ms", result.large_batch_ms},
        {"throughput_b256_images_per_s", result.throughput_images_per_s},
        {"batch_consistency_max_rel_diff", result.batch_difference}};
    std::cout << report.dump() << "\n";
  } else {
    std::printf("model %s, compiled batch %lld, %lld runs, %lld batches\n",
                model.c_str(), (long long)result.program_batch, line.runs,
                line.batches);
    std::printf("latency_b1_ms: %.4f (p90 %.4f)\n", result.latency_b1_ms,
                result.latency_b1_p90_ms);
    std::printf("throughput_b256_images_per_s: %.1f\n",
                result.throughput_images_per_s);
    std::printf("batch 1 vs batch 256 logits: max relative difference %.3g\n",
                result.batch_difference);
  }
  return 0;
}

/// Classifies image files and prints each one's class and probabilities.
int classifyCommand(const CommandLine &line, kdrt_session *session,
                    const std::string &model,
                    const kdrt::plan::DatasetSpec *dataset) {
  int exitCode = 0;
  for (size_t i = 1; i < line.positional.size(); ++i) {
    const std::string &path = line.positional[i];
    kdrt::data::DecodedImage image;
    try {
      image = kdrt::data::decodeImageFile(path);
    } catch (const std::exception &error) {
      std::cerr << "kdrt: error: " << error.what() << "\n";
      exitCode = kFailure;
      continue;
    }
    std::vector<float> probabilities(4096), logits(4096);
    size_t classes = 0;
    kdrt_status status = kdrt_infer_logits(
        session, model.c_str(), image.pixels.data(), image.channels,
        image.height, image.width, logits.data(), logits.size(), &classes);
    if (status == KDRT_OK)
      status = kdrt_infer(session, model.c_str(), image.pixels.data(),
                          image.channels, image.height, image.width,
                          probabilities.data(), probabilities.size(),
                          &classes);
    if (status != KDRT_OK) {
      exitCode = fail(status);
      continue;
    }
    classes = std::min(classes, probabilities.size());
    probabilities.resize(classes);
    logits.resize(classes);
    size_t best = 0;
    for (size_t k = 1; k < classes; ++k)
      if (probabilities[k] > probabilities[best])
        best = k;
    auto nameOf = [&](size_t k) {
      return dataset && k < dataset->classNames.size()
                 ? dataset->classNames[k]
                 : std::to_string(k);
    };
    if (line.json) {
      nlohmann::json report = {{"image", path},
                               {"class", nameOf(best)},
                               {"index", best},
                               {"probabilities", probabilities},
                               {"logits", logits}};
      std::cout << report.dump() << "\n";
      continue;
    }
    std::printf("%s: %s (%.4f)", path.c_str(), nameOf(best).c_str(),
                probabilities[best]);
    for (size_t k = 0; k < classes; ++k)
      std::printf(" %s=%.4f", nameOf(k).c_str(), probabilities[k]);
    std::printf("\n");
  }
  return exitCode;
}

int inferCommand(const CommandLine &line) {
  if (line.bench ? line.positional.size() != 1 : line.positional.size() < 2)
    return usageError(line.bench
                          ? "infer --bench takes a plan and no images"
                          : "infer takes a plan and at least one image");
  kdrt::plan::Plan plan;
  try {
    plan = kdrt::plan::readPlan(line.positional[0]);
  } catch (const kdrt::plan::PlanError &error) {
    std::cerr << "kdrt: error: " << error.what() << "\n";
    return kFailure;
  }
  // The model's own output first, as the session's inference program.
  const kdrt::plan::EvaluationSpec *evaluation = nullptr;
  for (bool ownOutput : {true, false})
    for (const auto &candidate : plan.evaluations)
      if (!evaluation && !kdrt::plan::isLossEvaluation(candidate) && !candidate.ensembleWeight &&
          (line.model.empty() || candidate.model == line.model) &&
          (!ownOutput || candidate.prediction.empty()))
        evaluation = &candidate;
  if (!evaluation) {
    std::cerr << "kdrt: error: the plan has no evaluation"
              << (line.model.empty() ? "" : " of model '" + line.model + "'")
              << " to take the inference program from\n";
    return kFailure;
  }
  std::string model = evaluation->model;
  // A plan that trains nothing and holds every parameter in its blob (an
  // export to .kdx) runs as it is; --weights still replaces them.
  bool embedded =
      plan.stages.empty() && !plan.parameters.empty() &&
      std::all_of(plan.parameters.begin(), plan.parameters.end(),
                  [](const auto &parameter) { return bool(parameter.blob); });
  std::string weights;
  if (!line.weights.empty() || !embedded) {
    weights = weightsFor(line, plan, model);
    if (weights.empty())
      return kFailure;
  }

  CommandLine quiet = line;
  quiet.quiet = true;
  quiet.resume.clear();
  quiet.stopAfter.clear();
  kdrt_session *session = nullptr;
  kdrt_status status = openSession(quiet, &session);
  std::string prefix = model + "/";
  if (status == KDRT_OK && !weights.empty())
    status = kdrt_session_load_weights(session, weights.c_str(),
                                       prefix.c_str());
  if (status != KDRT_OK) {
    kdrt_session_release(session);
    return fail(status);
  }
  int exitCode =
      line.bench ? benchCommand(line, session, model)
                 : classifyCommand(line, session, model,
                                   plan.findDataset(evaluation->data.dataset));
  kdrt_session_release(session);
  return exitCode;
}

int inspectCommand(const CommandLine &line) {
  if (line.positional.size() != 1)
    return usageError("inspect takes exactly one plan or safetensors file");
  const std::string &path = line.positional[0];
  if (std::filesystem::path(path).extension() == ".safetensors") {
    try {
      kdrt::io::SafetensorsFile file = kdrt::io::readSafetensors(path);
      if (line.json)
        kdrt::tools::printTensorJson(file, std::cout);
      else
        kdrt::tools::printTensorSummary(file, std::cout);
    } catch (const kdrt::io::IoError &error) {
      std::cerr << "kdrt: error: " << error.what() << "\n";
      return kFailure;
    }
    return 0;
  }
  try {
    kdrt::tools::printPlanSummary(kdrt::plan::readPlan(line.positional[0]),
                                  std::cout);
  } catch (const kdrt::plan::PlanError &error) {
    std::cerr << "kdrt: error: " << error.what() << "\n";
    return kFailure;
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CommandLine line;
  int parsed = parseCommandLine(argc, argv, line);
  if (parsed >= 0)
    return parsed;
  if (line.command == "run")
    return runCommand(line);
  if (line.command == "infer")
    return inferCommand(line);
  if (line.command == "inspect")
    return inspectCommand(line);
  return usageError("unknown command '" + line.command + "'");
}

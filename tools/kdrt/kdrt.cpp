//===- kdrt.cpp - The runtime's command-line driver -----------------------===//
//
//   kdrt run PLAN.kdx [--out DIR] [--threads N] [--backend NAME]
//                     [--max-steps N] [--seed N] [--quiet]
//   kdrt infer PLAN.kdx IMAGE... [--model S] [--weights FILE] [--out DIR]
//                     [--backend NAME] [--threads N]
//   kdrt inspect PLAN.kdx
//
// Exit codes: 0 success, 1 the plan or the run failed, 2 bad command line.
// `run` and `infer` go through the public C API, so the CLI exercises
// exactly what embedders get.
//
//===----------------------------------------------------------------------===//

#include "Inspect.h"
#include "kdrt/data/DecodedImage.h"
#include "kdrt/kdrt.h"
#include "kdrt/plan/PlanIo.h"

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
    "  infer PLAN.kdx IMAGE...  class probabilities per image\n"
    "      --model S         the model to run (default: first evaluated)\n"
    "      --weights FILE    safetensors weights (default: the model's\n"
    "                        export in the run directory)\n"
    "      --out DIR         run directory holding the exports\n"
    "      --backend NAME, --threads N\n"
    "  inspect PLAN.kdx  print a summary: stages, buffers, arena, ops\n"
    "\n"
    "  --help            this text\n"
    "  --version         the runtime version\n";

struct CommandLine {
  std::string command;
  std::vector<std::string> positional;
  std::string out, backend, model, weights;
  int threads = 0;
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
    } else if (arg == "--out" || arg == "--backend" || arg == "--model" ||
               arg == "--weights") {
      if (!value(text))
        return usageError(arg + " needs a value");
      (arg == "--out"       ? line.out
       : arg == "--backend" ? line.backend
       : arg == "--model"   ? line.model
                            : line.weights) = text;
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
  status = kdrt_session_create(plan, &options, session);
  kdrt_plan_release(plan);
  return status;
}

int runCommand(const CommandLine &line) {
  if (line.positional.size() != 1)
    return usageError("run takes exactly one plan");
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

int inferCommand(const CommandLine &line) {
  if (line.positional.size() < 2)
    return usageError("infer takes a plan and at least one image");
  kdrt::plan::Plan plan;
  try {
    plan = kdrt::plan::readPlan(line.positional[0]);
  } catch (const kdrt::plan::PlanError &error) {
    std::cerr << "kdrt: error: " << error.what() << "\n";
    return kFailure;
  }
  const kdrt::plan::EvaluationSpec *evaluation = nullptr;
  for (const auto &candidate : plan.evaluations)
    if (line.model.empty() || candidate.model == line.model) {
      evaluation = &candidate;
      break;
    }
  if (!evaluation) {
    std::cerr << "kdrt: error: the plan has no evaluation"
              << (line.model.empty() ? "" : " of model '" + line.model + "'")
              << " to take the inference program from\n";
    return kFailure;
  }
  std::string model = evaluation->model;
  std::string weights = line.weights;
  if (weights.empty()) {
    std::string out =
        line.out.empty() ? defaultRunDirectory(line.positional[0]) : line.out;
    for (const auto &exported : plan.exports)
      if (exported.model == model)
        weights = exported.path[0] == '/' ? exported.path
                                          : out + "/" + exported.path;
    if (weights.empty()) {
      std::cerr << "kdrt: error: no export of model '" << model
                << "'; pass --weights FILE.safetensors\n";
      return kFailure;
    }
  }
  const kdrt::plan::DatasetSpec *dataset =
      plan.findDataset(evaluation->data.dataset);

  CommandLine quiet = line;
  quiet.quiet = true;
  kdrt_session *session = nullptr;
  kdrt_status status = openSession(quiet, &session);
  std::string prefix = model + "/";
  if (status == KDRT_OK)
    status = kdrt_session_load_weights(session, weights.c_str(),
                                       prefix.c_str());
  if (status != KDRT_OK) {
    kdrt_session_release(session);
    return fail(status);
  }
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
    std::vector<float> probabilities(4096);
    size_t classes = 0;
    status = kdrt_infer(session, model.c_str(), image.pixels.data(),
                        image.channels, image.height, image.width,
                        probabilities.data(), probabilities.size(), &classes);
    if (status != KDRT_OK) {
      exitCode = fail(status);
      continue;
    }
    classes = std::min(classes, probabilities.size());
    size_t best = 0;
    for (size_t k = 1; k < classes; ++k)
      if (probabilities[k] > probabilities[best])
        best = k;
    auto nameOf = [&](size_t k) {
      return dataset && k < dataset->classNames.size()
                 ? dataset->classNames[k]
                 : std::to_string(k);
    };
    std::printf("%s: %s (%.4f)", path.c_str(), nameOf(best).c_str(),
                probabilities[best]);
    for (size_t k = 0; k < classes; ++k)
      std::printf(" %s=%.4f", nameOf(k).c_str(), probabilities[k]);
    std::printf("\n");
  }
  kdrt_session_release(session);
  return exitCode;
}

int inspectCommand(const CommandLine &line) {
  if (line.positional.size() != 1)
    return usageError("inspect takes exactly one plan");
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

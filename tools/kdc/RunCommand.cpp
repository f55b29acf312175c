//===- RunCommand.cpp - kdc run: execute a compiled plan ------------------===//
#include "RunCommand.h"

#include "Compile.h"
#include "Sha256.h"

#include "kdrt/exec/Session.h"
#include "kdrt/io/AtomicFile.h"
#include "kdrt/io/RunDirectory.h"
#include "kdrt/io/Safetensors.h"
#include "kdrt/kdrt.h"
#include "kdrt/plan/PlanIo.h"

#ifdef KDC_HAVE_ONEDNN
#include "oneapi/dnnl/dnnl.h"
#endif

#include "llvm/Config/llvm-config.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// UTC time as `2024-05-01T12:34:56Z` (`compact`: `20240501-123456`).
std::string utcTime(bool compact) {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, compact ? "%Y%m%d-%H%M%S" : "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string onednnVersion() {
#ifdef KDC_HAVE_ONEDNN
  const dnnl_version_t *v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
#else
  return "";
#endif
}

/// sha256 over each of the model's parameters in the store's order: name,
/// shape and f32 bytes, so a renamed or reshaped tensor changes the hash too.
kdrt::Status modelHash(kdrt::exec::ParameterStore &store, const std::string &model, std::string &hash) {
  std::vector<std::string> names;
  for (const std::string &name : store.names())
    if (name.rfind(model + "/", 0) == 0)
      names.push_back(name);
  kdrt::io::SafetensorsFile file;
  KDRT_RETURN_IF_ERROR(store.snapshot(names, false, file));
  std::string bytes;
  for (const kdrt::io::NamedTensor &tensor : file.tensors) {
    bytes += tensor.name;
    bytes += '\0';
    for (int64_t dim : tensor.shape)
      bytes += std::to_string(dim) + ",";
    bytes.append(reinterpret_cast<const char *>(tensor.bytes.data()), tensor.bytes.size());
  }
  hash = kdc::sha256Hex(bytes);
  return kdrt::Status::success();
}

/// Each student's parameters, without the `<model>/` prefix, as
/// `<run>/<student>.safetensors` (what the runtime's loaders read).
kdrt::Status writeStudents(kdrt::exec::Session &session, const kdc::RunRequest &request, const fs::path &runDir) {
  for (const std::string &student : request.students) {
    std::vector<std::string> names;
    for (const std::string &name : session.parameters().names())
      if (name.rfind(student + "/", 0) == 0)
        names.push_back(name);
    if (names.empty())
      continue;
    kdrt::io::SafetensorsFile file;
    KDRT_RETURN_IF_ERROR(session.parameters().snapshot(names, /*stripPrefix=*/true, file));
    file.metadata["model"] = student;
    kdrt::io::writeSafetensors((runDir / (student + ".safetensors")).string(), file);
  }
  return kdrt::Status::success();
}

/// The --json line of one stage: its figures and its evaluations' metrics.
json stageLine(const json &stage) {
  json line = {{"stage", stage.value("name", "")}};
  for (const char *key : {"steps", "images", "seconds", "images_per_s", "peak_rss_bytes", "final_loss"})
    if (stage.contains(key))
      line[key] = stage[key];
  json evaluations = json::array();
  for (const json &evaluation : stage.value("evaluations", json::array())) {
    json entry = {{"split", evaluation.value("split", "")}};
    if (evaluation.contains("loss")) {
      entry["loss"] = evaluation["loss"];
      entry["value"] = evaluation["value"];
    } else {
      entry["model"] = evaluation.value("model", "");
    }
    if (evaluation.contains("using"))
      entry["using"] = evaluation["using"];
    if (evaluation.contains("accuracy"))
      entry["accuracy"] = evaluation["accuracy"];
    for (const char *metric : {"sensitivity", "specificity", "f1"})
      if (evaluation.contains(std::string("macro_") + metric))
        entry[metric] = evaluation[std::string("macro_") + metric];
    evaluations.push_back(entry);
  }
  line["evaluations"] = evaluations;
  return line;
}

/// What in `runDir` shows that it holds a run ("" if nothing does): the
/// plan kdc writes first, or the metrics log the runtime appends to.
std::string heldRun(const fs::path &runDir) {
  std::error_code ec;
  for (const char *name : {"plan.kdx", kdrt::io::RunDirectory::kMetricsFile})
    if (fs::exists(runDir / name, ec))
      return std::string("its ") + name;
  return "";
}

/// A run may be resumed when its directory holds the plan this command line
/// compiles to, byte for byte: the same spec files, --set values, seed,
/// target and compiler. The checkpoints then belong to this plan.
std::string checkResumable(const kdrt::plan::Plan &plan, const fs::path &runDir) {
  std::error_code ec;
  if (!fs::is_directory(runDir, ec))
    return "no run directory '" + runDir.string() + "' to resume";
  fs::path planPath = runDir / "plan.kdx";
  std::ifstream in(planPath, std::ios::binary);
  if (!in)
    return "'" + runDir.string() + "' holds no plan.kdx: it is not a run kdc started, so there is nothing to resume";
  std::vector<uint8_t> held((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (held != kdrt::plan::serializePlan(plan))
    return planPath.string() +
           " differs from the plan this command line compiles to; resume with the command line "
           "that started the run (the same file, --set values, --seed, --target and kdc)";
  return "";
}

int fail(const std::string &message) {
  std::cerr << "kdc: error: " << message << '\n';
  return 1;
}

} // namespace

int kdc::runPlan(const kdrt::plan::Plan &plan, const RunRequest &request) {
  fs::path runDir = request.outDir.empty() ? fs::path("runs") / (request.recipe + "-" + utcTime(true))
                                           : fs::path(request.outDir);
  std::string planPath = (runDir / "plan.kdx").string();
  if (request.resume) {
    if (std::string error = checkResumable(plan, runDir); !error.empty())
      return fail(error);
  } else {
    if (std::string held = heldRun(runDir); !held.empty() && !request.overwrite)
      return fail("the run directory '" + runDir.string() + "' already holds a run (" + held +
                  "); continue it with --resume " + runDir.string() +
                  ", start it over with --overwrite, or give another --out");
    std::error_code ec;
    if (request.overwrite)
      for (const char *name : {"plan.kdx", kdrt::io::RunDirectory::kMetricsFile,
                               kdrt::io::RunDirectory::kFinalMetricsFile, "final.json", "manifest.json",
                               "checkpoints"})
        if (fs::remove_all(runDir / name, ec); ec)
          return fail("cannot remove '" + (runDir / name).string() + "' to start the run over: " + ec.message());
    fs::create_directories(runDir, ec);
    if (ec)
      return fail("cannot create the run directory '" + runDir.string() + "': " + ec.message());
    std::string error;
    if (!savePlan(plan, planPath, error))
      return fail(error);
  }

  kdrt::exec::RunOptions options;
  options.backend = request.backend;
  options.threads = request.threads;
  options.seed = plan.seed;
  options.maxSteps = request.maxSteps;
  options.runDirectory = runDir.string();
  options.printProgress = true;
  options.resume = request.resume;
  options.stopAfterStage = request.stopAfter;
  options.teacherCacheLimit = request.teacherCacheLimit;
  std::unique_ptr<kdrt::exec::Session> session;
  std::cerr << "kdc: running " << plan.stages.size() << " stage(s) in " << runDir.string() << '\n';
  kdrt::Status status =
      kdrt::exec::Session::create(std::make_shared<const kdrt::plan::Plan>(plan), planPath, options, session);
  if (status.ok())
    status = session->run();
  // A run stopped early has students that are not yet trained: their weights
  // come with the run that completes it (--resume).
  bool stoppedEarly = status.ok() && session->report().contains("stopped_after");
  if (status.ok() && !stoppedEarly) {
    try {
      status = writeStudents(*session, request, runDir);
    } catch (const std::exception &e) {
      status = kdrt::Status::internal(e.what());
    }
  }
  json teachers = json::object();
  for (const std::string &teacher : request.teachers) {
    std::string hash;
    if (status.ok())
      status = modelHash(session->parameters(), teacher, hash);
    teachers[teacher] = hash;
  }
  if (!status.ok())
    return fail(status.message());

  // FLOPs as 2 x multiply-adds, the convention of papers that report them.
  json models = json::object();
  for (const RunRequest::ModelCost &model : request.models)
    models[model.name] = {{"input", model.input},
                          {"parameters", model.parameters},
                          {"multiply_adds", model.multiplyAdds},
                          {"flops", 2 * model.multiplyAdds}};
  json files = json::array();
  for (const auto &[name, hash] : request.specFiles)
    files.push_back({{"file", name}, {"sha256", hash}});
  json manifest = {
      {"recipe", request.recipe},
      {"plan", "plan.kdx"},
      {"spec", {{"file", plan.specFile}, {"sha256", plan.specSha256}, {"files", files}}},
      {"teacher_weights_sha256", teachers},
      {"models", models},
      {"seed", plan.seed},
      {"target", plan.target},
      {"backend", session->backend().name()},
      {"versions",
       {{"kdc", KDC_VERSION},
        {"runtime", kdrt_version()},
        {"onednn", onednnVersion()},
        {"compiler", std::string("g++ ") + __VERSION__},
        {"llvm_mlir", LLVM_VERSION_STRING}}},
      {"command_line", request.commandLine},
      {"resumed_after", session->report().value("resumed_after", json())},
      {"stopped_after", session->report().value("stopped_after", json())},
      {"date", utcTime(false)}};
  try {
    kdrt::io::writeFileAtomically((runDir / "manifest.json").string(), manifest.dump(2) + "\n");
  } catch (const std::exception &e) {
    return fail(e.what());
  }
  if (request.json)
    for (const json &stage : session->report().value("stages", json::array()))
      std::cout << stageLine(stage).dump() << '\n';
  std::cerr << "kdc: results in " << (runDir / "final.json").string() << '\n';
  return 0;
}

//===- CompileAndRun.cpp - kdc compile / kdc run on a checked program -----===//
#include "CompileAndRun.h"

#include "Compile.h"
#include "Recipes.h"
#include "RunCommand.h"
#include "Sha256.h"

#include "kd/dsl/Checked.h"
#include "kd/dsl/SourceLocation.h"

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

bool kdc::compileAndRun(uint32_t root, const kd::SourceManager &sources, const kd::CheckedProgram &program,
                        const DriverOptions &opts) {
  kdrt::plan::Plan plan;
  plan.producer = std::string("kdc ") + KDC_VERSION;
  std::string rootName(sources.name(root));
  // The file's name only: a plan must not depend on where it was compiled.
  plan.specFile = fs::path(rootName).filename().string();
  plan.specSha256 = sha256Hex(sources.text(root));
  plan.seed = opts.seed.value_or(0);

  CompileOutput output = opts.emit == Emit::Lowered ? CompileOutput::Lowered : CompileOutput::Plan;
  kd::KDPipelineOptions pipeline;
  pipeline.target = opts.target;
  pipeline.fuse = opts.fuse;
  pipeline.teacherPrecision = opts.teacherPrecision;
  if (!compileProgram(program, sources, pipeline, output, std::cout, plan))
    return false;
  if (opts.emit == Emit::Lowered)
    return true;
  if (opts.emit == Emit::Plan) {
    std::cout << planManifest(plan);
    return true;
  }

  if (opts.command == Command::Compile) {
    std::string path = opts.outputPath.empty() ? recipeName(rootName) + ".kdx" : opts.outputPath;
    std::string error;
    if (!savePlan(plan, path, error)) {
      std::cerr << "kdc: error: " << error << '\n';
      return false;
    }
    return true;
  }

  RunRequest request;
  request.recipe = recipeName(rootName);
  request.outDir = opts.runDirectory;
  request.resume = opts.resume;
  request.overwrite = opts.overwrite;
  request.stopAfter = opts.stopAfter;
  request.teacherCacheLimit = opts.teacherCacheLimit;
  request.maxSteps = opts.maxSteps;
  request.threads = opts.threads;
  request.backend = opts.backend;
  request.json = opts.json;
  request.commandLine = opts.commandLine;
  // The root first, then every file it imported, in load order.
  request.specFiles.emplace_back(plan.specFile, plan.specSha256);
  for (uint32_t file = 1; file <= uint32_t(sources.size()); ++file)
    if (file != root)
      request.specFiles.emplace_back(std::string(sources.name(file)), sha256Hex(sources.text(file)));
  for (const kd::CheckedModelUse &use : program.uses) {
    (use.isTeacher ? request.teachers : request.students).push_back(use.name);
    if (use.instance < 0)
      continue; // an ensemble: its members are listed themselves
    const kd::ModelInstance &instance = program.instances[size_t(use.instance)];
    request.models.push_back(
        {use.name, instance.inputShape, instance.parameterCount(), instance.multiplyAdds()});
  }
  return runPlan(plan, request) == 0;
}

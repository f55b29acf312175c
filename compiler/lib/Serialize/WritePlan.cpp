//===- WritePlan.cpp - The exception boundary around the plan writer ------===//
//
// kdrt_plan throws PlanError; the rest of the compiler is built without
// exceptions. This file (compiled with them) catches everything the writer
// can throw and hands it back as text.
//
//===----------------------------------------------------------------------===//
#include "kd/Serialize/PlanSerializer.h"

#include "kdrt/plan/PlanIo.h"

#include <exception>

std::string kd::planManifestText(const kdrt::plan::Plan &plan) {
  try {
    return kdrt::plan::planToJson(plan).dump(2) + "\n";
  } catch (const std::exception &error) {
    return std::string("{\"error\": ") + nlohmann::json(error.what()).dump() + "}\n";
  }
}

bool kd::writePlanFile(const kdrt::plan::Plan &plan, const std::string &path, std::string &error) {
  try {
    kdrt::plan::writePlan(path, plan);
    return true;
  } catch (const std::exception &error_) {
    error = error_.what();
    return false;
  }
}

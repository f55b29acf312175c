//===- MakeStudentPlan.cpp - The Student plan for the interop tests -------===//
//
//   kdrt-make-student-plan DIR
//
// Writes DIR/data (a 28x28, ten-class IDX data set) and DIR/student.kdx, the
// stdlib Student (StudentPlan.h) over it.
//
//===----------------------------------------------------------------------===//

#include "StudentPlan.h"
#include "kdrt/plan/PlanIo.h"

#include <filesystem>
#include <iostream>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: kdrt-make-student-plan DIR\n";
    return 2;
  }
  std::string dir = argv[1];
  try {
    std::filesystem::create_directories(dir + "/data");
    kdrt::test::writeStudentIdx(dir + "/data", 64);
    kdrt::plan::writePlan(dir + "/student.kdx",
                          kdrt::test::makeStudentPlan("data", 16, 5));
  } catch (const std::exception &error) {
    std::cerr << "kdrt-make-student-plan: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

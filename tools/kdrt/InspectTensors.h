//===- InspectTensors.h - kdrt inspect of a safetensors file ----*- C++ -*-===//
//
// What kdrt reads in a checkpoint or export: per tensor its name, dtype,
// shape and values, so that other readers of the same file (the Python
// safetensors package in test/interop) can be checked against it.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_TOOLS_INSPECTTENSORS_H
#define KDRT_TOOLS_INSPECTTENSORS_H

#include "kdrt/io/Safetensors.h"

#include <ostream>

namespace kdrt::tools {

/// Text: the metadata, then one line per tensor with its dtype, shape and
/// the sum and first values of an F32 tensor.
void printTensorSummary(const io::SafetensorsFile &file, std::ostream &out);

/// One JSON object: "metadata" and "tensors", each tensor with "name",
/// "dtype", "shape" and "values" (every value of an F32 tensor, printed so
/// that it reads back to the same float).
void printTensorJson(const io::SafetensorsFile &file, std::ostream &out);

} // namespace kdrt::tools

#endif // KDRT_TOOLS_INSPECTTENSORS_H

//===- InspectTensors.cpp - kdrt inspect of a safetensors file ------------===//

#include "InspectTensors.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace kdrt::tools {

namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

} // namespace

void printTensorSummary(const io::SafetensorsFile &file, std::ostream &out) {
  for (const auto &[key, value] : file.metadata)
    out << "metadata " << key << ": " << value << "\n";
  out << file.tensors.size() << " tensors\n";
  for (const io::NamedTensor &tensor : file.tensors) {
    out << "  " << tensor.name << " " << io::dtypeName(tensor.dtype) << " "
        << shapeText(tensor.shape);
    if (tensor.dtype == io::TensorDtype::F32) {
      std::vector<float> values = tensor.toFloats();
      double sum = 0;
      for (float value : values)
        sum += value;
      char text[64];
      std::snprintf(text, sizeof text, " sum %.6g", sum);
      out << text;
      for (size_t i = 0; i < values.size() && i < 4; ++i) {
        std::snprintf(text, sizeof text, "%s%.6g", i ? ", " : " [", values[i]);
        out << text;
      }
      if (!values.empty())
        out << (values.size() > 4 ? ", ...]" : "]");
    }
    out << "\n";
  }
}

void printTensorJson(const io::SafetensorsFile &file, std::ostream &out) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const io::NamedTensor &tensor : file.tensors) {
    nlohmann::json entry = {{"name", tensor.name},
                            {"dtype", io::dtypeName(tensor.dtype)},
                            {"shape", tensor.shape}};
    if (tensor.dtype == io::TensorDtype::F32) {
      // As doubles: JSON numbers printed from a double read back exactly,
      // and every float is exactly a double.
      std::vector<double> values;
      for (float value : tensor.toFloats())
        values.push_back(value);
      entry["values"] = values;
    } else if (tensor.dtype == io::TensorDtype::I64) {
      entry["values"] = tensor.toInt64s();
    }
    tensors.push_back(entry);
  }
  out << nlohmann::json{{"metadata", file.metadata}, {"tensors", tensors}}
             .dump()
      << "\n";
}

} // namespace kdrt::tools

//===- ConstValue.cpp - Values known at compile time -----------------------===//
#include "kd/dsl/ConstValue.h"
#include "kd/dsl/Shape.h"

#include <cmath>
#include <sstream>

namespace kd {

ConstValue ConstValue::ofInt(int64_t v) {
  ConstValue c;
  c.kind = Kind::Int;
  c.intValue = v;
  return c;
}
ConstValue ConstValue::ofFloat(double v) {
  ConstValue c;
  c.kind = Kind::Float;
  c.floatValue = v;
  return c;
}
ConstValue ConstValue::ofBool(bool v) {
  ConstValue c;
  c.kind = Kind::Bool;
  c.boolValue = v;
  return c;
}
ConstValue ConstValue::ofString(std::string v) {
  ConstValue c;
  c.kind = Kind::String;
  c.stringValue = std::move(v);
  return c;
}
ConstValue ConstValue::ofList(std::vector<ConstValue> v) {
  ConstValue c;
  c.kind = Kind::List;
  c.elements = std::move(v);
  return c;
}

std::string ConstValue::str() const {
  switch (kind) {
  case Kind::None: return "none";
  case Kind::Int: return std::to_string(intValue);
  case Kind::Float: {
    // Shortest round-trip-ish spelling that still reads as a float.
    std::ostringstream os;
    os.precision(6);
    os << floatValue;
    std::string s = os.str();
    if (s.find_first_of(".eEn") == std::string::npos)
      s += ".0";
    return s;
  }
  case Kind::Bool: return boolValue ? "true" : "false";
  case Kind::String: return "\"" + stringValue + "\"";
  case Kind::List: {
    std::string s = "[";
    for (size_t i = 0; i < elements.size(); ++i)
      s += (i ? ", " : "") + elements[i].str();
    return s + "]";
  }
  }
  return "none";
}

const char *ConstValue::typeName() const {
  switch (kind) {
  case Kind::None: return "none";
  case Kind::Int: return "int";
  case Kind::Float: return "float";
  case Kind::Bool: return "bool";
  case Kind::String: return "string";
  case Kind::List: return "list";
  }
  return "none";
}

bool ConstValue::operator==(const ConstValue &o) const {
  if (isNumber() && o.isNumber()) {
    if (isInt() && o.isInt())
      return intValue == o.intValue;
    return asDouble() == o.asDouble();
  }
  if (kind != o.kind)
    return false;
  switch (kind) {
  case Kind::None: return true;
  case Kind::Bool: return boolValue == o.boolValue;
  case Kind::String: return stringValue == o.stringValue;
  case Kind::List: return elements == o.elements;
  default: return false;
  }
}

std::string formatShape(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

} // namespace kd

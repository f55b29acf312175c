//===- ConstValue.h - Values known at compile time --------------*- C++ -*-===//
//
// The result of compile-time evaluation: model parameters, `let` constants
// and built-in arguments. Ints and floats stay distinct so that `conv(16.5)`
// can be rejected while `sgd(lr: 1)` is accepted as a number.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_CONSTVALUE_H
#define KD_DSL_CONSTVALUE_H

#include <cstdint>
#include <string>
#include <vector>

namespace kd {

struct ConstValue {
  enum class Kind { None, Int, Float, Bool, String, List };

  Kind kind = Kind::None;
  int64_t intValue = 0;
  double floatValue = 0;
  bool boolValue = false;
  std::string stringValue;
  std::vector<ConstValue> elements;

  static ConstValue ofInt(int64_t v);
  static ConstValue ofFloat(double v);
  static ConstValue ofBool(bool v);
  static ConstValue ofString(std::string v);
  static ConstValue ofList(std::vector<ConstValue> v);

  bool isNone() const { return kind == Kind::None; }
  bool isInt() const { return kind == Kind::Int; }
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  bool isBool() const { return kind == Kind::Bool; }
  bool isString() const { return kind == Kind::String; }
  bool isList() const { return kind == Kind::List; }
  // The value of an Int or Float as a double.
  double asDouble() const { return kind == Kind::Int ? double(intValue) : floatValue; }

  // Source-like spelling: `3`, `0.1`, `true`, `"kaiming"`, `[16, 32]`.
  std::string str() const;
  // "int", "float", "bool", "string", "list", "none": for type errors.
  const char *typeName() const;

  bool operator==(const ConstValue &other) const;
  bool operator!=(const ConstValue &other) const { return !(*this == other); }
};

} // namespace kd

#endif // KD_DSL_CONSTVALUE_H

//===- Scope.cpp - Top-level names across imports -------------------------===//
//
// A module sees its own declarations and those of the modules it imports,
// transitively. Two different declarations of one name visible in a module
// are an error at the later one, with a note at the first.
//
//===----------------------------------------------------------------------===//
#include "SemaImpl.h"

#include <cstdlib>

namespace kd::sema {

using namespace kd::ast;

namespace {
const char *declKindName(DeclKind kind) {
  switch (kind) {
  case DeclKind::Let: return "constant";
  case DeclKind::Data: return "data";
  case DeclKind::Model: return "model";
  case DeclKind::Teacher: return "teacher";
  case DeclKind::Student: return "student";
  case DeclKind::Stage: return "stage";
  default: return "declaration";
  }
}
} // namespace

void Sema::buildSymbolTables() {
  visible.assign(prog.modules.size(), {});
  for (size_t m = 0; m < prog.modules.size(); ++m) {
    auto &table = visible[m];
    // Imported names first: imports come earlier in dependency order.
    if (m < prog.imports.size())
      for (size_t imported : prog.imports[m]) {
        if (imported >= m)
          continue;
        for (const auto &[name, decl] : visible[imported]) {
          auto [it, inserted] = table.emplace(name, decl);
          if (!inserted && it->second != decl) {
            diags.error(decl->nameRange, "'" + name + "' is declared in two imported modules");
            diags.note(it->second->nameRange, "the other declaration of '" + name + "' is here");
          }
        }
      }
    for (const DeclPtr &decl : prog.modules[m]->decls) {
      moduleOf[decl.get()] = m;
      if (decl->name.empty())
        continue;
      auto [it, inserted] = table.emplace(decl->name, decl.get());
      if (!inserted) {
        diags.error(decl->nameRange, std::string("duplicate declaration of ") + declKindName(decl->kind) + " '" +
                                         decl->name + "'");
        diags.note(it->second->nameRange, "'" + decl->name + "' first declared here");
      }
    }
  }
}

const Decl *Sema::lookupGlobal(const std::string &name) const {
  if (currentModule >= visible.size())
    return nullptr;
  auto it = visible[currentModule].find(name);
  return it == visible[currentModule].end() ? nullptr : it->second;
}

std::vector<std::string> Sema::globalNames() const {
  std::vector<std::string> names;
  if (currentModule < visible.size())
    for (const auto &entry : visible[currentModule])
      names.push_back(entry.first);
  return names;
}

std::optional<ConstValue> Sema::letValue(const LetDecl &let) {
  auto cached = letValues.find(&let);
  if (cached != letValues.end())
    return cached->second;
  if (letsInProgress.count(&let)) {
    diags.error(let.nameRange, "constant '" + let.name + "' is defined in terms of itself");
    return std::nullopt;
  }
  std::optional<ConstValue> value = overrideFor(let.name);
  if (!value) {
    letsInProgress.insert(&let);
    size_t saved = currentModule;
    currentModule = moduleOf[&let];
    Evaluator evaluator(*this);
    Value v = evaluator.eval(*let.value);
    currentModule = saved;
    letsInProgress.erase(&let);
    if (v.kind == Value::Kind::Const)
      value = v.constant;
    else if (v.ok())
      diags.error(let.value->range, "'let' needs a constant, got " + describe(v));
  }
  letValues[&let] = value;
  return value;
}

// `--set key=value`: ints, floats and bools are read as such, anything else
// is a string.
void Sema::applyOverrides() {
  for (const auto &[key, text] : opts.overrides) {
    char *end = nullptr;
    long long asInt = std::strtoll(text.c_str(), &end, 10);
    if (!text.empty() && end && *end == '\0') {
      overrideValues[key] = ConstValue::ofInt(asInt);
      continue;
    }
    double asFloat = std::strtod(text.c_str(), &end);
    if (!text.empty() && end && *end == '\0')
      overrideValues[key] = ConstValue::ofFloat(asFloat);
    else if (text == "true" || text == "false")
      overrideValues[key] = ConstValue::ofBool(text == "true");
    else
      overrideValues[key] = ConstValue::ofString(text);
  }
}

std::optional<ConstValue> Sema::overrideFor(const std::string &key) {
  auto it = overrideValues.find(key);
  if (it == overrideValues.end())
    return std::nullopt;
  usedOverrides.insert(key);
  return it->second;
}

} // namespace kd::sema

//===- DataOverride.cpp - kdc --data: swap a program's data declaration ---===//
//
// A recipe names its data once, in a `data` declaration, and refers to it by
// name everywhere else (`fmnist.train`, `fmnist.classes`...). Replacing that
// one declaration by the user's (an image folder, a MedMNIST .npz) therefore
// retargets the whole recipe; the checker then verifies the result like any
// other program, so a split the recipe needs and the new data lacks is an
// error at the recipe's line that uses it.
//
//===----------------------------------------------------------------------===//
#include "kd/dsl/Frontend.h"

#include <filesystem>

namespace kd {

namespace {

std::string joinNames(const std::vector<std::string> &names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", '" : "'") + names[i] + "'";
  return out;
}

} // namespace

bool replaceData(Program &prog, SourceManager &sm, DiagnosticEngine &diags, const std::string &name,
                 const std::string &path) {
  if (prog.modules.empty())
    return false;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    diags.error({}, "--data: cannot open '" + path + "'" +
                        (std::filesystem::exists(path, ec) ? ": not a regular file" : ": no such file"));
    return false;
  }
  std::string readError;
  uint32_t file = sm.addFile(path, readError);
  if (!file) {
    diags.error({}, "--data: " + readError);
    return false;
  }
  std::unique_ptr<ast::Module> replacement = parseModule(file, sm, diags);
  if (!replacement)
    return false;

  // FILE: exactly one data declaration and nothing else.
  ast::DeclPtr *newData = nullptr;
  bool ok = true;
  for (ast::DeclPtr &decl : replacement->decls) {
    if (decl->kind != ast::DeclKind::Data) {
      diags.error(decl->range, "a --data file holds one 'data' declaration and nothing else");
      ok = false;
    } else if (newData) {
      diags.error(decl->nameRange, "a --data file holds one 'data' declaration; this is a second one");
      diags.note((*newData)->nameRange, "the first one is here");
      ok = false;
    } else {
      newData = &decl;
    }
  }
  if (ok && !newData) {
    diags.error({}, "--data: '" + path + "' declares no data (expected one 'data NAME = SOURCE { ... }')");
    ok = false;
  }
  if (!ok)
    return false;

  // The program's declaration it replaces.
  ast::Module &root = *prog.modules.back();
  std::vector<std::string> declared;
  ast::DeclPtr *target = nullptr;
  for (ast::DeclPtr &decl : root.decls) {
    if (decl->kind != ast::DeclKind::Data)
      continue;
    declared.push_back(decl->name);
    if (name.empty() ? declared.size() == 1 : decl->name == name)
      target = &decl;
  }
  std::string programName(sm.name(root.file));
  if (declared.empty()) {
    diags.error({}, "--data: '" + programName + "' declares no data to replace");
    return false;
  }
  if (!name.empty() && !target) {
    diags.error({}, "--data " + name + "=...: '" + programName + "' declares no data '" + name +
                        "' (it declares " + joinNames(declared) + ")");
    return false;
  }
  if (name.empty() && declared.size() > 1) {
    diags.error({}, "--data: '" + programName + "' declares several data sets (" + joinNames(declared) +
                        "); say which one to replace with --data NAME=FILE");
    return false;
  }
  (*newData)->name = (*target)->name;
  *target = std::move(*newData);
  // The replacement's module stays alive through its declaration; its file
  // stays in the SourceManager for diagnostics.
  return true;
}

} // namespace kd

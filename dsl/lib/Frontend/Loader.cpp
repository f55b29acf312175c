//===- Loader.cpp - A root file and its transitive imports ----------------===//
//
// A depth-first walk over imports. A module is appended to the program only
// after everything it imports, which gives the dependency order the Program
// promises. Files are identified by their canonical path, so the same file
// reached by two routes (`a.kd` and `lib/../a.kd`, or a symlink) loads once;
// the chain of files being loaded is kept to recognise a cycle at the import
// that closes it.
//
//===----------------------------------------------------------------------===//
#include "kd/dsl/Frontend.h"

#include <filesystem>
#include <map>
#include <optional>
#include <system_error>

namespace kd {

namespace {

namespace fs = std::filesystem;

std::string canonicalPath(const fs::path &path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  return ec ? path.lexically_normal().string() : canonical.string();
}

bool isReadableFile(const fs::path &path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// One call of Loader::load: the state of the walk.
class LoadSession {
public:
  LoadSession(SourceManager &sm, DiagnosticEngine &diags, const std::vector<std::string> &searchPath,
              Program &prog)
      : sm(sm), diags(diags), searchPath(searchPath), prog(prog) {}

  bool loadRoot(uint32_t file) {
    std::string canonical = canonicalPath(std::string(sm.name(file)));
    return loadModule(file, canonical).has_value() && ok;
  }

private:
  struct Visiting {
    std::string canonical;
    std::string displayName;
    SourceRange importedAt; // the import that led here; invalid for the root
  };

  // Loads `file` and its imports; returns its index in `prog.modules`, or
  // nothing if it could not be parsed.
  std::optional<size_t> loadModule(uint32_t file, const std::string &canonical);
  // Resolves an import's path to a file, or reports where it looked.
  std::optional<fs::path> resolve(const ast::ImportDecl &imp, uint32_t importer);
  void reportCycle(const ast::ImportDecl &imp, size_t cycleStart);

  SourceManager &sm;
  DiagnosticEngine &diags;
  const std::vector<std::string> &searchPath;
  Program &prog;
  std::map<std::string, size_t> loaded; // canonical path -> module index
  std::map<std::string, bool> failed;   // canonical paths that did not parse
  std::vector<Visiting> stack;
  bool ok = true;
};

std::optional<size_t> LoadSession::loadModule(uint32_t file, const std::string &canonical) {
  std::unique_ptr<ast::Module> module = parseModule(file, sm, diags);
  if (!module) {
    ok = false;
    failed[canonical] = true;
    return std::nullopt;
  }

  stack.push_back({canonical, std::string(sm.name(file)), {}});
  std::vector<size_t> importIndexes;
  for (const ast::DeclPtr &decl : module->decls) {
    const auto *imp = ast::dyn_cast<ast::ImportDecl>(decl.get());
    if (!imp)
      continue;
    std::optional<fs::path> found = resolve(*imp, file);
    if (!found) {
      ok = false;
      continue;
    }
    std::string target = canonicalPath(*found);

    size_t cycleStart = stack.size();
    for (size_t i = 0; i < stack.size(); ++i)
      if (stack[i].canonical == target)
        cycleStart = i;
    if (cycleStart != stack.size()) {
      reportCycle(*imp, cycleStart);
      ok = false;
      continue;
    }
    if (auto it = loaded.find(target); it != loaded.end()) {
      importIndexes.push_back(it->second);
      continue;
    }
    if (failed.count(target))
      continue; // its errors are already reported

    std::string error;
    uint32_t importedFile = sm.addFile(found->string(), error);
    if (!importedFile) {
      diags.error(imp->pathRange, "cannot read imported file '" + imp->path + "': " + error);
      ok = false;
      failed[target] = true;
      continue;
    }
    stack.back().importedAt = imp->pathRange;
    if (std::optional<size_t> index = loadModule(importedFile, target))
      importIndexes.push_back(*index);
  }
  stack.pop_back();

  prog.modules.push_back(std::move(module));
  prog.imports.push_back(std::move(importIndexes));
  size_t index = prog.modules.size() - 1;
  loaded[canonical] = index;
  return index;
}

std::optional<fs::path> LoadSession::resolve(const ast::ImportDecl &imp, uint32_t importer) {
  if (imp.path.empty()) {
    diags.error(imp.pathRange, "import path is empty");
    return std::nullopt;
  }
  fs::path wanted(imp.path);
  if (wanted.is_absolute()) {
    if (isReadableFile(wanted))
      return wanted;
    diags.error(imp.pathRange, "cannot find imported file '" + imp.path + "'");
    return std::nullopt;
  }

  std::vector<fs::path> candidates;
  for (const std::string &dir : searchPath)
    if (!dir.empty())
      candidates.push_back(fs::path(dir) / wanted);
  candidates.push_back(fs::path(std::string(sm.name(importer))).parent_path() / wanted);

  std::string looked;
  for (const fs::path &candidate : candidates) {
    if (isReadableFile(candidate))
      return candidate.lexically_normal();
    looked += (looked.empty() ? "" : ", ") + candidate.lexically_normal().string();
  }
  diags.error(imp.pathRange, "cannot find imported file '" + imp.path + "' (looked for " + looked + ")");
  return std::nullopt;
}

void LoadSession::reportCycle(const ast::ImportDecl &imp, size_t cycleStart) {
  const Visiting &closed = stack[cycleStart];
  diags.error(imp.pathRange, "import cycle: '" + imp.path + "' is '" + closed.displayName +
                                 "', which is still being loaded");
  // Walk the chain from the file that is imported again to the import that
  // closed the cycle.
  for (size_t i = cycleStart; i + 1 < stack.size(); ++i)
    diags.note(stack[i].importedAt, "'" + stack[i].displayName + "' imports '" + stack[i + 1].displayName + "' here");
}

} // namespace

bool Loader::load(const std::string &path, Program &prog) {
  std::string error;
  std::error_code ec;
  if (!isReadableFile(path) && fs::exists(path, ec)) {
    diags.error({}, "cannot open '" + path + "': not a regular file");
    return false;
  }
  uint32_t file = sm.addFile(path, error);
  if (!file) {
    diags.error({}, error);
    return false;
  }
  return loadBuffer(file, prog);
}

bool Loader::loadBuffer(uint32_t file, Program &prog) {
  return LoadSession(sm, diags, searchPath, prog).loadRoot(file);
}

} // namespace kd

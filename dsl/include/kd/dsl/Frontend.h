//===- Frontend.h - Load, parse and check .kd programs ----------*- C++ -*-===//
//
// The front end's entry points, used by kdc and the tests:
//
//   SourceManager sm; DiagnosticEngine diags(sm);
//   Program prog;
//   Loader loader(sm, diags, searchPath);
//   if (loader.load("recipe.kd", prog)) { ... check(prog, diags, ...) ... }
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_FRONTEND_H
#define KD_DSL_FRONTEND_H

#include "kd/dsl/AST.h"
#include "kd/dsl/Diagnostics.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace kd {

// The largest .kd file parseModule accepts. ANTLR keeps every token and the
// whole parse tree in memory, about 220 bytes per byte of source (a 10 MB
// file took 2.2 GB and 9 s); a real specification is a few kilobytes, so a
// larger input is almost surely not one, and is refused with a clear error
// rather than exhausting memory.
constexpr size_t kMaxSourceBytes = size_t(4) << 20;

// Parses one buffer already in the SourceManager. Returns null if the file had
// syntax errors (they are reported to `diags`); the AST is built only from a
// parse tree without errors.
std::unique_ptr<ast::Module> parseModule(uint32_t file, SourceManager &sm, DiagnosticEngine &diags);

// A root file and everything it imports, transitively. `modules` is in
// dependency order: every module comes after the modules it imports, and the
// root module is last.
struct Program {
  std::vector<std::unique_ptr<ast::Module>> modules;
  const ast::Module &root() const { return *modules.back(); }
  // For each module (same index), the indices of the modules its imports
  // resolved to, in the order of its import declarations.
  std::vector<std::vector<size_t>> imports;
};

// Resolves imports. A relative import path is looked up first in the stdlib
// directory, then in each -I directory in order, then in the importing file's
// own directory; an absolute path is used as is. `searchPath` holds the stdlib
// directory followed by the -I directories. Missing files and import cycles
// are errors at the import declaration; a file imported twice is loaded once.
class Loader {
public:
  Loader(SourceManager &sm, DiagnosticEngine &diags, std::vector<std::string> searchPath)
      : sm(sm), diags(diags), searchPath(std::move(searchPath)) {}
  // Loads `path` (the root, taken as given) and its imports into `prog`.
  // Returns false if any file could not be read or parsed.
  bool load(const std::string &path, Program &prog);
  // Same, for a buffer already in the SourceManager (used by -split-input-file).
  bool loadBuffer(uint32_t file, Program &prog);

private:
  SourceManager &sm;
  DiagnosticEngine &diags;
  std::vector<std::string> searchPath;
};

// `kdc --data [NAME=]FILE`: points a program at other data without editing
// it. FILE holds exactly one `data` declaration (nothing else); it replaces
// the root module's data declaration named NAME (or its only one when NAME is
// empty) and takes that declaration's name, so `fmnist.train` in the program
// now reads FILE's split `train`. Splits the program uses and FILE lacks are
// reported at their use by the checker, with a note at FILE's declaration.
// Problems with FILE itself are errors here; returns false after any.
bool replaceData(Program &prog, SourceManager &sm, DiagnosticEngine &diags, const std::string &name,
                 const std::string &path);

} // namespace kd

#endif // KD_DSL_FRONTEND_H

//===- Diagnostics.h - Located errors, warnings and notes -------*- C++ -*-===//
//
// Every user-facing message of the front end goes through DiagnosticEngine.
// A diagnostic prints as
//
//   file.kd:12:7: error: unknown layer 'conv3'; did you mean 'conv'?
//     h = x -> conv3(16)
//              ^~~~~
//   file.kd:3:1: note: ...
//
// Notes attach to the error or warning emitted just before them.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_DIAGNOSTICS_H
#define KD_DSL_DIAGNOSTICS_H

#include "kd/dsl/SourceLocation.h"

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace kd {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity = Severity::Error;
  SourceRange range;
  std::string message;
};

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceManager &sm) : sm(sm) {}

  void error(SourceRange r, std::string msg) { report(Severity::Error, r, std::move(msg)); }
  void warning(SourceRange r, std::string msg) { report(Severity::Warning, r, std::move(msg)); }
  void note(SourceRange r, std::string msg) { report(Severity::Note, r, std::move(msg)); }
  void report(Severity s, SourceRange r, std::string msg);

  unsigned errorCount() const { return errors; }
  bool hadError() const { return errors != 0; }
  const std::vector<Diagnostic> &all() const { return diags; }

  // Where rendered diagnostics go (default: std::cerr). Setting a consumer
  // replaces printing, e.g. for -verify-diagnostics.
  void setOutput(std::ostream *os) { out = os; }
  void setConsumer(std::function<void(const Diagnostic &)> c) { consumer = std::move(c); }
  // After this many errors, further errors are counted but not printed.
  void setErrorLimit(unsigned n) { errorLimit = n; }

  // Renders one diagnostic as text: location, message, source line, caret.
  std::string render(const Diagnostic &d) const;
  const SourceManager &sources() const { return sm; }

private:
  const SourceManager &sm;
  std::vector<Diagnostic> diags;
  std::ostream *out = nullptr;
  std::function<void(const Diagnostic &)> consumer;
  unsigned errors = 0;
  unsigned errorLimit = 50;
  bool suppressNotes = false;
};

// "did you mean" support: the candidate closest to `name` by edit distance, or
// "" when none is close enough to be a plausible misspelling.
std::string closestMatch(const std::string &name, const std::vector<std::string> &candidates);

} // namespace kd

#endif // KD_DSL_DIAGNOSTICS_H

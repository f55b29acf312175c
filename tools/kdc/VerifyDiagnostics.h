//===- VerifyDiagnostics.h - -verify-diagnostics ----------------*- C++ -*-===//
//
// Like mlir-opt's: the expected diagnostics are written in the input as
// comments,
//
//   x = y -> conv3(16)   // expected-error {{unknown layer}}
//   // expected-note@+1 {{declared here}}
//   // expected-warning@-2 {{...}}
//
// where `@+N` / `@-N` are relative lines, `@N` an absolute one, and the text
// is a substring of the message. Every produced diagnostic must be expected
// and every expectation produced.
//
//===----------------------------------------------------------------------===//
#ifndef KDC_VERIFYDIAGNOSTICS_H
#define KDC_VERIFYDIAGNOSTICS_H

#include "kd/dsl/Diagnostics.h"

#include <ostream>
#include <vector>

namespace kdc {

class DiagnosticVerifier {
public:
  // Takes over `diags`: diagnostics are collected instead of printed.
  explicit DiagnosticVerifier(kd::DiagnosticEngine &diags);

  // Compares what was collected with the expectations in the buffers with id
  // `firstFile` and later (the input and whatever it imported). Prints each
  // mismatch to `os`; returns true if there was none.
  bool verify(uint32_t firstFile, std::ostream &os);

private:
  struct Expectation {
    kd::Severity severity;
    uint32_t file;
    unsigned line;
    std::string text;
    unsigned commentLine; // where the comment is, for messages
    bool matched = false;
  };

  // Reads the expectations of one buffer; malformed ones are reported to os.
  bool collectExpectations(uint32_t file, std::vector<Expectation> &out, std::ostream &os) const;

  kd::DiagnosticEngine &diags;
  std::vector<kd::Diagnostic> produced;
};

} // namespace kdc

#endif // KDC_VERIFYDIAGNOSTICS_H

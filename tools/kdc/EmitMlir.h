//===- EmitMlir.h - kdc --emit=mlir -----------------------------*- C++ -*-===//
#ifndef KDC_EMITMLIR_H
#define KDC_EMITMLIR_H

#include <ostream>

namespace kd {
struct CheckedProgram;
class SourceManager;
} // namespace kd

namespace kdc {

// Imports the checked program into the kd dialect and prints the module in
// its custom syntax, with locations when `withLocations`. Returns false
// (after printing the errors to stderr) if the import or the verifier fails.
bool emitMlir(const kd::CheckedProgram &program, const kd::SourceManager &sources, bool withLocations,
              std::ostream &os);

} // namespace kdc

#endif // KDC_EMITMLIR_H

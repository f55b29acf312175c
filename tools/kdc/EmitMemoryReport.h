//===- EmitMemoryReport.h - kdc --emit=memory-report ------------*- C++ -*-===//
#ifndef KDC_EMITMEMORYREPORT_H
#define KDC_EMITMEMORYREPORT_H

#include <ostream>

namespace kd {
struct CheckedProgram;
class SourceManager;
} // namespace kd

namespace kdc {

// Imports the checked program, runs the kd passes up to and including
// --kd-plan-memory, and prints the memory plan of every stage and
// evaluation. Returns false (after printing the errors to stderr) if the
// import or a pass fails.
bool emitMemoryReport(const kd::CheckedProgram &program, const kd::SourceManager &sources, std::ostream &os);

} // namespace kdc

#endif // KDC_EMITMEMORYREPORT_H

//===- PreScan.h - Checks made on raw bytes before parsing ------*- C++ -*-===//
//
// ANTLR's generated parser is recursive: each bracket level costs several
// stack frames, so a file of 100k '(' would overflow the stack. A cheap scan
// of the bytes rejects such input before the parser sees it, and also finds
// the one lexical error the grammar cannot locate well: an unterminated block
// comment (the lexer would otherwise split it into '/' and '*').
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_PARSE_PRESCAN_H
#define KD_DSL_PARSE_PRESCAN_H

#include "kd/dsl/Diagnostics.h"

#include <string_view>

namespace kd::parse {

// The deepest nesting of brackets (and runs of prefix operators such as
// `- - x`) a file may use.
constexpr unsigned kMaxNestingDepth = 256;

// Returns false after reporting an error if `text` cannot be handed to the
// parser safely.
bool preScan(uint32_t file, std::string_view text, DiagnosticEngine &diags);

} // namespace kd::parse

#endif // KD_DSL_PARSE_PRESCAN_H

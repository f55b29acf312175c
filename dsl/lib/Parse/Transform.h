//===- Transform.h - ANTLR parse tree to owned AST --------------*- C++ -*-===//
//
// The one place that reads ANTLR contexts and builds kd::ast nodes. It is
// only ever given a tree without syntax errors, so every mandatory child is
// present; what can still fail here (an integer literal that overflows, a bad
// escape in a string) is reported as a located error.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_PARSE_TRANSFORM_H
#define KD_DSL_PARSE_TRANSFORM_H

#include "kd/dsl/AST.h"
#include "kd/dsl/Diagnostics.h"

#include "KDParser.h"

#include <memory>
#include <string_view>

namespace kd::parse {

// Builds the module of `file` from its parse tree. `text` is the file's
// buffer: token indexes are byte offsets into it. Returns null if a literal
// could not be converted (the error is already reported).
std::unique_ptr<ast::Module> transformFile(kdgen::KDParser::FileContext &tree, uint32_t file,
                                           std::string_view text, DiagnosticEngine &diags);

} // namespace kd::parse

#endif // KD_DSL_PARSE_TRANSFORM_H

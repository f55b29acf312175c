//===- SplitInput.h - -split-input-file -------------------------*- C++ -*-===//
#ifndef KDC_SPLITINPUT_H
#define KDC_SPLITINPUT_H

#include <string>
#include <string_view>
#include <vector>

namespace kdc {

// Splits `text` at lines that consist of `// -----`. Each chunk is padded at
// the front with the newlines of the lines before it, so that line numbers
// in a chunk are those of the original file.
std::vector<std::string> splitInputFile(std::string_view text);

} // namespace kdc

#endif // KDC_SPLITINPUT_H

//===- LargeStack.h - Run work on a thread with a large stack ---*- C++ -*-===//
//
// The generated parser recurses once per nesting level of the input. The
// pre-scan bounds brackets, but constructs such as nested `if ... then` can
// still nest deeply; parsing on a thread with a generous stack turns what
// would be a crash into a located "too deeply nested" error.
//
//===----------------------------------------------------------------------===//
#ifndef KD_DSL_PARSE_LARGESTACK_H
#define KD_DSL_PARSE_LARGESTACK_H

#include <cstddef>
#include <functional>

namespace kd::parse {

// Runs `work` to completion on a thread whose stack is `stackBytes` large and
// waits for it. Falls back to the calling thread if no thread can be made.
// `work` must not throw.
void runWithLargeStack(const std::function<void()> &work, size_t stackBytes = size_t(256) << 20);

} // namespace kd::parse

#endif // KD_DSL_PARSE_LARGESTACK_H

//===- ProgressPrinter.h - Training progress on stderr ----------*- C++ -*-===//
//
// On a terminal, one line redrawn in place (a bar with stage, epoch,
// step/total, loss and images/s); when stderr is a file or a pipe, plain
// lines, so logs of batch jobs stay readable.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_PROGRESSPRINTER_H
#define KDRT_EXEC_PROGRESSPRINTER_H

#include "kdrt/exec/RunOptions.h"

#include <cstdio>

namespace kdrt::exec {

class ProgressPrinter {
public:
  /// Decides between bar and lines by isatty() on `stream`.
  explicit ProgressPrinter(std::FILE *stream);

  void report(const ProgressEvent &event);
  /// Ends a bar line, so later output starts on a fresh line.
  void finish();
  /// One line of its own (what the run decided, e.g. ensemble weights).
  void line(const std::string &text);

  /// The text of one report, without line ending (tests check it).
  static std::string format(const ProgressEvent &event, bool bar);

private:
  std::FILE *stream;
  bool terminal;
  bool barOpen = false;
};

} // namespace kdrt::exec

#endif // KDRT_EXEC_PROGRESSPRINTER_H

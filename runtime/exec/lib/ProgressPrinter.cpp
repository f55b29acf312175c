//===- ProgressPrinter.cpp - Training progress on stderr ------------------===//

#include "kdrt/exec/ProgressPrinter.h"

#include <unistd.h>

namespace kdrt::exec {

ProgressPrinter::ProgressPrinter(std::FILE *stream)
    : stream(stream), terminal(isatty(fileno(stream)) == 1) {}

std::string ProgressPrinter::format(const ProgressEvent &event, bool bar) {
  char text[256];
  if (!bar) {
    std::snprintf(text, sizeof text,
                  "%s: epoch %lld/%lld step %lld/%lld loss %.4f lr %.3g "
                  "%.0f images/s%s",
                  event.stage.c_str(), (long long)event.epoch + 1,
                  (long long)event.epochs, (long long)event.step,
                  (long long)event.totalSteps, event.loss, event.learningRate,
                  event.imagesPerSecond, event.epochEnd ? " (epoch mean)" : "");
    return text;
  }
  constexpr int kWidth = 24;
  int filled = event.totalSteps > 0
                   ? int(kWidth * event.step / event.totalSteps)
                   : kWidth;
  std::string bars(size_t(filled), '#');
  bars.resize(kWidth, '.');
  std::snprintf(text, sizeof text,
                "%s [%s] epoch %lld/%lld step %lld/%lld loss %.4f %.0f img/s",
                event.stage.c_str(), bars.c_str(), (long long)event.epoch + 1,
                (long long)event.epochs, (long long)event.step,
                (long long)event.totalSteps, event.loss,
                event.imagesPerSecond);
  return text;
}

void ProgressPrinter::report(const ProgressEvent &event) {
  if (terminal) {
    std::fprintf(stream, "\r\033[K%s", format(event, true).c_str());
    barOpen = true;
    if (event.epochEnd && event.step == event.totalSteps)
      finish();
  } else {
    std::fprintf(stream, "%s\n", format(event, false).c_str());
  }
  std::fflush(stream);
}

void ProgressPrinter::line(const std::string &text) {
  finish();
  std::fprintf(stream, "%s\n", text.c_str());
  std::fflush(stream);
}

void ProgressPrinter::finish() {
  if (barOpen)
    std::fputc('\n', stream);
  barOpen = false;
}

} // namespace kdrt::exec

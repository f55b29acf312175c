//===- LargeStack.cpp - Run work on a thread with a large stack -----------===//
#include "LargeStack.h"

#include <pthread.h>

namespace kd::parse {

namespace {
void *runWork(void *arg) {
  (*static_cast<const std::function<void()> *>(arg))();
  return nullptr;
}
} // namespace

void runWithLargeStack(const std::function<void()> &work, size_t stackBytes) {
  // std::thread cannot choose its stack size, hence pthreads.
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) {
    work();
    return;
  }
  pthread_t thread;
  bool started = pthread_attr_setstacksize(&attr, stackBytes) == 0 &&
                 pthread_create(&thread, &attr, runWork, const_cast<std::function<void()> *>(&work)) == 0;
  pthread_attr_destroy(&attr);
  if (!started) {
    work();
    return;
  }
  pthread_join(thread, nullptr);
}

} // namespace kd::parse

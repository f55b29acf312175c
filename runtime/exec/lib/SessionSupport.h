//===- SessionSupport.h - Helpers shared by the session files -*- C++ -*-//
//
// The data, io, train and plan libraries report errors by exception; the
// session reports them as a Status, so nothing escapes to the C API. Seeds
// of sub-streams (stage shuffles, dropout masks) are mixed from the run's
// seed with mixSeed.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_EXEC_SESSIONSUPPORT_H
#define KDRT_EXEC_SESSIONSUPPORT_H

#include "kdrt/Status.h"
#include "kdrt/data/DataError.h"
#include "kdrt/io/IoError.h"
#include "kdrt/plan/PlanIo.h"
#include "kdrt/train/TrainError.h"

#include <new>

namespace kdrt::exec {

/// Runs `body`, turning the exceptions of the runtime libraries into a
/// Status so that none escapes a session.
template <typename Body> Status guarded(Body &&body) {
  try {
    return body();
  } catch (const plan::PlanError &error) {
    return Status::invalidArgument(error.what());
  } catch (const data::DataError &error) {
    return Status::invalidArgument(error.what());
  } catch (const io::IoError &error) {
    return Status::invalidArgument(error.what());
  } catch (const train::TrainError &error) {
    return Status::invalidArgument(error.what());
  } catch (const std::bad_alloc &) {
    return Status::outOfMemory("out of memory");
  } catch (const std::exception &error) {
    return Status::internal(error.what());
  }
}

inline uint64_t mixSeed(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

} // namespace kdrt::exec

#endif // KDRT_EXEC_SESSIONSUPPORT_H

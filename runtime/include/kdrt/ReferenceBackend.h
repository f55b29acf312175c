//===- ReferenceBackend.h - The oracle backend ------------------*- C++ -*-===//
//
// Plain loops over host memory, written to be obviously correct rather than
// fast. Every other backend is tested against it.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_REFERENCEBACKEND_H
#define KDRT_REFERENCEBACKEND_H

#include "kdrt/Backend.h"

#include <memory>

namespace kdrt {

std::unique_ptr<Backend> createReferenceBackend();

} // namespace kdrt

#endif // KDRT_REFERENCEBACKEND_H

//===- DataError.h - Errors raised while loading or preparing data -*- C++ -*-//
//
// Every failure of the data pipeline (a missing file, a corrupt image, a label
// out of range) is reported as a DataError whose message names the file and
// the problem. The C API catches it and turns it into a status; nothing in
// the data library aborts the process.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_DATA_DATAERROR_H
#define KDRT_DATA_DATAERROR_H

#include <stdexcept>
#include <string>

namespace kdrt::data {

class DataError : public std::runtime_error {
public:
  explicit DataError(const std::string &message)
      : std::runtime_error(message) {}
};

} // namespace kdrt::data

#endif // KDRT_DATA_DATAERROR_H

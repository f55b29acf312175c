//===- IoError.h - Errors of checkpoint and run-directory I/O --*- C++ -*-===//
//
// Raised for unreadable, corrupt or unwritable files; the message names the
// file and the problem. The C API turns it into a status.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_IO_IOERROR_H
#define KDRT_IO_IOERROR_H

#include <stdexcept>
#include <string>

namespace kdrt::io {

class IoError : public std::runtime_error {
public:
  explicit IoError(const std::string &message) : std::runtime_error(message) {}
};

} // namespace kdrt::io

#endif // KDRT_IO_IOERROR_H

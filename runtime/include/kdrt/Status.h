//===- Status.h - Error reporting of the runtime ----------------*- C++ -*-===//
//
// The runtime never aborts on bad input: every entry that can fail returns a
// Status. It maps one-to-one onto the status codes of the plain-C API, so the
// boundary only translates, it never re-validates.
//
//===----------------------------------------------------------------------===//

#ifndef KDRT_STATUS_H
#define KDRT_STATUS_H

#include <string>
#include <utility>

namespace kdrt {

enum class StatusCode {
  Ok = 0,
  InvalidArgument,
  OutOfMemory,
  Unimplemented,
  Internal,
};

class [[nodiscard]] Status {
public:
  Status() = default;

  static Status success() { return Status(); }
  static Status invalidArgument(std::string message) {
    return Status(StatusCode::InvalidArgument, std::move(message));
  }
  static Status outOfMemory(std::string message) {
    return Status(StatusCode::OutOfMemory, std::move(message));
  }
  static Status unimplemented(std::string message) {
    return Status(StatusCode::Unimplemented, std::move(message));
  }
  static Status internal(std::string message) {
    return Status(StatusCode::Internal, std::move(message));
  }

  bool ok() const { return code_ == StatusCode::Ok; }
  StatusCode code() const { return code_; }
  const std::string &message() const { return message_; }

private:
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::Ok;
  std::string message_;
};

} // namespace kdrt

/// Propagates a failed Status to the caller.
#define KDRT_RETURN_IF_ERROR(expr)                                             \
  do {                                                                         \
    ::kdrt::Status kdrtStatusOrError = (expr);                                 \
    if (!kdrtStatusOrError.ok())                                               \
      return kdrtStatusOrError;                                                \
  } while (false)

#endif // KDRT_STATUS_H

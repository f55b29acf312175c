//===- AtomicFile.cpp - All-or-nothing file replacement -------------------===//

#include "kdrt/io/AtomicFile.h"

#include "kdrt/io/IoError.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <filesystem>
#include <unistd.h>

namespace kdrt::io {
namespace {

std::string systemError() { return std::strerror(errno); }

/// Writes all bytes, retrying after short writes and interruptions.
bool writeAll(int fd, const uint8_t *data, size_t size) {
  while (size > 0) {
    ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += written;
    size -= size_t(written);
  }
  return true;
}

} // namespace

void writeFileAtomically(const std::string &path, const void *data,
                         size_t size) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path directory = target.parent_path();
  if (directory.empty())
    directory = ".";
  std::string pattern =
      (directory / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> temporary(pattern.begin(), pattern.end());
  temporary.push_back('\0');
  int fd = ::mkstemp(temporary.data());
  if (fd < 0)
    throw IoError("cannot create a temporary file next to " + path + ": " +
                  systemError());
  std::string temporaryPath(temporary.data());

  auto abandon = [&](const std::string &what) {
    std::string reason = systemError();
    ::close(fd);
    ::unlink(temporaryPath.c_str());
    return IoError("cannot write " + path + ": " + what + ": " + reason);
  };
  if (!writeAll(fd, static_cast<const uint8_t *>(data), size))
    throw abandon("write failed");
  if (::fsync(fd) != 0)
    throw abandon("fsync failed");
  // mkstemp creates files readable by the owner only. Keep the mode of the
  // file being replaced, or use the common 0644 (querying the umask would
  // briefly change it for every thread of the process).
  struct stat existing;
  ::fchmod(fd, ::stat(path.c_str(), &existing) == 0 ? existing.st_mode & 07777
                                                    : 0644);
  if (::close(fd) != 0) {
    std::string reason = systemError();
    ::unlink(temporaryPath.c_str());
    throw IoError("cannot write " + path + ": close failed: " + reason);
  }
  if (::rename(temporaryPath.c_str(), path.c_str()) != 0) {
    std::string reason = systemError();
    ::unlink(temporaryPath.c_str());
    throw IoError("cannot replace " + path + ": " + reason);
  }
  // Persist the directory entry; failure here does not undo the write.
  int directoryFd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (directoryFd >= 0) {
    ::fsync(directoryFd);
    ::close(directoryFd);
  }
}

} // namespace kdrt::io

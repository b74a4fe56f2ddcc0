// Crash-safe file writes and the writer lock of the image store (see
// store_files.h). POSIX: open(2), write(2), fsync(2), rename(2), flock(2).
#include "store_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vs::container_image {
namespace {

std::string os_error(const std::string& what, const std::filesystem::path& path) {
  return what + " '" + path.string() + "': " + std::strerror(errno);
}

void fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: the rename itself is already atomic
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

bool atomic_write(const std::filesystem::path& path, std::string_view bytes, std::string& error) {
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path temp =
      path.parent_path() / (std::string(kTempPrefix) + path.filename().string() + "-" +
                            std::to_string(::getpid()) + "-" + std::to_string(counter++));
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = os_error("cannot create", temp);
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = os_error("cannot write", temp);
      ::close(fd);
      ::unlink(temp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    error = os_error("cannot flush", temp);
    ::unlink(temp.c_str());
    return false;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    error = os_error("cannot rename into place", path);
    ::unlink(temp.c_str());
    return false;
  }
  fsync_directory(path.parent_path());
  return true;
}

bool read_whole_file(const std::filesystem::path& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read '" + path.string() + "'";
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

StoreLock::StoreLock(const std::filesystem::path& root, std::string& error) {
  const std::filesystem::path lock = root / ".lock";
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error = os_error("cannot open the store lock", lock);
    return;
  }
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    error = os_error("cannot lock", lock);
    ::close(fd_);
    fd_ = -1;
    return;
  }
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace vs::container_image

// File operations of the image store that must survive a crash: atomic
// replacement (write a temporary file, fsync, rename, fsync the directory;
// rename(2) replaces the target atomically) and a lock that serialises
// writers (flock(2) on <root>/.lock).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace vs::container_image {

inline constexpr std::string_view kTempPrefix = ".tmp-";  // temporary files; remove() sweeps leftovers

bool atomic_write(const std::filesystem::path& path, std::string_view bytes, std::string& error);
bool read_whole_file(const std::filesystem::path& path, std::string& out, std::string& error);

// Holds an exclusive flock(2) on <root>/.lock while alive.
class StoreLock {
 public:
  StoreLock(const std::filesystem::path& root, std::string& error);
  ~StoreLock();
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace vs::container_image

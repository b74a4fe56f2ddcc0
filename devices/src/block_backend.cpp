// Disk storage behind the ATA drives: an in-memory image and a raw image
// file accessed with pread/pwrite (POSIX.1-2008), optionally with writes kept
// in memory. Errors are one-line strings; nothing here trusts the file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "virtscope/devices/ata.h"

namespace vs::devices {

bool BlockBackend::in_range(uint64_t lba, size_t bytes) {
  if (bytes % kSectorSize) return fail("transfer is not a whole number of sectors");
  const uint64_t count = bytes / kSectorSize;
  if (lba > sectors() || count > sectors() - lba)
    return fail("sectors " + std::to_string(lba) + "+" + std::to_string(count) + " beyond the disk's " +
                std::to_string(sectors()));
  return true;
}

// ------------------------------------------------------------ memory ----

MemoryDisk::MemoryDisk(std::vector<uint8_t> image) : image_(std::move(image)) {
  image_.resize((image_.size() + kSectorSize - 1) / kSectorSize * kSectorSize, 0);
}

bool MemoryDisk::read_sectors(uint64_t lba, std::span<uint8_t> out) {
  if (!in_range(lba, out.size())) return false;
  std::memcpy(out.data(), image_.data() + lba * kSectorSize, out.size());
  return true;
}

bool MemoryDisk::write_sectors(uint64_t lba, std::span<const uint8_t> in) {
  if (!in_range(lba, in.size())) return false;
  std::memcpy(image_.data() + lba * kSectorSize, in.data(), in.size());
  return true;
}

// ------------------------------------------------------------ file ----

std::unique_ptr<FileDisk> FileDisk::open(const std::string& path, Writes writes, std::string* error) {
  auto failed = [&](const std::string& why) -> std::unique_ptr<FileDisk> {
    if (error) *error = path + ": " + why;
    return nullptr;
  };
  const int fd = ::open(path.c_str(), (writes == Writes::ToFile ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return failed(std::strerror(errno));
  struct stat st {};
  std::string why;
  if (::fstat(fd, &st) != 0)
    why = std::strerror(errno);
  else if (!S_ISREG(st.st_mode))
    why = "not a regular file";
  else if (st.st_size <= 0)
    why = "empty disk image";
  if (!why.empty()) {
    ::close(fd);
    return failed(why);
  }
  const uint64_t sectors = (uint64_t(st.st_size) + kSectorSize - 1) / kSectorSize;
  return std::unique_ptr<FileDisk>(new FileDisk(fd, path, writes, sectors));
}

FileDisk::~FileDisk() { ::close(fd_); }

// Reads whole sectors from the file; bytes past its end read as zeros.
bool FileDisk::read_file(uint64_t lba, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, off_t(lba * kSectorSize + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(path_ + ": read: " + std::strerror(errno));
    if (n == 0) break;  // end of file: the partial last sector
    done += size_t(n);
  }
  std::memset(out.data() + done, 0, out.size() - done);
  return true;
}

bool FileDisk::read_sectors(uint64_t lba, std::span<uint8_t> out) {
  if (!in_range(lba, out.size())) return false;
  if (!read_file(lba, out)) return false;
  for (size_t i = 0; i < out.size() / kSectorSize && !overlay_.empty(); ++i) {
    const auto it = overlay_.find(lba + i);
    if (it != overlay_.end()) std::memcpy(out.data() + i * kSectorSize, it->second.data(), kSectorSize);
  }
  return true;
}

bool FileDisk::write_sectors(uint64_t lba, std::span<const uint8_t> in) {
  if (!in_range(lba, in.size())) return false;
  if (writes_ == Writes::Volatile) {
    for (size_t i = 0; i < in.size() / kSectorSize; ++i)
      std::memcpy(overlay_[lba + i].data(), in.data() + i * kSectorSize, kSectorSize);
    return true;
  }
  size_t done = 0;
  while (done < in.size()) {
    const ssize_t n = ::pwrite(fd_, in.data() + done, in.size() - done, off_t(lba * kSectorSize + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(path_ + ": write: " + (n < 0 ? std::strerror(errno) : "no progress"));
    done += size_t(n);
  }
  return true;
}

}  // namespace vs::devices

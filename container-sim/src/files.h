// Open files: descriptors, the open-file descriptions they share (across
// fork and dup2, with one offset; open(2) "open file description"), and
// pipes (pipe(7): a bounded buffer; readers wait while it is empty, writers
// while it is full; end of file once every write end is closed, EPIPE once
// every read end is).
//
// An OpenFile is reference-counted by the descriptors that point at it; when
// the last one goes, a pipe end is closed. Blocking is the kernel's business
// (kernel.cpp): these calls only say "would block".
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "cgroup.h"
#include "namespaces.h"
#include "vfs.h"

namespace vs::container_sim {

constexpr uint32_t kPipeSize = 512;  // the teaching kernel's pipe buffer (Linux: 16 pages)
constexpr int kMaxFds = 16;          // descriptors per process (the teaching kernel's NOFILE)

struct Pipe {
  std::array<uint8_t, kPipeSize> data{};
  uint32_t nread = 0, nwrite = 0;  // free-running counts
  int readers = 0, writers = 0;    // open ends
  uint32_t used() const { return nwrite - nread; }
};

struct OpenFile {
  // Directory: getdents64 lists it. Proc: a procfs file, its text made at
  // open (Linux makes it at the first read; either way a reader sees one
  // snapshot), writable where procfs says so (uid_map, gid_map). Namespace:
  // /proc/PID/ns/*, held for setns(2).
  // Cgroup: a cgroupfs interface file, its text made at open like Proc's;
  // each write(2) is one request to the cgroup (cgroupfs.cpp).
  // Socket: socket(2) (net.h; sockets.cpp).
  enum class Kind : uint8_t { Console, Regular, PipeRead, PipeWrite, Directory, Proc, Namespace, Cgroup, Socket,
                              BlockDevice };  // BlockDevice: /dev/disk, read by blockdev.cpp
  explicit OpenFile(Kind k) : kind(k) {}
  ~OpenFile();  // closes a pipe end
  Kind kind;
  std::shared_ptr<Inode> inode;  // Regular, Directory, Proc
  PathRef where;                 // Directory: the mount it was opened through
  uint32_t offset = 0;           // Regular, Directory (entries read), Proc
  bool writable = false;         // opened O_WRONLY or O_RDWR
  bool readable = true;          // not opened O_WRONLY (read(2) is EBADF otherwise)
  bool append = false;           // O_APPEND: every write(2) goes to the end first
  std::shared_ptr<Filesystem> fs;  // Regular: opened through it (Filesystem::io_inode follows overlay copy-ups)
  std::shared_ptr<Pipe> pipe;    // PipeRead, PipeWrite
  std::shared_ptr<const std::vector<uint8_t>> text;  // Proc: the snapshot
  std::shared_ptr<PidNamespace> proc_pid_ns;         // Proc: the PID namespace its proc instance numbers in
  NsHandle ns;                                       // Namespace
  std::shared_ptr<Socket> socket;                    // Socket (networking: net.h)
  std::shared_ptr<Cgroup> cgroup;                    // Cgroup: the cgroup (the file's name is inode->cgroup_file)
};
using FileRef = std::shared_ptr<OpenFile>;

// Both ends of a new pipe.
void make_pipe(FileRef& read_end, FileRef& write_end);

struct FdTable {
  std::array<FileRef, kMaxFds> fds;
  FileRef get(int fd) const { return fd >= 0 && fd < kMaxFds ? fds[size_t(fd)] : nullptr; }
  // The lowest free descriptor for f, or -EMFILE.
  int add(FileRef f);
};

}  // namespace vs::container_sim

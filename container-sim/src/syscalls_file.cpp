// File system calls: read, write, open, close, pipe, dup2 over the console,
// regular files of the in-memory file system (writing, creating and
// overlayfs's copy-up: syscalls_fs.cpp), pipes
// (files.h), directories (getdents64: syscalls_mount.cpp), procfs and cgroupfs files. A call that must wait says SysResult::block() before it has
// changed anything (scheduler.cpp explains why).
#include <algorithm>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
constexpr uint32_t kChunk = 4096;  // bytes copied per step between user memory and a buffer
}

SysResult Kernel::sys_read(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  const uint32_t ubuf = args.a[1], n = args.a[2];
  if (!f) return SysResult::done(-kEBADF);
  if (n == 0) return SysResult::done(0);
  switch (f->kind) {
    case OpenFile::Kind::Console: {
      if (input_.empty()) return input_closed_ ? SysResult::done(0) : SysResult::block();
      const uint32_t k = std::min<uint32_t>({n, uint32_t(input_.size()), kChunk});
      if (p.mm->copy_out(ubuf, input_.data(), k) < 0) return SysResult::done(-kEFAULT);
      input_.erase(0, k);
      return SysResult::done(int32_t(k));
    }
    case OpenFile::Kind::Regular: {
      if (!f->readable) return SysResult::done(-kEBADF);  // opened O_WRONLY
      if (f->fs) f->inode = f->fs->io_inode(f->inode);   // a lower file copied up since the open
      static const std::vector<uint8_t> kEmpty;
      const std::vector<uint8_t>& data = f->inode->data ? *f->inode->data : kEmpty;
      const uint32_t size = uint32_t(data.size());
      const uint32_t k = f->offset >= size ? 0 : std::min(size - f->offset, n);
      if (k && p.mm->copy_out(ubuf, data.data() + f->offset, k) < 0) return SysResult::done(-kEFAULT);
      f->offset += k;
      return SysResult::done(int32_t(k));
    }
    case OpenFile::Kind::PipeRead: {
      Pipe& pp = *f->pipe;
      if (pp.used() == 0) return pp.writers == 0 ? SysResult::done(0) : SysResult::block();  // EOF, or wait
      uint8_t chunk[kPipeSize];
      uint32_t got = 0;
      while (got < n && got < pp.used()) chunk[got] = pp.data[(pp.nread + got) % kPipeSize], ++got;
      if (p.mm->copy_out(ubuf, chunk, got) < 0) return SysResult::done(-kEFAULT);
      pp.nread += got;  // consumed only once the copy succeeded
      return SysResult::done(int32_t(got));
    }
    case OpenFile::Kind::Proc:
    case OpenFile::Kind::Cgroup: {  // the snapshot made at open
      const std::vector<uint8_t>& data = *f->text;
      const uint32_t size = uint32_t(data.size());
      const uint32_t k = f->offset >= size ? 0 : std::min(size - f->offset, n);
      if (k && p.mm->copy_out(ubuf, data.data() + f->offset, k) < 0) return SysResult::done(-kEFAULT);
      f->offset += k;
      return SysResult::done(int32_t(k));
    }
    case OpenFile::Kind::BlockDevice: return block_read(p, *f, ubuf, n);  // blockdev.cpp (io controller)
    case OpenFile::Kind::Directory: return SysResult::done(-kEISDIR);
    case OpenFile::Kind::Namespace: return SysResult::done(-kEINVAL);
    case OpenFile::Kind::PipeWrite: return SysResult::done(-kEBADF);
    case OpenFile::Kind::Socket: return socket_read(p, *f, ubuf, n);  // recv(2) without flags (sockets.cpp)
  }
  return SysResult::done(-kEBADF);
}

SysResult Kernel::sys_write(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  const uint32_t ubuf = args.a[1], n = args.a[2];
  if (!f) return SysResult::done(-kEBADF);
  if (f->kind == OpenFile::Kind::PipeWrite) {
    // POSIX pipes: all n bytes, blocking while the buffer is full; EPIPE
    // with no reader (no SIGPIPE yet: signals come later).
    Pipe& pp = *f->pipe;
    uint32_t& done = p.call_progress;
    while (done < n) {
      if (pp.readers == 0) return SysResult::done(done ? int32_t(done) : -kEPIPE);
      const uint32_t room = kPipeSize - pp.used();
      if (room == 0) return SysResult::block();  // keeps `done` for the retry
      uint8_t chunk[kPipeSize];
      const uint32_t k = std::min(n - done, room);
      if (p.mm->copy_in(chunk, ubuf + done, k) < 0) return SysResult::done(done ? int32_t(done) : -kEFAULT);
      for (uint32_t i = 0; i < k; ++i) pp.data[pp.nwrite++ % kPipeSize] = chunk[i];
      done += k;
    }
    return SysResult::done(int32_t(n));
  }
  if (f->kind == OpenFile::Kind::Proc) {
    // uid_map and gid_map: the whole map in one write of less than a page.
    if (!f->writable) return SysResult::done(-kEBADF);
    if (n >= kChunk) return SysResult::done(-kEINVAL);
    std::string text(n, '\0');
    if (n && p.mm->copy_in(text.data(), ubuf, n) < 0) return SysResult::done(-kEFAULT);
    return SysResult::done(proc_write(p, *f, text));
  }
  if (f->kind == OpenFile::Kind::Cgroup) {
    // One write(2) is one request to the cgroup (kernfs takes at most a page).
    if (!f->writable) return SysResult::done(-kEBADF);
    if (n >= kChunk) return SysResult::done(-kE2BIG);
    std::string text(n, '\0');
    if (n && p.mm->copy_in(text.data(), ubuf, n) < 0) return SysResult::done(-kEFAULT);
    return SysResult::done(cgroup_write(&p, *f->cgroup, f->inode->cgroup_file, text));
  }
  if (f->kind == OpenFile::Kind::Socket) return socket_write(p, *f, ubuf, n);  // send(2) (sockets.cpp)
  if (f->kind == OpenFile::Kind::Regular) return SysResult::done(regular_write(p, *f, ubuf, n));  // syscalls_fs.cpp
  if (f->kind != OpenFile::Kind::Console) return SysResult::done(-kEBADF);
  std::string chunk;
  for (uint32_t done = 0; done < n;) {
    const uint32_t k = std::min(n - done, kChunk);
    chunk.resize(k);
    if (p.mm->copy_in(chunk.data(), ubuf + done, k) < 0) return SysResult::done(done ? int32_t(done) : -kEFAULT);
    console_write(chunk);
    done += k;
  }
  return SysResult::done(int32_t(n));
}

SysResult Kernel::sys_open(Process& p, const SyscallArgs& args) {
  std::string path;
  const int r = p.mm->copy_path(path, args.a[0]);
  if (r < 0) return SysResult::done(r);
  const bool write = (args.a[1] & kO_ACCMODE) != 0;
  Resolved where;
  const int found = resolve(p, path, where);
  if (found == -kENOENT && (args.a[1] & kO_CREAT)) {  // a new file (syscalls_fs.cpp)
    FileRef f;
    if (const int e = open_file(p, path, args.a[1], args.a[2], f)) return SysResult::done(e);
    return SysResult::done(p.files.add(std::move(f)));
  }
  if (found) return SysResult::done(found);
  if (where.inode->proc_kind && where.inode->type == Inode::Type::Regular) {  // procfs files (procfs.cpp)
    FileRef f;
    if (const int e = proc_open(p, where, args.a[1], f)) return SysResult::done(e);
    return SysResult::done(p.files.add(std::move(f)));
  }
  if (where.inode->cgroupfs && where.inode->type == Inode::Type::Regular) {  // cgroupfs.cpp
    FileRef f;
    if (const int e = cgroup_open(p, where, args.a[1], f)) return SysResult::done(e);
    return SysResult::done(p.files.add(std::move(f)));
  }
  if (where.inode->type == Inode::Type::BlockDevice) {  // a block special file (blockdev.cpp)
    FileRef f;
    if (const int e = block_open(p, where, args.a[1], f)) return SysResult::done(e);
    return SysResult::done(p.files.add(std::move(f)));
  }
  if (where.inode->type == Inode::Type::Directory) {
    if (args.a[1] & kO_CREAT) return SysResult::done((args.a[1] & kO_EXCL) ? -kEEXIST : -kEISDIR);
    if (write) return SysResult::done(-kEISDIR);
    auto d = std::make_shared<OpenFile>(OpenFile::Kind::Directory);  // for getdents64
    d->inode = where.inode;
    d->where = where;
    return SysResult::done(p.files.add(std::move(d)));
  }
  // Regular files and devices: O_CREAT, O_EXCL, O_TRUNC, O_APPEND and
  // overlayfs's copy-up for writing (syscalls_fs.cpp).
  FileRef f;
  if (const int e = open_file(p, path, args.a[1], args.a[2], f)) return SysResult::done(e);
  return SysResult::done(p.files.add(std::move(f)));
}

SysResult Kernel::sys_close(Process& p, const SyscallArgs& args) {
  const int fd = int(args.a[0]);
  if (!p.files.get(fd)) return SysResult::done(-kEBADF);
  p.files.fds[size_t(fd)].reset();
  return SysResult::done(0);
}

SysResult Kernel::sys_pipe(Process& p, const SyscallArgs& args) {
  FileRef r, w;
  make_pipe(r, w);
  const int fds[2] = {p.files.add(r), p.files.add(w)};
  if (fds[0] < 0 || fds[1] < 0 || p.mm->copy_out(args.a[0], fds, sizeof fds) < 0) {
    for (int fd : fds)
      if (fd >= 0) p.files.fds[size_t(fd)].reset();
    return SysResult::done(fds[0] < 0 || fds[1] < 0 ? -kEMFILE : -kEFAULT);
  }
  return SysResult::done(0);
}

SysResult Kernel::sys_dup2(Process& p, const SyscallArgs& args) {
  const int oldfd = int(args.a[0]), newfd = int(args.a[1]);
  const FileRef f = p.files.get(oldfd);
  if (!f || newfd < 0 || newfd >= kMaxFds) return SysResult::done(-kEBADF);
  if (oldfd != newfd) p.files.fds[size_t(newfd)] = f;  // closes what newfd held
  return SysResult::done(newfd);
}

}  // namespace vs::container_sim

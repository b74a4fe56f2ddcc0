// Regular files' bytes and what stat says about files: write(2) to a file
// (read(2) is syscalls_file.cpp), lseek, _llseek, ftruncate, stat64,
// lstat64, fstat64 (their man pages; i386's struct stat64 from
// arch/x86/include/uapi/asm/stat.h). docs/container-sim/overlayfs.md "Files".
#include <algorithm>

#include "kernel.h"
#include "linux_abi.h"
#include "procfs.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {

// A file is host memory: past this size write(2) and ftruncate say ENOSPC,
// as a full tmpfs would.
constexpr uint32_t kMaxFileSize = 16u << 20;
constexpr uint32_t kChunk = 64u << 10;  // bytes copied per step from user memory

// ftruncate: to 0 a new empty vector rather than a copy to cut.
void set_size(Inode& inode, uint32_t size) {
  if (size == 0) {
    inode.data = std::make_shared<std::vector<uint8_t>>();
    inode.data_private = true;
    return;
  }
  inode.writable_data().resize(size);
}

// struct stat64 of Linux i386 (arch/x86/include/uapi/asm/stat.h): 96
// bytes, 64-bit fields 4-aligned as the i386 ABI lays them out.
struct Stat64 {
  uint64_t dev = 0;        //  0 st_dev
  uint32_t ino_low = 0;    // 12 __st_ino (after 4 bytes of padding)
  uint32_t mode = 0;       // 16
  uint32_t nlink = 1;      // 20
  uint32_t uid = 0, gid = 0;  // 24, 28
  uint64_t rdev = 0;       // 32 (then 4 bytes of padding)
  uint64_t size = 0;       // 44
  uint32_t blksize = 4096;  // 52
  uint64_t blocks = 0;     // 56: 512-byte blocks
  uint64_t ino = 0;        // 88 (times at 64..87 stay 0: no clock on files yet)
  void encode(uint8_t out[96]) const {
    std::fill_n(out, 96, uint8_t(0));
    auto put = [&](size_t at, uint64_t v, size_t n) {
      for (size_t i = 0; i < n; ++i) out[at + i] = uint8_t(v >> (8 * i));
    };
    put(0, dev, 8), put(12, ino_low, 4), put(16, mode, 4), put(20, nlink, 4), put(24, uid, 4), put(28, gid, 4);
    put(32, rdev, 8), put(44, size, 8), put(52, blksize, 4), put(56, blocks, 8), put(88, ino, 8);
  }
};

// Linux's new_encode_dev (include/linux/kdev_t.h).
uint64_t encode_dev(uint32_t major, uint32_t minor) {
  return (minor & 0xFFu) | (uint64_t(major & 0xFFFu) << 8) | (uint64_t(minor & ~0xFFu) << 12);
}
void describe(const Inode& inode, uint32_t dev, Stat64& st) {
  st.dev = dev;
  st.ino = inode.number, st.ino_low = uint32_t(inode.number);
  switch (inode.type) {
    case Inode::Type::Directory:
      st.mode = kS_IFDIR | (inode.proc_kind || inode.cgroupfs ? 0555 : inode.mode & 07777);
      st.nlink = 2, st.size = 4096;
      break;
    case Inode::Type::Regular:
      st.mode = kS_IFREG | (inode.proc_kind || inode.cgroupfs ? 0444 : inode.mode & 07777);
      st.size = inode.size();  // procfs and cgroupfs files say 0, as on Linux
      break;
    case Inode::Type::CharDevice:
    case Inode::Type::BlockDevice:
      st.mode = (inode.type == Inode::Type::CharDevice ? kS_IFCHR : kS_IFBLK) | (inode.mode & 07777);
      st.rdev = encode_dev(inode.rdev_major, inode.rdev_minor);
      break;
  }
  st.blocks = (st.size + 4095) / 4096 * 8;
}

}  // namespace

int32_t Kernel::regular_write(Process& p, OpenFile& f, uint32_t ubuf, uint32_t n) {
  if (!f.writable) return -kEBADF;
  Inode& inode = *f.inode;
  if (f.append) f.offset = uint32_t(inode.size());  // O_APPEND: the end, at each write (open(2))
  if (f.offset >= kMaxFileSize) return -kENOSPC;
  n = std::min(n, kMaxFileSize - f.offset);
  std::vector<uint8_t> chunk;
  uint32_t done = 0;
  while (done < n) {
    const uint32_t k = std::min(n - done, kChunk);
    chunk.resize(k);
    if (p.mm->copy_in(chunk.data(), ubuf + done, k) < 0) break;
    std::vector<uint8_t>& data = inode.writable_data();
    if (data.size() < f.offset + k) data.resize(f.offset + k);  // a gap after the old end reads as zeros
    std::copy(chunk.begin(), chunk.end(), data.begin() + f.offset);
    f.offset += k, done += k;
  }
  return done ? int32_t(done) : n ? -kEFAULT : 0;
}

SysResult Kernel::sys_lseek(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  if (!f) return SysResult::done(-kEBADF);
  const int64_t off = int32_t(args.a[1]);
  const uint32_t whence = args.a[2];
  int64_t size = 0;
  if (f->kind == OpenFile::Kind::Regular) size = int64_t(f->inode->size());
  else if ((f->kind == OpenFile::Kind::Proc || f->kind == OpenFile::Kind::Cgroup) && f->text) size = int64_t(f->text->size());
  else if (f->kind != OpenFile::Kind::Directory) return SysResult::done(-kESPIPE);  // console, pipes
  int64_t to = 0;
  if (whence == kSEEK_SET) to = off;
  else if (whence == kSEEK_CUR) to = int64_t(f->offset) + off;
  else if (whence == kSEEK_END && f->kind != OpenFile::Kind::Directory) to = size + off;
  else return SysResult::done(-kEINVAL);
  if (to < 0) return SysResult::done(-kEINVAL);
  if (to > 0x7FFFFFFF) return SysResult::done(-kEOVERFLOW);  // lseek's off_t is 32 bits here
  f->offset = uint32_t(to);
  return SysResult::done(int32_t(to));
}

// _llseek(fd, offset_high, offset_low, loff_t *result, whence).
SysResult Kernel::sys_llseek(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  if (!f) return SysResult::done(-kEBADF);
  const int64_t off = int64_t((uint64_t(args.a[1]) << 32) | args.a[2]);
  const uint32_t saved = f->offset;
  int64_t base = 0;
  if (args.a[4] == kSEEK_CUR) {
    base = f->offset;
  } else if (args.a[4] == kSEEK_END) {
    if (f->kind == OpenFile::Kind::Regular) base = int64_t(f->inode->size());
    else if ((f->kind == OpenFile::Kind::Proc || f->kind == OpenFile::Kind::Cgroup) && f->text) base = int64_t(f->text->size());
  }
  // Checks and kinds as lseek; the model keeps offsets in 32 bits.
  if (args.a[4] > kSEEK_END) return SysResult::done(-kEINVAL);
  if (f->kind != OpenFile::Kind::Regular && f->kind != OpenFile::Kind::Proc && f->kind != OpenFile::Kind::Cgroup &&
      f->kind != OpenFile::Kind::Directory)
    return SysResult::done(-kESPIPE);
  if (f->kind == OpenFile::Kind::Directory && args.a[4] == kSEEK_END) return SysResult::done(-kEINVAL);
  const int64_t to = base + off;
  if (to < 0 || to > 0xFFFFFFFFll) return SysResult::done(-kEINVAL);
  const uint64_t result = uint64_t(to);
  if (p.mm->copy_out(args.a[3], &result, 8) < 0) {
    f->offset = saved;
    return SysResult::done(-kEFAULT);
  }
  f->offset = uint32_t(to);
  return SysResult::done(0);
}

SysResult Kernel::sys_ftruncate(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  if (!f) return SysResult::done(-kEBADF);
  const int32_t length = int32_t(args.a[1]);
  if (f->kind != OpenFile::Kind::Regular || !f->writable || length < 0) return SysResult::done(-kEINVAL);
  if (uint32_t(length) > kMaxFileSize) return SysResult::done(-kEFBIG);
  set_size(*f->inode, uint32_t(length));
  return SysResult::done(0);
}

namespace {
bool is_link(const Inode& inode) { return inode.proc_kind == kProcSelf || inode.proc_kind >= kProcNsLink; }
}  // namespace

SysResult Kernel::sys_stat64(Process& p, const SyscallArgs& args) {
  std::string path;
  if (const int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
  PathRef at;
  if (const int e = resolve(p, path, at)) return SysResult::done(e);
  if (path.back() == '/' && at.inode->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  Stat64 st;
  describe(*at.inode, at.mount->fs->dev(), st);
  // Following a /proc/PID/ns link gives the namespace's nsfs inode.
  if (at.inode->proc_kind >= kProcNsLink) st.mode = kS_IFREG | 0444;
  if (args.nr == 196 && is_link(*at.inode)) st.mode = kS_IFLNK | 0777;  // lstat64 does not follow
  st.uid = seen_id(p, at.inode->uid, false), st.gid = seen_id(p, at.inode->gid, true);
  uint8_t out[96];
  st.encode(out);
  return SysResult::done(p.mm->copy_out(args.a[1], out, sizeof out) < 0 ? -kEFAULT : 0);
}

SysResult Kernel::sys_lstat64(Process& p, const SyscallArgs& args) { return sys_stat64(p, args); }

SysResult Kernel::sys_fstat64(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  if (!f) return SysResult::done(-kEBADF);
  Stat64 st;
  uint32_t uid = 0, gid = 0;
  if ((f->kind == OpenFile::Kind::Regular || f->kind == OpenFile::Kind::Directory ||
       f->kind == OpenFile::Kind::BlockDevice) && f->inode) {
    if (f->fs) f->inode = f->fs->io_inode(f->inode);
    describe(*f->inode, f->fs ? f->fs->dev() : f->where.mount ? f->where.mount->fs->dev() : 0, st);
    uid = f->inode->uid, gid = f->inode->gid;
  } else if (f->kind == OpenFile::Kind::PipeRead || f->kind == OpenFile::Kind::PipeWrite) {
    st.mode = kS_IFIFO | 0600, st.dev = 12;  // pipefs
  } else if (f->kind == OpenFile::Kind::Console) {
    st.mode = kS_IFCHR | 0600, st.rdev = encode_dev(5, 1);  // /dev/console
  } else {
    st.mode = kS_IFREG | 0444;  // procfs and cgroupfs files, nsfs handles
  }
  st.uid = seen_id(p, uid, false), st.gid = seen_id(p, gid, true);
  uint8_t out[96];
  st.encode(out);
  return SysResult::done(p.mm->copy_out(args.a[1], out, sizeof out) < 0 ? -kEFAULT : 0);
}

}  // namespace vs::container_sim

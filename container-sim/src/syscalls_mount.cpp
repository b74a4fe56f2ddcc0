// System calls about mounts and directories: mount, umount2, chroot,
// pivot_root, chdir, mkdir, rmdir, getcwd, getdents64, readlink (mount(2),
// umount(2), chroot(2), pivot_root(2), getcwd(3), getdents(2);
// ../shared/SEMANTICS.md §1.3). Privilege is CAP_SYS_ADMIN (CAP_SYS_CHROOT
// for chroot) in the user namespace owning the caller's mount namespace.
#include <algorithm>
#include <cstdio>

#include "kernel.h"
#include "linux_abi.h"
#include "procfs.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
constexpr int kENODEV = 19, kERANGE = 34;

int user_path(Process& p, uint32_t uptr, std::string& out) {
  const int r = p.mm->copy_string(out, uptr, 4096);
  return r == -kE2BIG ? -kENAMETOOLONG : r < 0 ? r : 0;
}
}  // namespace

SysResult Kernel::sys_mount(Process& p, const SyscallArgs& args) {
  std::string source, target, type;
  const uint32_t flags = args.a[3];
  if (int e = user_path(p, args.a[1], target)) return SysResult::done(e);
  if (args.a[0])
    if (int e = user_path(p, args.a[0], source)) return SysResult::done(e);
  if (args.a[2])
    if (int e = user_path(p, args.a[2], type)) return SysResult::done(e);
  MountNamespace& mnt = *p.ns.mnt;
  if (!capable(p, *mnt.owner)) return SysResult::done(-kEPERM);
  PathRef at;
  if (int e = resolve(p, target, at)) return SysResult::done(e);
  if (flags & (kMS_PRIVATE | kMS_SLAVE | kMS_SHARED | kMS_UNBINDABLE)) {
    // A propagation change. Every mount here is private already (no
    // propagation is modelled), so it only has to name a mount.
    return SysResult::done(at.inode == at.mount->root ? 0 : -kEINVAL);
  }
  if (at.inode->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  auto m = std::make_unique<Mount>();
  if (flags & kMS_BIND) {
    // A bind mount shows `source`'s subtree again at `target` (MS_REC's
    // submounts are not copied: a plain bind).
    PathRef from;
    if (int e = resolve(p, source, from)) return SysResult::done(e);
    m->fs = from.mount->fs;
    m->root = from.inode;
  } else if (type == "proc") {
    m->fs = std::make_shared<ProcFs>(p.ns.pid);  // the mounter's own PID namespace (§1.2 "/proc")
    m->root = m->fs->root();
  } else if (type == "cgroup2") {
    m->fs = cgroupfs();  // the one hierarchy, whoever mounts it (cgroupfs.h)
    m->root = m->fs->root();
  } else if (type == "tmpfs") {
    m->fs = std::make_shared<Filesystem>("tmpfs");
    m->root = m->fs->root();
  } else {
    return SysResult::done(-kENODEV);  // no such file-system type here
  }
  mnt.mounts.attach(std::move(m), at);
  return SysResult::done(0);
}

SysResult Kernel::sys_umount2(Process& p, const SyscallArgs& args) {
  std::string target;
  if (int e = user_path(p, args.a[0], target)) return SysResult::done(e);
  MountNamespace& mnt = *p.ns.mnt;
  if (!capable(p, *mnt.owner)) return SysResult::done(-kEPERM);
  PathRef at;
  if (int e = resolve(p, target, at)) return SysResult::done(e);
  if (at.inode != at.mount->root || !at.mount->parent) return SysResult::done(-kEINVAL);  // not a mount point
  if (!(args.a[1] & kMNT_DETACH)) {
    bool busy = !at.mount->children.empty();
    for (const auto& s : slots_)
      if (s && s->state != ProcState::Zombie && (s->root.mount == at.mount || s->cwd.mount == at.mount)) busy = true;
    if (busy) return SysResult::done(-kEBUSY);
  }
  // Lazy or not, whoever still stands in it keeps it alive (MNT_DETACH).
  mnt.mounts.detached.push_back(mnt.mounts.detach(at.mount));
  return SysResult::done(0);
}

SysResult Kernel::sys_chroot(Process& p, const SyscallArgs& args) {
  std::string path;
  if (int e = user_path(p, args.a[0], path)) return SysResult::done(e);
  PathRef at;
  if (int e = resolve(p, path, at)) return SysResult::done(e);
  if (at.inode->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  if (!capable(p, *p.ns.user)) return SysResult::done(-kEPERM);  // CAP_SYS_CHROOT
  p.root = at;  // §1.3: only the root; the cwd stays where it was (and may lie outside)
  return SysResult::done(0);
}

// pivot_root(2), with the checks in the order fs/namespace.c makes them (§1.3).
SysResult Kernel::sys_pivot_root(Process& p, const SyscallArgs& args) {
  std::string new_path, old_path;
  if (int e = user_path(p, args.a[0], new_path)) return SysResult::done(e);
  if (int e = user_path(p, args.a[1], old_path)) return SysResult::done(e);
  MountNamespace& mnt = *p.ns.mnt;
  if (!capable(p, *mnt.owner)) return SysResult::done(-kEPERM);
  PathRef nr, old;
  if (int e = resolve(p, new_path, nr)) return SysResult::done(e);
  if (int e = resolve(p, old_path, old)) return SysResult::done(e);
  if (nr.inode->type != Inode::Type::Directory || old.inode->type != Inode::Type::Directory)
    return SysResult::done(-kENOTDIR);
  const PathRef root = p.root;
  if (!mnt.mounts.contains(root.mount) || !mnt.mounts.contains(nr.mount)) return SysResult::done(-kEINVAL);
  if (nr.mount == root.mount || old.mount == root.mount) return SysResult::done(-kEBUSY);  // on the root mount
  if (root.inode != root.mount->root) return SysResult::done(-kEINVAL);  // the root is not a mount point (chroot)
  // (Linux also wants the root mount to have a parent, which fails on an
  // initramfs; the model's root mount is the real root file system.)
  if (nr.inode != nr.mount->root || !nr.mount->parent) return SysResult::done(-kEINVAL);  // new_root: a mount point
  if (mnt.mounts.path_of(old, nr).rfind("(unreachable)", 0) == 0) return SysResult::done(-kEINVAL);  // put_old under new_root
  if (mnt.mounts.path_of(nr, root).rfind("(unreachable)", 0) == 0) return SysResult::done(-kEINVAL);
  const PathRef new_root{nr.mount, nr.mount->root};
  mnt.mounts.pivot(nr.mount, old);
  // fs/fs_struct.c chroot_fs_refs(): every process of this mount namespace
  // whose root or cwd was the old root now has new_root there, the caller
  // included; a cwd anywhere else stays (pivot_root(2) NOTES).
  for (const auto& s : slots_) {
    if (!s || s->ns.mnt.get() != &mnt) continue;
    if (s->root == root) s->root = new_root;
    if (s->cwd == root) s->cwd = new_root;
  }
  return SysResult::done(0);
}

SysResult Kernel::sys_chdir(Process& p, const SyscallArgs& args) {
  std::string path;
  if (int e = user_path(p, args.a[0], path)) return SysResult::done(e);
  PathRef at;
  if (int e = resolve(p, path, at)) return SysResult::done(e);
  if (at.inode->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  p.cwd = at;
  return SysResult::done(0);
}

SysResult Kernel::sys_mkdir(Process& p, const SyscallArgs& args) {
  std::string path;
  if (int e = user_path(p, args.a[0], path)) return SysResult::done(e);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (name.empty() || name == "." || name == "..") return SysResult::done(-kEEXIST);
  PathRef at;
  if (int e = resolve(p, dir, at)) return SysResult::done(e);
  if (at.inode->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  if (at.inode->cgroupfs) {  // a new cgroup (cgroup-v2.rst "Basic Operations")
    const std::shared_ptr<Cgroup> parent = at.inode->cgroup.lock();
    if (!parent || parent->removed) return SysResult::done(-kENOENT);
    if (!capable(p, *p.ns.user)) return SysResult::done(-kEPERM);  // stands for the directory's write permission
    return SysResult::done(cgroups_.mkdir(*parent, name));
  }
  if (at.mount->fs->lookup(*at.inode, name, &p)) return SysResult::done(-kEEXIST);
  if (at.inode->proc_kind) return SysResult::done(-kENOENT);  // procfs makes its own entries
  auto d = at.mount->fs->make(Inode::Type::Directory);
  d->mode = args.a[1] & 07777;
  d->parent = at.inode.get();
  at.inode->entries[name] = d;
  return SysResult::done(0);
}

// rmdir(2): removes a cgroup (EBUSY while it has live processes or
// children, §2.1), or an empty directory of another file system.
SysResult Kernel::sys_rmdir(Process& p, const SyscallArgs& args) {
  constexpr int kENOTEMPTY = 39;
  std::string path;
  if (int e = user_path(p, args.a[0], path)) return SysResult::done(e);
  PathRef at;
  if (int e = resolve(p, path, at)) return SysResult::done(e);
  if (at.inode->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  if (at.inode == at.mount->root) return SysResult::done(-kEBUSY);  // a mount point (or the root)
  if (at.inode->cgroupfs) {
    const std::shared_ptr<Cgroup> cg = at.inode->cgroup.lock();
    if (!cg || cg->removed) return SysResult::done(-kENOENT);
    return SysResult::done(cgroups_.rmdir(*cg));
  }
  if (at.inode->proc_kind) return SysResult::done(-kEPERM);
  if (!at.inode->entries.empty()) return SysResult::done(-kENOTEMPTY);
  for (const auto& c : at.mount->children)
    if (c->mountpoint == at.inode) return SysResult::done(-kEBUSY);
  Inode* parent = at.inode->parent;
  if (!parent) return SysResult::done(-kEBUSY);
  for (auto it = parent->entries.begin(); it != parent->entries.end(); ++it)
    if (it->second == at.inode) {
      parent->entries.erase(it);
      break;
    }
  return SysResult::done(0);
}

SysResult Kernel::sys_getcwd(Process& p, const SyscallArgs& args) {
  // getcwd(3) "(unreachable)": a cwd outside the process's root (after chroot) is reported as such.
  const std::string path = p.ns.mnt->mounts.path_of(p.cwd, p.root);
  if (path.size() + 1 > args.a[1]) return SysResult::done(-kERANGE);
  if (p.mm->copy_out(args.a[0], path.c_str(), uint32_t(path.size() + 1)) < 0) return SysResult::done(-kEFAULT);
  return SysResult::done(int32_t(path.size() + 1));  // the system call returns the length with the NUL
}

SysResult Kernel::sys_getdents64(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  if (!f) return SysResult::done(-kEBADF);
  if (f->kind != OpenFile::Kind::Directory) return SysResult::done(-kENOTDIR);
  auto entries = f->where.mount->fs->list(*f->inode, &p);
  entries.insert(entries.begin(), {{".", f->inode}, {"..", nullptr}});
  // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, name, NUL, padded to 8.
  std::vector<uint8_t> out;
  uint32_t index = f->offset;
  for (; index < entries.size(); ++index) {
    const auto& [name, inode] = entries[index];
    const uint32_t reclen = (19 + uint32_t(name.size()) + 1 + 7) & ~7u;
    if (out.size() + reclen > args.a[2]) {
      if (out.empty()) return SysResult::done(-kEINVAL);  // buffer too small for one entry
      break;
    }
    std::vector<uint8_t> rec(reclen, 0);
    const uint64_t ino = inode ? inode->number : 1, off = index + 1;
    const uint8_t type = !inode || inode->type == Inode::Type::Directory
                             ? (inode && (inode->proc_kind == kProcSelf) ? 10 : 4)   // DT_LNK, DT_DIR
                             : (inode->proc_kind >= kProcNsLink ? 10 : 8);          // DT_LNK, DT_REG
    std::copy_n(reinterpret_cast<const uint8_t*>(&ino), 8, rec.begin());
    std::copy_n(reinterpret_cast<const uint8_t*>(&off), 8, rec.begin() + 8);
    rec[16] = uint8_t(reclen), rec[17] = uint8_t(reclen >> 8), rec[18] = type;
    std::copy(name.begin(), name.end(), rec.begin() + 19);
    out.insert(out.end(), rec.begin(), rec.end());
  }
  if (!out.empty() && p.mm->copy_out(args.a[1], out.data(), uint32_t(out.size())) < 0)
    return SysResult::done(-kEFAULT);
  f->offset = index;
  return SysResult::done(int32_t(out.size()));
}

SysResult Kernel::sys_readlink(Process& p, const SyscallArgs& args) {
  std::string path;
  if (int e = user_path(p, args.a[0], path)) return SysResult::done(e);
  if (int32_t(args.a[2]) <= 0) return SysResult::done(-kEINVAL);
  PathRef at;
  if (int e = resolve(p, path, at)) return SysResult::done(e);
  // The only symbolic links here are procfs's: /proc/self and /proc/PID/ns/*.
  std::string text;
  if (at.inode->proc_kind == kProcSelf) {
    text = std::to_string(at.inode->proc_pid);
  } else if (at.inode->proc_kind >= kProcNsLink) {
    FileRef f;
    if (int e = proc_open(p, at, 0, f)) return SysResult::done(e);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s:[%llu]", ns_type_name(f->ns.type), (unsigned long long)f->ns.ns->id);
    text = buf;
  } else {
    return SysResult::done(-kEINVAL);
  }
  const uint32_t n = std::min<uint32_t>(uint32_t(text.size()), args.a[2]);
  if (p.mm->copy_out(args.a[1], text.data(), n) < 0) return SysResult::done(-kEFAULT);
  return SysResult::done(int32_t(n));
}

}  // namespace vs::container_sim

// System calls about mounts and directories: mount (proc, cgroup2, tmpfs,
// bind, overlay), umount2, chroot, pivot_root, chdir, mkdir, rmdir, getcwd, getdents64, readlink (mount(2),
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

SysResult Kernel::sys_mount(Process& p, const SyscallArgs& args) {
  std::string source, target, type;
  const uint32_t flags = args.a[3];
  if (int e = p.mm->copy_path(target, args.a[1])) return SysResult::done(e);
  if (args.a[0])
    if (int e = p.mm->copy_path(source, args.a[0])) return SysResult::done(e);
  if (args.a[2])
    if (int e = p.mm->copy_path(type, args.a[2])) return SysResult::done(e);
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
  } else if (type == "overlay") {
    // The layers come in the data argument (overlayfs.h, syscalls_fs.cpp);
    // mount(2) copies at most a page of it.
    std::string data;
    if (args.a[4]) {
      const int r = p.mm->copy_string(data, args.a[4], 4096);
      if (r < 0) return SysResult::done(r == -kE2BIG ? -kEINVAL : r);
    }
    if (int e = make_overlay(p, data, m->fs)) return SysResult::done(e);
    m->root = m->fs->root();
  } else {
    return SysResult::done(-kENODEV);  // no such file-system type here
  }
  // A new bind mount ignores MS_RDONLY (it takes a remount); others honour it.
  if (!(flags & kMS_BIND)) m->read_only = flags & kMS_RDONLY;
  mnt.mounts.attach(std::move(m), at);
  return SysResult::done(0);
}

SysResult Kernel::sys_umount2(Process& p, const SyscallArgs& args) {
  std::string target;
  if (int e = p.mm->copy_path(target, args.a[0])) return SysResult::done(e);
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
  if (int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
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
  if (int e = p.mm->copy_path(new_path, args.a[0])) return SysResult::done(e);
  if (int e = p.mm->copy_path(old_path, args.a[1])) return SysResult::done(e);
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
  if (int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
  PathRef at;
  if (int e = resolve(p, path, at)) return SysResult::done(e);
  if (at.inode->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  p.cwd = at;
  return SysResult::done(0);
}

SysResult Kernel::sys_mkdir(Process& p, const SyscallArgs& args) {
  std::string path, name;
  if (int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
  PathRef at;
  bool slash = false;
  if (int e = resolve_parent(p, path, at, name, slash)) return SysResult::done(e);
  if (name.empty() || name == "." || name == "..") return SysResult::done(-kEEXIST);
  if (at.inode->cgroupfs) {  // a new cgroup (cgroup-v2.rst "Basic Operations")
    const std::shared_ptr<Cgroup> parent = at.inode->cgroup.lock();
    if (!parent || parent->removed) return SysResult::done(-kENOENT);
    return SysResult::done(cgroup_mkdir(p, *parent, name));  // the directory's permissions (delegation)
  }
  if (at.mount->fs->lookup(*at.inode, name, &p)) return SysResult::done(-kEEXIST);
  if (at.inode->proc_kind) return SysResult::done(-kENOENT);  // procfs makes its own entries
  if (at.mount->read_only || at.mount->fs->read_only()) return SysResult::done(-kEROFS);
  // The file system makes it (overlayfs: in the upper layer, opaque over a whiteout).
  std::shared_ptr<Inode> made;
  const int e = at.mount->fs->create(*at.inode, name, Inode::Type::Directory, args.a[1], 0, 0, &made);
  if (made) {  // the creator's (fsuid, fsgid); on overlayfs its upper directory keeps it
    made->uid = p.euid, made->gid = p.egid;
    if (made->overlay && made->overlay->upper) made->overlay->upper->uid = p.euid, made->overlay->upper->gid = p.egid;
  }
  return SysResult::done(e);
}

// rmdir(2): removes a cgroup (EBUSY while it has live processes or
// children, §2.1), or an empty directory of another file system.
SysResult Kernel::sys_rmdir(Process& p, const SyscallArgs& args) {
  std::string path, name;
  if (int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
  PathRef dir;
  bool slash = false;
  if (int e = resolve_parent(p, path, dir, name, slash)) return SysResult::done(e);
  // do_rmdir()'s answers for the last component "/", "." and "..".
  if (name.empty()) return SysResult::done(-kEBUSY);
  if (name == ".") return SysResult::done(-kEINVAL);
  if (name == "..") return SysResult::done(-kENOTEMPTY);
  const std::shared_ptr<Inode> at = dir.mount->fs->lookup(*dir.inode, name, &p);
  if (at && at->cgroupfs && at->type == Inode::Type::Directory) {
    for (const auto& c : dir.mount->children)
      if (c->mountpoint == at) return SysResult::done(-kEBUSY);
    const std::shared_ptr<Cgroup> cg = at->cgroup.lock();
    if (!cg || cg->removed) return SysResult::done(-kENOENT);
    return SysResult::done(cgroup_rmdir(p, *cg));
  }
  if (dir.inode->proc_kind || dir.inode->cgroupfs) return SysResult::done(at ? -kEPERM : -kENOENT);
  if (dir.mount->read_only || dir.mount->fs->read_only()) return SysResult::done(-kEROFS);
  if (!at) return SysResult::done(-kENOENT);
  if (at->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  for (const auto& c : dir.mount->children)
    if (c->mountpoint == at) return SysResult::done(-kEBUSY);  // a mount point
  // The file system removes it (overlayfs: a whiteout when a lower layer has it).
  return SysResult::done(dir.mount->fs->remove(*dir.inode, name, true));
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
                             : inode->type == Inode::Type::CharDevice ? 2            // DT_CHR (a whiteout too)
                             : inode->type == Inode::Type::BlockDevice ? 6           // DT_BLK
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
  if (int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
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

// System calls that change the file-system name space: open's O_CREAT,
// O_EXCL, O_TRUNC and O_APPEND (the rest of open is syscalls_file.cpp),
// unlink, rename, mknod, chmod, and mount -t overlay's layers (overlayfs.h);
// reading, writing and stat are syscalls_fileio.cpp. Errors are
// the ones the man pages list, in the order fs/namei.c finds them. The file
// system does the change (Filesystem::create, remove, rename, open_write), so
// overlayfs can copy up and leave whiteouts (docs/container-sim/overlayfs.md).
#include <algorithm>

#include "kernel.h"
#include "linux_abi.h"
#include "overlayfs.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {

bool read_only(const PathRef& at) { return at.mount->read_only || at.mount->fs->read_only(); }

bool special(const Inode& dir) { return dir.proc_kind != 0 || dir.cgroupfs; }

// A new file is its creator's (Linux: fsuid and fsgid); on overlayfs a
// merged directory's upper directory is what keeps it.
void set_owner(const std::shared_ptr<Inode>& inode, const Process& p) {
  if (!inode) return;
  inode->uid = p.euid, inode->gid = p.egid;
  if (inode->overlay && inode->overlay->upper) inode->overlay->upper->uid = p.euid, inode->overlay->upper->gid = p.egid;
}

// Is something mounted on `inode`, an entry of `dir`? (rmdir, unlink and
// rename of a mount point are EBUSY.)
bool mounted_on(const PathRef& dir, const std::shared_ptr<Inode>& inode) {
  for (const auto& c : dir.mount->children)
    if (c->mountpoint == inode) return true;
  return false;
}

// Linux's new_decode_dev (include/linux/kdev_t.h): mknod's dev argument.
void decode_dev(uint32_t dev, uint32_t& major, uint32_t& minor) {
  major = (dev & 0xFFF00u) >> 8;
  minor = (dev & 0xFFu) | ((dev >> 12) & 0xFFF00u);
}

}  // namespace

int Kernel::resolve_parent(Process& p, const std::string& path, PathRef& dir, std::string& name, bool& slash) {
  if (path.empty()) return -kENOENT;
  std::string trimmed = path;
  slash = trimmed.size() > 1 && trimmed.back() == '/';
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const size_t cut = trimmed.rfind('/');
  name = cut == std::string::npos ? trimmed : trimmed.substr(cut + 1);
  if (trimmed == "/") name.clear();
  if (name.size() > 255) return -kENAMETOOLONG;
  const std::string parent = cut == std::string::npos ? "." : cut == 0 ? "/" : trimmed.substr(0, cut);
  if (const int e = resolve(p, parent, dir)) return e;
  return dir.inode->type == Inode::Type::Directory ? 0 : -kENOTDIR;
}

int Kernel::open_file(Process& p, const std::string& path, uint32_t flags, uint32_t mode, FileRef& out) {
  const bool create = flags & kO_CREAT, write = (flags & kO_ACCMODE) != 0, trunc = flags & kO_TRUNC;
  PathRef dir;
  std::string name;
  bool slash = false;
  if (const int e = resolve_parent(p, path, dir, name, slash)) return e;
  if (name.empty() || name == "." || name == "..") return -kEISDIR;
  std::shared_ptr<Inode> inode = dir.mount->fs->lookup(*dir.inode, name, &p);
  bool created = false;
  if (inode) {
    if (create && (flags & kO_EXCL)) return -kEEXIST;
    if (inode->type == Inode::Type::Directory) return -kEISDIR;
    if (slash || (flags & kO_DIRECTORY)) return -kENOTDIR;
  } else {
    if (!create) return -kENOENT;
    if (slash) return -kEISDIR;
    if (special(*dir.inode)) return -kEACCES;  // procfs and cgroupfs make their own files
    if (read_only(dir)) return -kEROFS;
    if (const int e = dir.mount->fs->create(*dir.inode, name, Inode::Type::Regular, mode, 0, 0, &inode)) return e;
    set_owner(inode, p);
    created = true;
  }
  if (inode->type != Inode::Type::Regular) return -kENXIO;  // a device: no driver behind its number here
  if (write || trunc) {
    if (read_only(dir)) return -kEROFS;
    // overlayfs copies a lower file up now, whether or not it is ever
    // written (overlayfs.rst "Non-directories", SEMANTICS.md §4.2).
    if (!created)
      if (const int e = dir.mount->fs->open_write(*dir.inode, name, inode)) return e;
    if (trunc && inode->size()) {  // a new empty vector rather than a copy to cut
      inode->data = std::make_shared<std::vector<uint8_t>>();
      inode->data_private = true;
    }
  }
  auto f = std::make_shared<OpenFile>(OpenFile::Kind::Regular);
  f->inode = inode;
  f->where = PathRef{dir.mount, inode};
  f->fs = dir.mount->fs;
  f->writable = write;
  f->readable = (flags & kO_ACCMODE) != kO_WRONLY;
  f->append = flags & kO_APPEND;
  out = std::move(f);
  return 0;
}

int Kernel::change_target(Process& p, const std::string& path, std::shared_ptr<Inode>& out) {
  PathRef dir;
  std::string name;
  bool slash = false;
  if (const int e = resolve_parent(p, path, dir, name, slash)) return e;
  PathRef at;
  std::shared_ptr<Inode> inode;
  if (!name.empty() && name != "." && name != "..") {
    inode = dir.mount->fs->lookup(*dir.inode, name, &p);
    if (!inode) return -kENOENT;
    if (slash && inode->type != Inode::Type::Directory) return -kENOTDIR;
  }
  if (!inode || mounted_on(dir, inode)) {  // ".", "..", "/", or what is mounted on the name: that mount's root
    if (const int e = resolve(p, path, at)) return e;
    if (read_only(at)) return -kEROFS;
    out = at.inode;
    return 0;
  }
  if (read_only(dir)) return -kEROFS;  // mnt_want_write()
  // overlayfs copies up first (overlayfs.rst: a metadata change is a write access).
  return dir.mount->fs->open_write(*dir.inode, name, out);
}

// chmod(2): the owner, or CAP_FOWNER in the caller's user namespace over a
// file whose owner is mapped there (inode_owner_or_capable()).
SysResult Kernel::sys_chmod(Process& p, const SyscallArgs& args) {
  std::string path;
  if (const int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
  std::shared_ptr<Inode> inode;
  {
    PathRef at;  // the permission check comes before any copy-up
    if (const int e = resolve(p, path, at)) return SysResult::done(e);
    const bool owner = p.euid == at.inode->uid;
    const bool privileged = capable(p, *p.ns.user) && id_from_kernel(*p.ns.user, false, at.inode->uid) != kNoId;
    if (!owner && !privileged) return SysResult::done(-kEPERM);
    if (at.inode->proc_kind || at.inode->cgroupfs) return SysResult::done(-kEPERM);  // remade at each lookup
  }
  if (const int e = change_target(p, path, inode)) return SysResult::done(e);
  inode->mode = (inode->mode & ~07777u) | (args.a[1] & 07777);
  return SysResult::done(0);
}

SysResult Kernel::sys_unlink(Process& p, const SyscallArgs& args) {
  std::string path, name;
  if (const int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
  PathRef dir;
  bool slash = false;
  if (const int e = resolve_parent(p, path, dir, name, slash)) return SysResult::done(e);
  if (name.empty() || name == "." || name == "..") return SysResult::done(-kEISDIR);
  if (special(*dir.inode)) return SysResult::done(-kEPERM);
  if (read_only(dir)) return SysResult::done(-kEROFS);
  const std::shared_ptr<Inode> inode = dir.mount->fs->lookup(*dir.inode, name, &p);
  if (!inode) return SysResult::done(-kENOENT);
  if (inode->type == Inode::Type::Directory) return SysResult::done(-kEISDIR);
  if (slash) return SysResult::done(-kENOTDIR);
  if (mounted_on(dir, inode)) return SysResult::done(-kEBUSY);
  // Open descriptors keep the inode (and its data) alive: unlink(2) removes the name only.
  return SysResult::done(dir.mount->fs->remove(*dir.inode, name, false));
}

SysResult Kernel::sys_rename(Process& p, const SyscallArgs& args) {
  std::string old_path, new_path, old_name, new_name;
  if (const int e = p.mm->copy_path(old_path, args.a[0])) return SysResult::done(e);
  if (const int e = p.mm->copy_path(new_path, args.a[1])) return SysResult::done(e);
  PathRef od, nd;
  bool old_slash = false, new_slash = false;
  if (const int e = resolve_parent(p, old_path, od, old_name, old_slash)) return SysResult::done(e);
  if (const int e = resolve_parent(p, new_path, nd, new_name, new_slash)) return SysResult::done(e);
  if (od.mount != nd.mount) return SysResult::done(-kEXDEV);  // "not on the same mounted file system"
  for (const std::string* n : {&old_name, &new_name})
    if (n->empty() || *n == "." || *n == "..") return SysResult::done(-kEBUSY);
  if (special(*od.inode) || special(*nd.inode)) return SysResult::done(-kEPERM);
  if (read_only(od)) return SysResult::done(-kEROFS);
  Filesystem& fs = *od.mount->fs;
  const std::shared_ptr<Inode> src = fs.lookup(*od.inode, old_name, &p);
  if (!src) return SysResult::done(-kENOENT);
  if ((old_slash || new_slash) && src->type != Inode::Type::Directory) return SysResult::done(-kENOTDIR);
  const std::shared_ptr<Inode> dst = fs.lookup(*nd.inode, new_name, &p);
  if (mounted_on(od, src) || (dst && mounted_on(nd, dst))) return SysResult::done(-kEBUSY);
  return SysResult::done(fs.rename(*od.inode, old_name, *nd.inode, new_name));
}

// mknod(2): regular files and character devices. A whiteout (0/0) needs no
// privilege since Linux 5.8 (vfs_mknod), any other device CAP_MKNOD in the
// initial user namespace. FIFOs, sockets and block devices are not modelled:
// EPERM, the man page's answer for a type the file system does not support.
SysResult Kernel::sys_mknod(Process& p, const SyscallArgs& args) {
  std::string path, name;
  if (const int e = p.mm->copy_path(path, args.a[0])) return SysResult::done(e);
  const uint32_t mode = args.a[1], type = mode & kS_IFMT;
  if (type == kS_IFDIR) return SysResult::done(-kEPERM);  // may_mknod()
  if (type != 0 && type != kS_IFREG && type != kS_IFCHR && type != kS_IFBLK && type != kS_IFIFO && type != kS_IFSOCK)
    return SysResult::done(-kEINVAL);
  PathRef dir;
  bool slash = false;
  if (const int e = resolve_parent(p, path, dir, name, slash)) return SysResult::done(e);
  if (name.empty() || name == "." || name == "..") return SysResult::done(-kEEXIST);
  if (dir.mount->fs->lookup(*dir.inode, name, &p)) return SysResult::done(-kEEXIST);
  if (slash) return SysResult::done(-kENOENT);
  if (special(*dir.inode)) return SysResult::done(-kEACCES);
  if (read_only(dir)) return SysResult::done(-kEROFS);
  uint32_t major = 0, minor = 0;
  decode_dev(args.a[2], major, minor);
  Inode::Type kind = Inode::Type::Regular;
  if (type == kS_IFCHR || type == kS_IFBLK) {
    const bool whiteout = type == kS_IFCHR && major == 0 && minor == 0;
    if (!whiteout && !capable(p, *init_ns_.user)) return SysResult::done(-kEPERM);
    if (type == kS_IFBLK) return SysResult::done(-kEPERM);
    kind = Inode::Type::CharDevice;
  } else if (type == kS_IFIFO || type == kS_IFSOCK) {
    return SysResult::done(-kEPERM);
  }
  std::shared_ptr<Inode> made;
  const int e = dir.mount->fs->create(*dir.inode, name, kind, mode & 07777, major, minor, &made);
  set_owner(made, p);
  return SysResult::done(e);
}

// mount(2) -t overlay: each directory of the options resolved in the
// mounter's view, with overlayfs's checks (overlayfs.rst "Upper and Lower",
// fs/overlayfs/super.c's messages in quotes).
int Kernel::make_overlay(Process& p, const std::string& data, std::shared_ptr<Filesystem>& out) {
  OverlayOptions o;
  if (const int e = parse_overlay_options(data, o)) return e;
  auto dir_at = [&](const std::string& path, PathRef& at) {
    if (const int e = resolve(p, path, at)) return e;
    return at.inode->type == Inode::Type::Directory ? 0 : -kEINVAL;  // not ENOTDIR: Linux 6.x says EINVAL
  };
  std::vector<LayerDir> lowers;
  for (const std::string& path : o.lowerdirs) {
    PathRef at;
    if (const int e = dir_at(path, at)) return e;
    // procfs and cgroupfs make their nodes at each lookup: no layer
    // ("filesystem on lowerdir not supported").
    if (at.mount->fs->type() == "proc" || at.mount->fs->type() == "cgroup2") return -kEINVAL;
    lowers.push_back(LayerDir{at.mount->fs, at.inode});
  }
  LayerDir upper;
  if (!o.upperdir.empty()) {
    PathRef up, work;
    if (const int e = dir_at(o.upperdir, up)) return e;
    if (const int e = dir_at(o.workdir, work)) return e;
    const std::string& t = up.mount->fs->type();
    if (t == "overlay" || t == "proc" || t == "cgroup2") return -kEINVAL;  // "filesystem on upperdir not supported"
    if (read_only(up)) return -kEROFS;
    if (work.mount != up.mount) return -kEINVAL;  // "workdir and upperdir must reside under the same mount"
    for (const Inode* i = work.inode.get(); i; i = i->parent)
      if (i == up.inode.get()) return -kEINVAL;  // "workdir and upperdir must be separate subtrees"
    for (const Inode* i = up.inode.get(); i; i = i->parent)
      if (i == work.inode.get()) return -kEINVAL;
    // Linux prepares workdir/work for its atomic copy-ups; the model's
    // copy-up is atomic anyway, but the directory appears as it would.
    if (!work.inode->entries.count("work"))
      work.mount->fs->create(*work.inode, "work", Inode::Type::Directory, 0, 0, 0, nullptr);
    upper = LayerDir{up.mount->fs, up.inode};
  }
  out = std::make_shared<OverlayFs>(std::move(lowers), std::move(upper));
  return 0;
}

}  // namespace vs::container_sim

// cgroupfs (cgroupfs.h): lookups and listings from the hierarchy, the text
// and writes of the interface files, cgroup.procs (the one file that needs
// the process table), and the host's access by path.
#include "cgroupfs.h"

#include <algorithm>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

CgroupFs::CgroupFs(CgroupHierarchy& hierarchy) : Filesystem("cgroup2"), hierarchy_(hierarchy) {
  root()->cgroupfs = true;
  root()->cgroup = hierarchy.root();
  root()->number = hierarchy.root()->id << 8;
}

std::shared_ptr<Inode> CgroupFs::node(const std::shared_ptr<Cgroup>& cg, const std::string& file, uint32_t index) {
  if (file.empty() && cg->is_root()) return root();
  auto n = make(file.empty() ? Inode::Type::Directory : Inode::Type::Regular);
  n->number = (cg->id << 8) | index;  // stable across lookups
  n->cgroupfs = true;
  n->cgroup = cg;
  n->cgroup_file = file;
  // Linux's modes: directories 0755, files 0644 when writable, else 0444.
  const bool writable = hierarchy_.writable(file);
  n->mode = file.empty() ? 0755 : writable ? 0644 : 0444;
  const NodeOwner o = owner(*cg, file);
  n->uid = o.uid;
  n->gid = o.gid;
  return n;
}

NodeOwner CgroupFs::owner(const Cgroup& cg, const std::string& file) const {
  const auto it = owners_.find(cg.id);
  if (it == owners_.end()) return {};
  const auto n = it->second.nodes.find(file);
  return n != it->second.nodes.end() ? n->second : it->second.creator;
}

void CgroupFs::set_owner(const Cgroup& cg, const std::string& file, NodeOwner o) {
  owners_[cg.id].nodes[file] = o;
  if (file.empty() && cg.is_root()) root()->uid = o.uid, root()->gid = o.gid;  // the one node kept, not remade
}

void CgroupFs::set_creator(const Cgroup& cg, NodeOwner o) { owners_[cg.id] = Owners{o, {}}; }

std::shared_ptr<Inode> CgroupFs::lookup(Inode& dir, const std::string& name, const Process*) {
  const std::shared_ptr<Cgroup> cg = dir.cgroup.lock();
  if (!cg || cg->removed || !dir.cgroup_file.empty()) return nullptr;
  const auto child = cg->children.find(name);
  if (child != cg->children.end()) return node(child->second, "", 0);
  const std::vector<std::string> files = hierarchy_.files(*cg);
  for (uint32_t i = 0; i < files.size(); ++i)
    if (files[i] == name) return node(cg, name, i + 1);
  return nullptr;
}

std::vector<std::pair<std::string, std::shared_ptr<Inode>>> CgroupFs::list(Inode& dir, const Process* viewer) {
  std::vector<std::pair<std::string, std::shared_ptr<Inode>>> out;
  const std::shared_ptr<Cgroup> cg = dir.cgroup.lock();
  if (!cg || cg->removed) return out;
  std::vector<std::string> names = hierarchy_.files(*cg);
  for (const auto& [name, child] : cg->children) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) out.emplace_back(n, lookup(dir, n, viewer));
  return out;
}

std::shared_ptr<Filesystem> Kernel::cgroupfs() {
  if (!cgroupfs_) cgroupfs_ = std::make_shared<CgroupFs>(cgroups_);
  return cgroupfs_;
}

int Kernel::cgroup_text(const Process* viewer, const Cgroup& cg, const std::string& file, std::string& out) const {
  if (cg.removed) return -kENOENT;
  if (file == "memory.stat") frames_.notice_dirty();  // file pages written since: anonymous now
  if (file != "cgroup.procs") return cgroups_.read_file(cg, file, out) ? 0 : -kENOENT;
  // cgroup.procs: the live members (zombies are not listed, §2.1), by
  // their PIDs in the reader's PID namespace; members the reader cannot
  // name are left out (cgroup-v2.rst "Processes"). Sorted here, for
  // determinism; Linux prints them in its task-list order.
  std::vector<uint32_t> pids;
  for (const auto& s : slots_) {
    if (!s || s->cgroup.get() != &cg || s->state == ProcState::Zombie) continue;
    const uint32_t pid = viewer ? pid_as_seen_by(*viewer, *s) : s->pid();
    if (pid) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  out.clear();
  for (uint32_t pid : pids) out += std::to_string(pid) + "\n";
  return 0;
}

int Kernel::cgroup_procs_write(Process* writer, Cgroup& dst, const std::string& text) {
  // __cgroup_procs_write(): one PID per write, as the writer's PID
  // namespace numbers it; 0 means the writer itself.
  int64_t pid = 0;
  if (!parse_kernel_int(text, pid) || pid > INT32_MAX || pid < INT32_MIN) return -kEINVAL;
  Process* target = nullptr;
  if (pid == 0) {
    target = writer;
  } else if (pid > 0) {
    target = writer ? find(*writer, uint32_t(pid)) : process_in(*init_ns_.pid, uint32_t(pid));
  }
  if (!target || target->state == ProcState::Zombie) return -kESRCH;
  if (writer) {
    // cgroup_procs_write_permission() (§2.1 "Delegation", checklist 23):
    // write access to the destination's cgroup.procs was checked at open;
    // the writer also needs it to the cgroup.procs of the common ancestor
    // of source and destination, so that a delegatee can move processes
    // only within what was delegated to it. (cgroup v2 has no rule about
    // the target's uid: that was v1's __cgroup1_procs_write().)
    const Cgroup* common = target->cgroup.get();
    auto contains = [](const Cgroup* ancestor, const Cgroup* c) {
      for (; c; c = c->parent)
        if (c == ancestor) return true;
      return false;
    };
    while (common->parent && !contains(common, &dst)) common = common->parent;
    const NodeOwner o = static_cast<const CgroupFs&>(*cgroupfs()).owner(*common, "cgroup.procs");
    if (const int e = may_access(*writer, o.uid, o.gid, 0644, 2, false)) return e;
  }
  if (target->cgroup.get() == &dst) return 0;
  if (const int e = cgroups_.vet_destination(dst)) return e;  // no internal processes (§2.1)
  cgroups_.move(*target->cgroup, dst);
  target->cgroup = dst.shared_from_this();
  if (target->mm) target->mm->set_memcg(target->cgroup);  // new pages charge here; old ones stay (§2.3)
  return 0;
}

int Kernel::cgroup_write(Process* writer, Cgroup& cg, const std::string& file, const std::string& text) {
  constexpr int kENODEV = 19;
  if (cg.removed) return -kENODEV;  // kernfs: the node is gone
  // io.max needs the kernel's block devices (blkg_conf_open_bdev()'s
  // ENODEV), which the controller's table cannot see.
  const auto device_exists = [this](IoDevice d) { return block_device(d.first, d.second) != nullptr; };
  int e = 0;
  if (file == "cgroup.procs") {
    e = cgroup_procs_write(writer, cg, text);
  } else if (file == "io.max" && cgroups_.has_file(cg, file)) {
    e = io_max_write(cg, text, device_exists);
  } else {
    e = cgroups_.write_file(cg, file, text);
  }
  if (e == 0 && (file == "memory.max" || file == "memory.high")) memcg_limit_written(writer, cg, file);  // reclaim, OOM
  return e < 0 ? e : int(text.size());
}

int Kernel::cgroup_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out) {
  const std::shared_ptr<Cgroup> cg = at.inode->cgroup.lock();
  if (!cg || cg->removed) return -kENOENT;
  const bool write = (flags & kO_ACCMODE) != 0;
  // kernfs_fop_open(): opening for write needs a file with a write method
  // (mode 0644), even for root.
  if (write && !(at.inode->mode & 0200)) return -kEACCES;
  // may_open() -> inode_permission(): the node's owner and mode (delegation).
  const uint32_t mask = ((flags & kO_ACCMODE) != 1 ? 4 : 0) | (write ? 2 : 0);
  if (const int e = may_access(p, at.inode->uid, at.inode->gid, at.inode->mode, mask, false)) return e;
  std::string text;
  if (const int e = cgroup_text(&p, *cg, at.inode->cgroup_file, text)) return e;
  out = std::make_shared<OpenFile>(OpenFile::Kind::Cgroup);
  out->inode = at.inode;
  out->cgroup = cg;
  out->writable = write;
  out->text = std::make_shared<const std::vector<uint8_t>>(text.begin(), text.end());
  return 0;
}

std::string Kernel::cgroup_path(uint32_t pid) const {
  const Process* p = process_in(*init_ns_.pid, pid);
  return p && p->cgroup ? p->cgroup->path() : "";
}

// --- ownership and permissions (delegation, cgroup-v2.rst "Delegation") ---------------

int Kernel::may_access(const Process& p, uint32_t uid, uint32_t gid, uint32_t mode, uint32_t mask, bool dir) const {
  // acl_permission_check(): the owner's bits, else the group's (the
  // effective gid; supplementary groups are not modelled), else the others'.
  uint32_t bits = mode & 7;
  if (p.euid == uid) {
    bits = (mode >> 6) & 7;
  } else if (p.egid == gid) {
    bits = (mode >> 3) & 7;
  }
  if ((mask & ~bits & 7) == 0) return 0;
  // CAP_DAC_OVERRIDE, as capable_wrt_inode_uidgid() grants it: the
  // capability in the caller's user namespace, and the node's owner and
  // group mapped there (so a container's root can use what was chowned to
  // its mapped ids, not the host's files). Executing needs some x bit.
  const UserNamespace& ns = *p.ns.user;
  const bool privileged =
      capable(p, ns) && id_from_kernel(ns, false, uid) != kNoId && id_from_kernel(ns, true, gid) != kNoId;
  if (privileged && (dir || !(mask & 1) || (mode & 0111))) return 0;
  return -kEACCES;
}

int Kernel::chown_node(Process& p, Inode& node, uint32_t uid, uint32_t gid, const std::string* path) {
  // chown_common(): ids are the caller's user namespace's; -1 leaves one
  // as it is; an id with no mapping is EINVAL.
  const UserNamespace& ns = *p.ns.user;
  const bool set_uid = uid != 0xFFFFFFFFu, set_gid = gid != 0xFFFFFFFFu;
  const uint32_t kuid = set_uid ? id_to_kernel(ns, false, uid) : node.uid;
  const uint32_t kgid = set_gid ? id_to_kernel(ns, true, gid) : node.gid;
  if (kuid == kNoId || kgid == kNoId) return -kEINVAL;
  // setattr_prepare(): chown_ok() and chgrp_ok(). The owner may "change"
  // the owner to itself and the group to its own group; anything else
  // needs CAP_CHOWN over the node (capable_wrt_inode_uidgid()).
  const bool privileged = capable(p, ns) && id_from_kernel(ns, false, node.uid) != kNoId &&
                          id_from_kernel(ns, true, node.gid) != kNoId;
  const bool owner = p.euid == node.uid;
  if (set_uid && !privileged && !(owner && kuid == node.uid)) return -kEPERM;
  if (set_gid && !privileged && !(owner && (kgid == p.egid || kgid == node.gid))) return -kEPERM;
  if (node.proc_kind) return -kEPERM;  // procfs nodes are made per lookup: nothing would keep the change
  if (node.cgroupfs) {
    // kernfs_iop_setattr(): kept by cgroupfs, which remakes the nodes.
    const std::shared_ptr<Cgroup> cg = node.cgroup.lock();
    if (!cg || cg->removed) return -kENOENT;
    static_cast<CgroupFs&>(*cgroupfs()).set_owner(*cg, node.cgroup_file, NodeOwner{kuid, kgid});
  } else if (path) {
    // Any other file system: the inode a metadata change must modify
    // (overlayfs copies the file up first: a lower layer never changes).
    std::shared_ptr<Inode> target;
    if (const int e = change_target(p, *path, target)) return e;
    target->uid = kuid;
    target->gid = kgid;
    return 0;
  }
  node.uid = kuid;
  node.gid = kgid;
  return 0;
}

SysResult Kernel::sys_chown(Process& p, const SyscallArgs& args) {
  // chown32 and lchown32 (212, 198): the same here, there being no
  // symbolic links to follow or not (procfs's cannot be changed anyway).
  std::string path;
  const int r = p.mm->copy_path(path, args.a[0]);
  if (r < 0) return SysResult::done(r);
  PathRef at;
  if (const int e = resolve(p, path, at)) return SysResult::done(e);
  if (at.mount->read_only || at.mount->fs->read_only()) return SysResult::done(-kEROFS);  // mnt_want_write()
  return SysResult::done(chown_node(p, *at.inode, args.a[1], args.a[2], &path));
}

SysResult Kernel::sys_fchown(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  if (!f) return SysResult::done(-kEBADF);
  // The console and pipes have no inode here (Linux's pipefs inodes are
  // their creator's): only a change to nothing is accepted.
  if (!f->inode) return SysResult::done(args.a[1] == 0xFFFFFFFFu && args.a[2] == 0xFFFFFFFFu ? 0 : -kEPERM);
  // A descriptor on overlayfs would need the copy-up a path gives
  // (chown_node): not modelled, rather than change a lower layer.
  const Filesystem* fs = f->fs ? f->fs.get() : f->where.mount ? f->where.mount->fs.get() : nullptr;
  if (fs && fs->type() == "overlay") return SysResult::done(-kEOPNOTSUPP);
  return SysResult::done(chown_node(p, *f->inode, args.a[1], args.a[2], nullptr));
}

int Kernel::cgroup_mkdir(Process& p, Cgroup& parent, const std::string& name) {
  // vfs_mkdir() -> may_create(): EEXIST first, then write and search
  // permission on the parent directory (EACCES). The new cgroup's
  // directory and files are the creator's (cgroup_mkdir()).
  if (parent.children.count(name) || cgroups_.has_file(parent, name)) return -kEEXIST;
  CgroupFs& fs = static_cast<CgroupFs&>(*cgroupfs());
  const NodeOwner dir = fs.owner(parent, "");
  if (const int e = may_access(p, dir.uid, dir.gid, 0755, 3, true)) return e;
  if (const int e = cgroups_.mkdir(parent, name)) return e;
  fs.set_creator(*parent.children.at(name), NodeOwner{p.euid, p.egid});
  return 0;
}

int Kernel::cgroup_rmdir(Process& p, Cgroup& cg) {
  // vfs_rmdir() -> may_delete(): write and search permission on the parent
  // directory, before cgroup_rmdir()'s own EBUSY.
  if (cg.is_root()) return -kEBUSY;
  const NodeOwner dir = static_cast<CgroupFs&>(*cgroupfs()).owner(*cg.parent, "");
  if (const int e = may_access(p, dir.uid, dir.gid, 0755, 3, true)) return e;
  return cgroups_.rmdir(cg);
}

}  // namespace vs::container_sim

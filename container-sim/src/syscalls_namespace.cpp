// System calls about namespaces and credentials: clone, unshare, setns,
// sethostname/setdomainname, the getuid/setuid family, msgget/shmget
// (clone(2), unshare(2), setns(2), namespaces(7), pid_namespaces(7),
// user_namespaces(7); ../shared/SEMANTICS.md §1.1-1.6).
#include <algorithm>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
constexpr uint32_t kAllNew = kNsMnt | kNsUts | kNsIpc | kNsUser | kNsPid | kNsNet;
}  // namespace

// i386 clone: EBX flags, ECX child stack, EDX parent_tid, ESI tls, EDI
// child_tid (clone(2) "C library/kernel differences", x86-32 order).
// Fork-like only: the child gets a copy of the address space (no CLONE_VM
// threads), with its stack pointer at the child stack if one is given.
SysResult Kernel::sys_clone(Process& p, const SyscallArgs& args) {
  const uint32_t flags = args.a[0], child_stack = args.a[1], parent_tid = args.a[2], child_tid = args.a[4];
  // The invalid combinations, in the order kernel/fork.c copy_process() checks them.
  if ((flags & (kNsMnt | kCLONE_FS)) == (kNsMnt | kCLONE_FS)) return SysResult::done(-kEINVAL);
  if ((flags & (kNsUser | kCLONE_FS)) == (kNsUser | kCLONE_FS)) return SysResult::done(-kEINVAL);
  if ((flags & kCLONE_THREAD) && !(flags & kCLONE_SIGHAND)) return SysResult::done(-kEINVAL);
  if ((flags & kCLONE_SIGHAND) && !(flags & kCLONE_VM)) return SysResult::done(-kEINVAL);
  if ((flags & kCLONE_PARENT) && p.pids.back() == 1) return SysResult::done(-kEINVAL);  // an init's siblings
  if ((flags & kCLONE_THREAD) &&
      ((flags & (kNsUser | kNsPid)) || p.ns.pid_for_children != p.ns.pid))  // §1.2: NEWPID|THREAD
    return SysResult::done(-kEINVAL);
  // Valid in Linux but not modelled: threads and shared state (CLONE_VM,
  // CLONE_FS, CLONE_FILES, ...), cgroup namespaces. ENOSYS says "not here",
  // not "wrong".
  const uint32_t modelled = kCSIGNAL | kAllNew | kCLONE_PARENT | kCLONE_PARENT_SETTID | kCLONE_CHILD_SETTID |
                            kCLONE_CHILD_CLEARTID | kCLONE_DETACHED | kCLONE_UNTRACED | kCLONE_SYSVSEM;
  if (flags & ~modelled) return SysResult::done(-kENOSYS);

  NamespaceSet set = p.ns;
  PathRef root = p.root, cwd = p.cwd;
  if (const int e = make_namespaces(p, flags & kAllNew, set, &root, &cwd, false)) return SysResult::done(e);
  set.pid = set.pid_for_children;  // the child's own PIDs live where the caller's children go
  int error = 0;
  Process* child = copy_process(p, set, error);
  if (!child) return SysResult::done(error);
  child->root = root;
  child->cwd = cwd;
  if (flags & kNsUser) child->caps = true;  // the first process of a user namespace holds every capability
  if (flags & kCLONE_PARENT) child->parent = p.parent;
  if (child_stack) child->regs.gpr[cpu::ESP] = child_stack;
  const uint32_t seen = pid_as_seen_by(p, *child);
  const uint32_t own = child->pids.back();
  if ((flags & kCLONE_PARENT_SETTID) && p.mm->copy_out(parent_tid, &seen, 4) < 0) return SysResult::done(-kEFAULT);
  if ((flags & kCLONE_CHILD_SETTID)) child->mm->copy_out(child_tid, &own, 4);
  return SysResult::done(int32_t(seen));
}

SysResult Kernel::sys_unshare(Process& p, const SyscallArgs& args) {
  const uint32_t flags = args.a[0];
  // unshare(2): these flags are accepted; for a process with one thread and
  // its own file table and fs state, the non-namespace ones change nothing.
  const uint32_t accepted = kAllNew | kCLONE_FS | kCLONE_FILES | kCLONE_SIGHAND | kCLONE_THREAD | kCLONE_VM |
                            kCLONE_SYSVSEM | kCLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */;
  if (flags & ~accepted) return SysResult::done(-kEINVAL);
  if (flags & (kCLONE_NEWCGROUP | 0x80)) return SysResult::done(-kENOSYS);  // cgroup and time namespaces: not modelled
  NamespaceSet set = p.ns;
  PathRef root = p.root, cwd = p.cwd;
  if (const int e = make_namespaces(p, flags & kAllNew, set, &root, &cwd, true)) return SysResult::done(e);
  p.ns = set;  // the caller moves in — for PID only its future children do (§1.1)
  p.root = root;
  p.cwd = cwd;
  if (flags & kNsUser) p.caps = true;
  return SysResult::done(0);
}

// setns(fd, nstype) with a /proc/PID/ns/* descriptor (kernel/nsproxy.c and
// each type's install(): CAP_SYS_ADMIN over the target's owner and in the
// caller's own user namespace).
SysResult Kernel::sys_setns(Process& p, const SyscallArgs& args) {
  const FileRef f = p.files.get(int(args.a[0]));
  const uint32_t nstype = args.a[1];
  if (!f) return SysResult::done(-kEBADF);
  if (f->kind != OpenFile::Kind::Namespace) return SysResult::done(-kEINVAL);
  const NsHandle& h = f->ns;
  if (nstype != 0 && nstype != h.type) return SysResult::done(-kEINVAL);
  if (h.type == kNsUser) {
    auto target = std::static_pointer_cast<UserNamespace>(h.ns);
    if (target == p.ns.user) return SysResult::done(-kEINVAL);  // no regaining capabilities by re-entering
    if (!capable(p, *target)) return SysResult::done(-kEPERM);
    p.ns.user = target;
    p.caps = true;
    return SysResult::done(0);
  }
  if (!capable(p, *h.ns->owner) || !capable(p, *p.ns.user)) return SysResult::done(-kEPERM);
  switch (h.type) {
    case kNsPid: {
      // §1.1: down into a descendant (or the own) namespace only, and only for children.
      auto target = std::static_pointer_cast<PidNamespace>(h.ns);
      const PidNamespace* n = target.get();
      while (n && n != p.ns.pid.get()) n = n->parent.get();
      if (!n) return SysResult::done(-kEINVAL);
      p.ns.pid_for_children = target;
      break;
    }
    case kNsMnt: {
      auto target = std::static_pointer_cast<MountNamespace>(h.ns);
      p.ns.mnt = target;
      p.root = p.cwd = target->mounts.root_ref();  // setns(2): root and cwd become the namespace's root
      break;
    }
    case kNsUts: p.ns.uts = std::static_pointer_cast<UtsNamespace>(h.ns); break;
    case kNsIpc: p.ns.ipc = std::static_pointer_cast<IpcNamespace>(h.ns); break;
    case kNsNet: p.ns.net = std::static_pointer_cast<NetNamespace>(h.ns); break;
    default: return SysResult::done(-kEINVAL);
  }
  return SysResult::done(0);
}

namespace {
// sethostname(2)/setdomainname(2): at most 64 bytes (__NEW_UTS_LEN), and
// CAP_SYS_ADMIN in the user namespace that owns the UTS namespace (§1.4).
int set_uts_field(Kernel& k, Process& p, const SyscallArgs& args, std::string& field,
                  bool (Kernel::*capable)(const Process&, const UserNamespace&) const) {
  const int32_t len = int32_t(args.a[1]);
  if (len < 0 || len > 64) return -kEINVAL;
  if (!(k.*capable)(p, *p.ns.uts->owner)) return -kEPERM;
  std::string name(size_t(len), '\0');
  if (len && p.mm->copy_in(name.data(), args.a[0], uint32_t(len)) < 0) return -kEFAULT;
  field = name.substr(0, name.find('\0'));
  return 0;
}
}  // namespace

SysResult Kernel::sys_sethostname(Process& p, const SyscallArgs& args) {
  return SysResult::done(set_uts_field(*this, p, args, p.ns.uts->nodename, &Kernel::capable));
}

SysResult Kernel::sys_setdomainname(Process& p, const SyscallArgs& args) {
  return SysResult::done(set_uts_field(*this, p, args, p.ns.uts->domainname, &Kernel::capable));
}

// The ids as the caller's user namespace sees them: 65534 when unmapped (§1.6).
SysResult Kernel::sys_getuid(Process& p, const SyscallArgs&) { return SysResult::done(int32_t(seen_id(p, p.uid, false))); }
SysResult Kernel::sys_geteuid(Process& p, const SyscallArgs&) { return SysResult::done(int32_t(seen_id(p, p.euid, false))); }
SysResult Kernel::sys_getgid(Process& p, const SyscallArgs&) { return SysResult::done(int32_t(seen_id(p, p.gid, true))); }
SysResult Kernel::sys_getegid(Process& p, const SyscallArgs&) { return SysResult::done(int32_t(seen_id(p, p.egid, true))); }

namespace {
// setuid(2)/setgid(2): with CAP_SETUID (CAP_SETGID) in the own namespace all
// three ids change; else only the effective one, to the real or saved id.
int set_ids(Process& p, bool capable, uint32_t id, bool gid, uint32_t& real, uint32_t& eff, uint32_t& saved) {
  const uint32_t kid = id_to_kernel(*p.ns.user, gid, id);
  if (kid == kNoId) return -kEINVAL;  // not mapped in the caller's namespace
  if (capable) {
    real = eff = saved = kid;
  } else if (kid == real || kid == saved) {
    eff = kid;
  } else {
    return -kEPERM;
  }
  return 0;
}
}  // namespace

SysResult Kernel::sys_setuid(Process& p, const SyscallArgs& args) {
  const int r = set_ids(p, capable(p, *p.ns.user), args.a[0], false, p.uid, p.euid, p.suid);
  // capabilities(7) "Effect of user ID changes": none of the three ids 0 any more drops them.
  const UserNamespace& ns = *p.ns.user;
  if (r == 0 && id_from_kernel(ns, false, p.uid) != 0 && id_from_kernel(ns, false, p.euid) != 0 &&
      id_from_kernel(ns, false, p.suid) != 0)
    p.caps = false;
  return SysResult::done(r);
}

SysResult Kernel::sys_setgid(Process& p, const SyscallArgs& args) {
  return SysResult::done(set_ids(p, capable(p, *p.ns.user), args.a[0], true, p.gid, p.egid, p.sgid));
}

namespace {
constexpr uint32_t kIPC_CREAT = 01000, kIPC_EXCL = 02000;
// msgget(2)/shmget(2) over one identifier table of the caller's IPC namespace.
int32_t ipc_get(std::map<int32_t, int32_t>& keys, int32_t& next, int32_t key, uint32_t flags) {
  if (key != 0) {  // IPC_PRIVATE (0) always makes a new object
    const auto it = keys.find(key);
    if (it != keys.end()) return (flags & kIPC_CREAT) && (flags & kIPC_EXCL) ? -kEEXIST : it->second;
    if (!(flags & kIPC_CREAT)) return -kENOENT;
  }
  const int32_t id = next++;
  if (key != 0) keys[key] = id;
  return id;
}
}  // namespace

SysResult Kernel::sys_msgget(Process& p, const SyscallArgs& args) {
  IpcNamespace& ns = *p.ns.ipc;
  return SysResult::done(ipc_get(ns.msg_keys, ns.next_msg, int32_t(args.a[0]), args.a[1]));
}

SysResult Kernel::sys_shmget(Process& p, const SyscallArgs& args) {
  IpcNamespace& ns = *p.ns.ipc;
  const int32_t key = int32_t(args.a[0]);
  const bool exists = key != 0 && ns.shm_keys.count(key);
  if (!exists && args.a[1] == 0) return SysResult::done(-kEINVAL);  // a new segment of size 0 (SHMMIN is 1)
  return SysResult::done(ipc_get(ns.shm_keys, ns.next_shm, key, args.a[2]));
}

}  // namespace vs::container_sim

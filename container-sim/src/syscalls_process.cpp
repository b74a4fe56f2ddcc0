// System calls about processes and time: exit, fork, execve, wait4, kill,
// getpid, getppid, sched_yield, nanosleep, clock_gettime, uname. Semantics
// of the Linux man pages as far as the teaching kernel goes (docs/kernel.md);
// every signal terminates (no handlers yet).
#include <algorithm>
#include <cstring>
#include <iterator>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
// Virtual time: one instruction is 10 ns (the tick of 1,000,000 instructions is 10 ms).
constexpr uint64_t kNsPerInstruction = 10;

// A NULL-terminated user array of strings (execve's argv, envp).
int copy_vector(AddressSpace& mm, uint32_t uvec, std::vector<std::string>& out, size_t& bytes) {
  out.clear();
  if (!uvec) return 0;
  for (uint32_t i = 0;; ++i) {
    uint32_t ptr = 0;
    if (mm.copy_in(&ptr, uvec + 4 * i, 4) < 0) return -kEFAULT;
    if (!ptr) return 0;
    if (out.size() == 31) return -kE2BIG;  // the teaching kernel's limit
    std::string s;
    const int len = mm.copy_string(s, ptr, 4096);
    if (len < 0) return len;
    bytes += s.size() + 1;
    if (bytes > 4096) return -kE2BIG;  // the strings share one page, as in the teaching kernel
    out.push_back(std::move(s));
  }
}
}  // namespace

SysResult Kernel::sys_exit(Process& p, const SyscallArgs& args) {
  emit_syscall(p, args, 0);
  terminate(p, wait_status_exited(int(args.a[0])));
  return SysResult::gone();
}

SysResult Kernel::sys_fork(Process& p, const SyscallArgs& args) {
  SyscallArgs clone_args = args;
  clone_args.a[0] = kSIGCHLD;  // fork() is clone(SIGCHLD, 0) (clone(2))
  clone_args.a[1] = 0;
  return sys_clone(p, clone_args);
}

// What fork and clone share: a copy of `p` in the namespaces `set`.
Process* Kernel::copy_process(Process& p, const NamespaceSet& set, int& error) {
  if (set.pid->init_gone) {  // §1.2: the namespace's init has died
    error = -kENOMEM;
    return nullptr;
  }
  // The pids controller (§2.4, checklist 12): EAGAIN when any cgroup from
  // p's up would go over its pids.max. Linux checks this after alloc_pid(),
  // hence after the ENOMEM above (kernel/fork.c copy_process()).
  Cgroup* over = nullptr;
  if (const int e = cgroups_.can_fork(*p.cgroup, &over)) {
    if (log_.wants(trace::EventKind::CgroupLimit))
      log_.emit(trace::EventKind::CgroupLimit, time(), kCgPids, over->id, uint64_t(over->pids_max), p.pid());
    error = e;
    return nullptr;
  }
  Process* child = new_process(&p, set, p.cgroup);
  if (!child) {
    error = -kEAGAIN;
    return nullptr;
  }
  child->mm = std::make_unique<AddressSpace>(frames_);
  child->mm->id = next_space_id_++;
  if (!child->mm->ok() || !child->mm->copy_from(*p.mm)) {
    child->parent = nullptr;
    reap(*child);
    error = -kENOMEM;
    return nullptr;
  }
  child->name = p.name;
  child->files = p.files;  // the same open files, one more reference each
  child->regs = p.regs;
  child->regs.gpr[cpu::EAX] = 0;  // fork returns 0 in the child
  child->regs.cr3 = child->mm->directory();
  child->root = p.root;
  child->cwd = p.cwd;
  child->uid = p.uid, child->euid = p.euid, child->suid = p.suid;
  child->gid = p.gid, child->egid = p.egid, child->sgid = p.sgid;
  child->caps = p.caps;
  std::copy(std::begin(p.actions), std::end(p.actions), std::begin(child->actions));
  if (log_.wants(trace::EventKind::ProcessStart))
    log_.emit(trace::EventKind::ProcessStart, time(), child->pid(), p.pid(), 1);
  return child;
}

SysResult Kernel::sys_execve(Process& p, const SyscallArgs& args) {
  std::string path;
  int r = p.mm->copy_path(path, args.a[0]);
  if (r < 0) return SysResult::done(r);
  std::vector<std::string> argv, envp;
  size_t bytes = path.size() + 1;
  if ((r = copy_vector(*p.mm, args.a[1], argv, bytes)) < 0) return SysResult::done(r);
  if ((r = copy_vector(*p.mm, args.a[2], envp, bytes)) < 0) return SysResult::done(r);
  r = exec_image(p, path, argv, envp, nullptr);
  return SysResult::done(r);  // on success the new image starts with EAX = 0
}

SysResult Kernel::sys_wait4(Process& p, const SyscallArgs& args) {
  const int32_t pid = int32_t(args.a[0]);
  const uint32_t ustatus = args.a[1];
  const int options = int(args.a[2]);
  bool have_children = false;
  // Children in creation order (slot order can differ after slots are reused).
  Process* found = nullptr;
  for (const auto& slot : slots_) {
    Process* c = slot.get();
    if (!c || c->parent != &p) continue;
    if (pid != -1 && int32_t(pid_as_seen_by(p, *c)) != pid) continue;  // pid 0 and < -1 (process groups): none yet
    have_children = true;
    if (c->state == ProcState::Zombie && (!found || c->serial < found->serial)) found = c;
  }
  if (found) {
    if (ustatus && p.mm->copy_out(ustatus, &found->wait_status, 4) < 0) return SysResult::done(-kEFAULT);
    const int32_t got = int32_t(pid_as_seen_by(p, *found));
    reap(*found);
    return SysResult::done(got);
  }
  if (!have_children) return SysResult::done(-kECHILD);
  if (options & kWNOHANG) return SysResult::done(0);
  return SysResult::block();
}

SysResult Kernel::sys_getpid(Process& p, const SyscallArgs&) {
  return SysResult::done(int32_t(p.pids[p.ns.pid->level]));
}

SysResult Kernel::sys_getppid(Process& p, const SyscallArgs&) {
  // 0 when the parent is the host or lives in an ancestor PID namespace.
  return SysResult::done(p.parent ? int32_t(pid_as_seen_by(p, *p.parent)) : 0);
}

SysResult Kernel::sys_kill(Process& p, const SyscallArgs& args) {
  const int32_t pid = int32_t(args.a[0]);
  const int sig = int(int32_t(args.a[1]));
  if (sig < 0 || sig > kMaxSignal) return SysResult::done(-kEINVAL);
  Process* target = pid > 0 ? find(p, uint32_t(pid)) : nullptr;  // groups (pid <= 0) not yet
  if (!target) return SysResult::done(-kESRCH);  // a zombie still has its PID: kill(2) succeeds and does nothing
  send_signal(*target, sig, &p);  // signals.cpp: dispositions and init's protection
  return SysResult::done(0);
}

// prctl(2): PR_SET_DUMPABLE (4) only, accepted and not modelled (procfs
// enforces no file ownership here, which is what dumpability decides).
SysResult Kernel::sys_prctl(Process&, const SyscallArgs& args) {
  return SysResult::done(args.a[0] == 4 && args.a[1] <= 1 ? 0 : -kEINVAL);
}

SysResult Kernel::sys_sched_yield(Process&, const SyscallArgs&) {
  yield_ = true;
  return SysResult::done(0);
}

SysResult Kernel::sys_nanosleep(Process& p, const SyscallArgs& args) {
  if (!p.sleeping) {
    uint32_t req[2];
    if (p.mm->copy_in(req, args.a[0], sizeof req) < 0) return SysResult::done(-kEFAULT);
    if (req[1] >= 1000000000u) return SysResult::done(-kEINVAL);
    const uint64_t ns = uint64_t(req[0]) * 1000000000u + req[1];
    p.wake_at = now() + (ns + kNsPerInstruction - 1) / kNsPerInstruction;  // at least as long as asked
    p.sleeping = true;
  }
  if (now() < p.wake_at) return SysResult::block();
  p.sleeping = false;
  return SysResult::done(0);
}

SysResult Kernel::sys_clock_gettime(Process& p, const SyscallArgs& args) {
  if (args.a[0] > 1) return SysResult::done(-kEINVAL);  // CLOCK_REALTIME, CLOCK_MONOTONIC: both from 0
  const uint64_t ns = now() * kNsPerInstruction;
  const uint32_t ts[2] = {uint32_t(ns / 1000000000u), uint32_t(ns % 1000000000u)};
  return SysResult::done(p.mm->copy_out(args.a[1], ts, sizeof ts));
}

SysResult Kernel::sys_uname(Process& p, const SyscallArgs& args) {
  // struct new_utsname: six fields of 65 bytes, from the caller's UTS namespace.
  const UtsNamespace& u = *p.ns.uts;
  char buf[6][65] = {};
  const std::string* fields[6] = {&u.sysname, &u.nodename, &u.release, &u.version, &u.machine, &u.domainname};
  for (int i = 0; i < 6; ++i) std::memcpy(buf[i], fields[i]->data(), std::min<size_t>(fields[i]->size(), 64));
  return SysResult::done(p.mm->copy_out(args.a[0], buf, sizeof buf));
}

}  // namespace vs::container_sim

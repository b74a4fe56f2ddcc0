// The process tree: creating a process (a PID in every PID-namespace level,
// a slot in the table, a cgroup), replacing its image (exec), its end (exit,
// a fatal signal), reaping, orphans, and finding processes by PID as a
// given process sees them (pid_namespaces(7)).
#include <algorithm>
#include <cstdio>

#include "elf_loader.h"
#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {

// The registers a process starts with after exec: ring 3, flat 4 GiB code
// and data segments (the teaching kernel's selectors 0x1B and 0x23), paging
// on with its own directory, IF set (SDM Vol. 3 §3.4.5 attribute bytes:
// 0xFB = present, DPL 3, code execute/read accessed; 0xF3 = DPL 3 data
// read/write accessed; 0xC000 = G and D/B).
cpu::CpuState user_state(uint32_t entry, uint32_t esp, uint32_t directory) {
  cpu::CpuState s;
  s.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP | cpu::cr0::ET;
  s.cr3 = directory;
  s.cr4 = 0;
  for (cpu::Segment& seg : s.seg) seg = cpu::Segment{0x23, 0, 0xFFFFFFFF, 0xC0F3};
  s.seg[cpu::CS] = cpu::Segment{0x1B, 0, 0xFFFFFFFF, 0xC0FB};
  // No descriptor tables: every trap is answered by the hooks before the
  // CPU would read the IDT, and an empty IDT turns any delivery that slipped
  // through into a shutdown the run loop reports, never a jump into nowhere.
  s.gdtr = {0, 0};
  s.idtr = {0, 0};
  s.eflags = cpu::flag::kFixed1 | cpu::flag::IF;
  s.eip = entry;
  s.gpr[cpu::ESP] = esp;
  s.cpl = 3;
  return s;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 15) name.resize(15);  // Linux's TASK_COMM_LEN - 1
  return name;
}

}  // namespace

Process* Kernel::new_process(Process* parent, const NamespaceSet& ns, std::shared_ptr<Cgroup> cgroup) {
  size_t live = 0;
  for (const auto& s : slots_) live += s != nullptr;
  if (live >= config_.max_processes) return nullptr;
  auto p = std::make_unique<Process>();
  p->serial = next_serial_++;
  p->parent = parent;
  p->ns = ns;
  p->cgroup = std::move(cgroup);
  // One PID per level, from the root namespace down to the process's own
  // (pid_namespaces(7) "a process has one PID in each of the layers").
  std::vector<PidNamespace*> levels;
  for (PidNamespace* n = ns.pid.get(); n; n = n->parent.get()) levels.insert(levels.begin(), n);
  Process* raw = p.get();
  for (PidNamespace* n : levels) {
    const uint32_t pid = n->next_pid++;
    p->pids.push_back(pid);
    n->members[pid] = raw;
  }
  cgroups_.attach(*raw->cgroup);  // born into its parent's cgroup (§2.1), charged to pids.current
  size_t slot = 0;
  while (slot < slots_.size() && slots_[slot]) ++slot;
  if (slot == slots_.size()) slots_.emplace_back();
  slots_[slot] = std::move(p);
  ++counters_.processes_started;
  return raw;
}

int Kernel::exec_image(Process& p, const std::string& path, const std::vector<std::string>& argv,
                       const std::vector<std::string>& envp, std::string* why) {
  Resolved where;
  int r = resolve(p, path, where);
  if (r == 0 && where.inode->type == Inode::Type::Directory) r = -kEISDIR;  // execve(2): EACCES on Linux
  if (r < 0) {
    if (why) *why = path + (r == -kENOENT ? ": no such file" : r == -kEISDIR ? ": is a directory" : ": bad path");
    return r;
  }
  const std::span<const uint8_t> file(*where.inode->data);
  ElfImage image;
  std::string reason;
  if (!parse_elf(file, image, reason)) {
    if (why) *why = path + ": " + reason;
    return -kENOEXEC;
  }
  auto space = std::make_unique<AddressSpace>(frames_);
  space->id = next_space_id_++;
  uint32_t esp = 0;
  r = space->ok() ? load_elf(*space, image, file) : -kENOMEM;
  if (r == 0) r = build_stack(*space, argv, envp, esp);
  if (r < 0) {
    if (why) *why = path + (r == -kE2BIG ? ": too many arguments" : ": out of memory");
    return r;  // the old image stays: exec failed, the caller goes on
  }
  p.mm = std::move(space);
  p.regs = user_state(image.entry, esp, p.mm->directory());
  p.name = base_name(path);
  // signal(7): handled signals go back to the default after execve (ignored
  // ones stay ignored); capabilities(7): the new program keeps the full set
  // only as root of its user namespace (no file capabilities here).
  for (Process::SigAction& a : p.actions)
    if (a.handler > kSIG_IGN) a = Process::SigAction{};
  p.pending_handled = 0;
  p.signal_frames.clear();
  p.caps = id_from_kernel(*p.ns.user, false, p.euid) == 0;
  return 0;
}

uint32_t Kernel::spawn(const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                       std::string& error) {
  if (argv.empty() || argv[0].empty()) {
    error = "nothing to run (empty argv)";
    return 0;
  }
  const std::string path = program_path(argv[0]);
  Process* p = new_process(nullptr, init_ns_, cgroups_.root());
  if (!p) {
    error = "too many processes";
    return 0;
  }
  p->root = p->cwd = init_ns_.mnt->mounts.root_ref();  // root (uid 0) with every capability
  if (exec_image(*p, path, argv, envp, &error) < 0) {
    reap(*p);
    return 0;
  }
  // fds 0, 1, 2: one open console shared by the three, as a terminal is.
  auto console = std::make_shared<OpenFile>(OpenFile::Kind::Console);
  p->files.fds[0] = p->files.fds[1] = p->files.fds[2] = console;
  if (log_.wants(trace::EventKind::ProcessStart)) log_.emit(trace::EventKind::ProcessStart, time(), p->pid(), 0, 0);
  return p->pid();
}

Process* Kernel::reaper_for(const Process& orphan) const {
  // The init of the orphan's PID namespace adopts it (pid_namespaces(7)),
  // unless that init is the one dying: then nobody in the kernel does and
  // the host reaps it.
  const auto& members = orphan.ns.pid->members;
  const auto it = members.find(1);
  if (it == members.end() || it->second == &orphan || it->second->state == ProcState::Zombie) return nullptr;
  return it->second;
}

void Kernel::terminate(Process& p, int wait_status) {
  if (log_.wants(trace::EventKind::ProcessExit))
    log_.emit(trace::EventKind::ProcessExit, time(), p.pid(), uint32_t(wait_status), p.parent ? p.parent->pid() : 0);
  if (p.cgroup) cgroups_.exit(*p.cgroup);  // leaves cgroup.procs; still charged until reaped
  p.files = FdTable{};  // closes them: pipe ends see it at once
  p.mm.reset();         // every frame back
  p.state = ProcState::Zombie;
  p.wait_status = wait_status;
  p.sleeping = false;
  p.pending_signal = 0;
  p.pending_handled = 0;
  p.signal_frames.clear();
  ++counters_.processes_exited;
  if (current_ == &p) leave_cpu();
  init_died(p);
  for (auto& slot : slots_) {
    if (!slot || slot->parent != &p) continue;
    Process& child = *slot;
    child.parent = reaper_for(child);
    if (!child.parent && child.state == ProcState::Zombie) {
      host_reaped_[child.pid()] = child.wait_status;
      reap(child);
    }
  }
  if (!p.parent) {
    host_reaped_[p.pid()] = wait_status;
    reap(p);
  }
}

void Kernel::reap(Process& p) {
  for (PidNamespace* n = p.ns.pid.get(); n; n = n->parent.get()) n->members.erase(p.pids[n->level]);
  if (p.cgroup) {
    if (p.state != ProcState::Zombie) cgroups_.exit(*p.cgroup);  // a fork or spawn undone before it ran
    cgroups_.release(*p.cgroup);
  }
  if (last_on_cpu_ == &p) last_on_cpu_ = nullptr;
  for (auto& slot : slots_)
    if (slot.get() == &p) slot.reset();
}

Process* Kernel::find(const Process& caller, uint32_t pid) const {
  const auto& members = caller.ns.pid->members;
  const auto it = members.find(pid);
  return it == members.end() ? nullptr : it->second;
}

uint32_t Kernel::pid_as_seen_by(const Process& viewer, const Process& p) const {
  const unsigned level = viewer.ns.pid->level;
  // Visible only from its own namespace or an ancestor's (SEMANTICS.md §1.2).
  const PidNamespace* n = p.ns.pid.get();
  while (n && n != viewer.ns.pid.get()) n = n->parent.get();
  return n ? p.pids[level] : 0;
}

void Kernel::kill_with_message(Process& p, int sig, const std::string& what) {
  char line[64];
  std::snprintf(line, sizeof line, "pid %u (", p.pid());
  console_write(std::string(line) + p.name + "): " + what + ": killed\n");
  terminate(p, sig);
}

std::optional<int> Kernel::exit_status(uint32_t pid) const {
  const auto it = host_reaped_.find(pid);
  if (it == host_reaped_.end()) return std::nullopt;
  return it->second;
}

std::vector<ProcessInfo> Kernel::processes() const {
  std::vector<const Process*> live;
  for (const auto& s : slots_)
    if (s) live.push_back(s.get());
  std::sort(live.begin(), live.end(), [](const Process* a, const Process* b) { return a->pid() < b->pid(); });
  std::vector<ProcessInfo> out;
  for (const Process* p : live) {
    ProcessInfo i;
    i.pid = p->pid();
    i.ppid = p->parent ? p->parent->pid() : 0;
    i.uid = p->uid;
    i.name = p->name;
    i.state = p->state == ProcState::Zombie ? 'Z' : p->state == ProcState::Blocked ? 'S' : 'R';
    i.frames = p->mm ? p->mm->frames() : 0;
    i.syscalls = p->syscalls;
    i.page_faults = p->page_faults;
    i.cgroup = p->cgroup ? p->cgroup->path() : "";
    out.push_back(i);
  }
  return out;
}

}  // namespace vs::container_sim

// The kernel model (DESIGN.md §2 container-sim/): the machine it owns — the
// emulated CPU, the paging MMU, physical memory — and the kernel state —
// processes, the scheduler, namespaces, cgroups, files — with the CPU hooks
// through which user code reaches it. Private to container-sim; the public
// face is ContainerHost.
//
// Why these parts and not vmm's Machine or Board: the Machine boots a guest
// kernel on a whole PC, and the Board's PIC, PIT, UART, disk and firmware
// exist for a kernel that drives them. Here the kernel is C++ on the host:
// time slices come from the instruction budget of Cpu::run, the console is a
// host callback, and nothing in the guest touches a port. So the kernel
// model owns exactly what a ring-3 process needs — vs::cpu::Cpu, vs::mmu::Mmu
// and devices::PhysicalMemory (the same RAM class the Machine uses, so its
// memory map reads the same in the UI) — and no port device at all.
//
// How a process reaches the kernel (the Sentry's "platform", SEMANTICS.md
// Part 1c): the CPU runs user code at CPL 3 under the process's own page
// directory. `int $0x80` calls on_interrupt() before the CPU would read the
// IDT, and a fault calls on_exception() before delivery, both with the
// registers at the trap; the kernel reads them, serves the call in C++ and
// either resumes the CPU (Cpu::resume_with) or takes the process off it
// (Cpu::request_stop) so that run() picks another one. No IDT, GDT or TSS
// is consulted: the hook answers every trap.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cgroup.h"
#include "frames.h"
#include "process.h"
#include "virtscope/container_sim/container_host.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/devices/bus.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {

// What serving a system call came to.
struct SysResult {
  enum class Kind : uint8_t { Done, Block, Gone };
  Kind kind = Kind::Done;
  int32_t value = 0;  // Done: what EAX gets
  static SysResult done(int32_t v) { return {Kind::Done, v}; }
  static SysResult block() { return {Kind::Block, 0}; }
  static SysResult gone() { return {Kind::Gone, 0}; }
};

class Kernel final : public cpu::CpuHooks {
 public:
  explicit Kernel(const HostConfig& config);
  ~Kernel() override;

  // --- ContainerHost ---
  bool add_file(const std::string& path, std::vector<uint8_t> bytes, std::string& error);
  bool add_directory(const std::string& path, std::string& error);
  uint32_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& envp, std::string& error);
  HostStop run(uint64_t budget);
  void request_stop();
  std::optional<int> exit_status(uint32_t pid) const;
  std::vector<ProcessInfo> processes() const;
  void set_console(std::function<void(std::string_view)> sink) { console_ = std::move(sink); }
  void queue_input(std::string_view bytes) { input_.append(bytes); }
  void close_input() { input_closed_ = true; }
  const HostCounters& counters() const;
  uint64_t now() const { return cpu_.instructions(); }
  trace::EventLog& log() { return log_; }

  // --- cpu::CpuHooks ---
  cpu::HookAction on_exception(uint8_t vector, bool has_error, uint32_t error_code) override;
  cpu::HookAction on_interrupt(uint8_t vector) override;

  // --- system calls (syscall_table.cpp dispatches; syscalls_*.cpp serve) ---
  using Handler = SysResult (Kernel::*)(Process&, const SyscallArgs&);
  struct SyscallEntry {
    uint32_t nr;
    const char* name;
    Handler fn;
  };
  static const std::vector<SyscallEntry>& syscall_table();
  SysResult dispatch(Process& p, const SyscallArgs& args);

  SysResult sys_exit(Process&, const SyscallArgs&);
  SysResult sys_fork(Process&, const SyscallArgs&);
  SysResult sys_read(Process&, const SyscallArgs&);
  SysResult sys_write(Process&, const SyscallArgs&);
  SysResult sys_open(Process&, const SyscallArgs&);
  SysResult sys_close(Process&, const SyscallArgs&);
  SysResult sys_wait4(Process&, const SyscallArgs&);
  SysResult sys_execve(Process&, const SyscallArgs&);
  SysResult sys_getpid(Process&, const SyscallArgs&);
  SysResult sys_kill(Process&, const SyscallArgs&);
  SysResult sys_pipe(Process&, const SyscallArgs&);
  SysResult sys_brk(Process&, const SyscallArgs&);
  SysResult sys_dup2(Process&, const SyscallArgs&);
  SysResult sys_getppid(Process&, const SyscallArgs&);
  SysResult sys_old_mmap(Process&, const SyscallArgs&);
  SysResult sys_munmap(Process&, const SyscallArgs&);
  SysResult sys_uname(Process&, const SyscallArgs&);
  SysResult sys_sched_yield(Process&, const SyscallArgs&);
  SysResult sys_prctl(Process&, const SyscallArgs&);
  SysResult sys_nanosleep(Process&, const SyscallArgs&);
  SysResult sys_mmap2(Process&, const SyscallArgs&);
  SysResult sys_clock_gettime(Process&, const SyscallArgs&);
  // namespaces and credentials (syscalls_namespace.cpp)
  SysResult sys_clone(Process&, const SyscallArgs&);
  SysResult sys_unshare(Process&, const SyscallArgs&);
  SysResult sys_setns(Process&, const SyscallArgs&);
  SysResult sys_sethostname(Process&, const SyscallArgs&);
  SysResult sys_setdomainname(Process&, const SyscallArgs&);
  SysResult sys_getuid(Process&, const SyscallArgs&);
  SysResult sys_getgid(Process&, const SyscallArgs&);
  SysResult sys_geteuid(Process&, const SyscallArgs&);
  SysResult sys_getegid(Process&, const SyscallArgs&);
  SysResult sys_setuid(Process&, const SyscallArgs&);
  SysResult sys_setgid(Process&, const SyscallArgs&);
  SysResult sys_msgget(Process&, const SyscallArgs&);
  SysResult sys_shmget(Process&, const SyscallArgs&);
  // mounts and directories (syscalls_mount.cpp)
  SysResult sys_mount(Process&, const SyscallArgs&);
  SysResult sys_umount2(Process&, const SyscallArgs&);
  SysResult sys_chroot(Process&, const SyscallArgs&);
  SysResult sys_pivot_root(Process&, const SyscallArgs&);
  SysResult sys_chdir(Process&, const SyscallArgs&);
  SysResult sys_mkdir(Process&, const SyscallArgs&);
  SysResult sys_getcwd(Process&, const SyscallArgs&);
  SysResult sys_getdents64(Process&, const SyscallArgs&);
  SysResult sys_readlink(Process&, const SyscallArgs&);
  SysResult sys_rmdir(Process&, const SyscallArgs&);
  // signals (signals.cpp)
  SysResult sys_rt_sigaction(Process&, const SyscallArgs&);
  SysResult sys_sigreturn(Process&, const SyscallArgs&);

 private:
  // --- processes (kernel.cpp, process_tree.cpp) ---
  Process* new_process(Process* parent, const NamespaceSet& ns, std::shared_ptr<Cgroup> cgroup);
  // fork's copy (address space, files, credentials, dispositions) into `set`; null with -errno in `error`.
  Process* copy_process(Process& p, const NamespaceSet& set, int& error);
  // Replaces p's image with the executable at `path` (exec semantics: the
  // old address space survives a failure). -errno, and a reason in `why`.
  int exec_image(Process& p, const std::string& path, const std::vector<std::string>& argv,
                 const std::vector<std::string>& envp, std::string* why);
  void terminate(Process& p, int wait_status);
  void reap(Process& p);
  Process* reaper_for(const Process& orphan) const;
  Process* find(const Process& caller, uint32_t pid) const;  // pid as the caller's namespace sees it
  uint32_t pid_as_seen_by(const Process& viewer, const Process& p) const;  // 0: not visible
  void kill_with_message(Process& p, int sig, const std::string& what);

  // --- namespaces (namespaces.cpp) ---
  // New namespaces for the CLONE_NEW* bits of `flags`, made by `creator`
  // into `set` (a copy of its own set); the user namespace first, so it owns
  // the others (user_namespaces(7)). 0 or -errno; nothing changes on failure.
  int make_namespaces(Process& creator, uint32_t flags, NamespaceSet& set, PathRef* root, PathRef* cwd,
                      bool by_unshare);
  uint64_t new_ns_id() { return next_ns_id_++; }
  // Has p every capability in `target` (cap_capable(): its own namespace if
  // it holds them there; a descendant namespace whose owner is p's euid)?
  bool capable(const Process& p, const UserNamespace& target) const;
  // The credentials seen from p's user namespace (kOverflowId when unmapped).
  uint32_t seen_id(const Process& p, uint32_t kid, bool gid) const;
  // A uid_map/gid_map write (user_namespaces(7) rules). 0 or -errno.
  int write_id_map(Process& writer, Process& target, bool gid, const std::string& text);

  // --- signals (signals.cpp) ---
  // kill(2) from `sender` (null: the kernel): the default action, a
  // handler, or nothing, with PID-namespace init protection (§1.2).
  void send_signal(Process& target, int sig, const Process* sender);
  // Runs a pending handled signal: a frame on the user stack, EIP at the handler.
  void deliver_signal(Process& p);
  // §1.2: the init of a child PID namespace died: SIGKILL the rest of it.
  void init_died(Process& init);

  // --- procfs (procfs.cpp) ---
  int proc_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out);
  int proc_write(Process& p, OpenFile& f, const std::string& text);
  Process* process_in(const PidNamespace& ns, uint32_t pid) const;
  int resolve(Process& p, const std::string& path, PathRef& out);

  // --- cgroupfs (cgroupfs.cpp): the guest's files and the host's access share these ---
 public:
  CgroupHierarchy& cgroups() { return cgroups_; }
  std::shared_ptr<Filesystem> cgroupfs();  // the one cgroup2 superblock every mount shows
  // The text of `file` of `cg` as `viewer` reads it (null: the host, which
  // sees root-namespace PIDs). -errno if there is no such file.
  int cgroup_text(const Process* viewer, const Cgroup& cg, const std::string& file, std::string& out) const;
  // One write(2) of `text` to `file` of `cg` by `writer` (null: the host).
  // The bytes taken, or -errno as Linux gives them.
  int cgroup_write(Process* writer, Cgroup& cg, const std::string& file, const std::string& text);
  std::string cgroup_path(uint32_t pid) const;  // "/a/b" of a root-namespace PID ("" if none)

 private:
  int cgroup_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out);
  int cgroup_procs_write(Process* writer, Cgroup& cg, const std::string& text);

  // --- the scheduler (scheduler.cpp) ---
  Process* pick_next();
  Process* scan(bool& died);  // one pass of pick_next over the table
  bool retry(Process& p);
  void switch_to(Process& p);
  void leave_cpu();
  void finish_call(Process& p, const SyscallArgs& args, const SysResult& r);
  void emit_syscall(const Process& p, const SyscallArgs& args, int32_t result);
  void console_write(std::string_view bytes);

  // --- memory (syscalls_memory.cpp) ---
  void unmapped(Process& p, uint32_t start, uint32_t end);  // TLB shootdown after an unmap
  int32_t mmap_anonymous(Process& p, uint32_t len, uint32_t prot, uint32_t flags);

  trace::VirtualTime time() const { return trace::VirtualTime{cpu_.instructions(), 0}; }

  HostConfig config_;
  trace::EventLog log_;
  devices::PhysicalMemory memory_;
  cpu::NullIo io_;
  cpu::Cpu cpu_;
  mmu::Mmu mmu_;
  Frames frames_;

  NamespaceSet init_ns_;   // the initial namespaces (the host's view)
  uint64_t next_ns_id_ = 0xF0000000u;  // nsfs inode numbers, as Linux's proc_inum_ida starts them
  CgroupHierarchy cgroups_;              // cgroup v2: the one hierarchy
  std::shared_ptr<Filesystem> cgroupfs_;  // made at the first mount -t cgroup2
  std::vector<std::unique_ptr<Process>> slots_;  // the process table; slot order is round-robin order
  size_t last_slot_ = 0;             // the slot that ran last
  Process* current_ = nullptr;       // on the CPU now
  Process* last_on_cpu_ = nullptr;   // for counting context switches
  uint64_t loaded_space_ = 0;        // AddressSpace::id whose tables the TLBs may hold
  uint64_t next_serial_ = 1, next_space_id_ = 1;
  bool yield_ = false;               // sched_yield: leave the CPU after this call
  bool stop_requested_ = false;
  std::map<uint32_t, int> host_reaped_;  // pid -> wait status of the host's own children

  std::function<void(std::string_view)> console_;
  std::string input_;
  bool input_closed_ = false;
  mutable HostCounters counters_;  // frames_* filled in when read
};

}  // namespace vs::container_sim

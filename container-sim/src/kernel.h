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

#include "blockdev.h"
#include "cgroup.h"
#include "overlayfs.h"
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
  const std::string& panic_reason() const { return panic_; }
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
  // --- files and overlayfs (syscalls_fs.cpp: names, syscalls_fileio.cpp: bytes and
  // stat; docs/container-sim/overlayfs.md) ---
  SysResult sys_unlink(Process&, const SyscallArgs&);
  SysResult sys_rename(Process&, const SyscallArgs&);
  SysResult sys_mknod(Process&, const SyscallArgs&);
  SysResult sys_lseek(Process&, const SyscallArgs&);
  SysResult sys_llseek(Process&, const SyscallArgs&);
  SysResult sys_ftruncate(Process&, const SyscallArgs&);
  SysResult sys_stat64(Process&, const SyscallArgs&);
  SysResult sys_lstat64(Process&, const SyscallArgs&);
  SysResult sys_fstat64(Process&, const SyscallArgs&);
  // The directory holding the last component of `path`, and that component
  // ("" for "/"); `slash`: the path ended in '/'. 0 or -errno.
  int resolve_parent(Process& p, const std::string& path, PathRef& dir, std::string& name, bool& slash);
  // open(2) of a regular file or device: O_CREAT, O_EXCL, O_TRUNC, copy-up
  // for writing. 0 with `out` set, or -errno.
  int open_file(Process& p, const std::string& path, uint32_t flags, uint32_t mode, FileRef& out);
  int32_t regular_write(Process& p, OpenFile& f, uint32_t ubuf, uint32_t n);
  // The inode whose attributes a change of `path` (chmod, chown) must
  // modify: on overlayfs the file's copy-up, never a lower layer. EROFS on a
  // read-only mount. 0 or -errno.
  int change_target(Process& p, const std::string& path, std::shared_ptr<Inode>& out);
  SysResult sys_chmod(Process&, const SyscallArgs&);
  // mount -t overlay: the layers named by `data` (overlayfs.h). 0 or -errno.
  int make_overlay(Process& p, const std::string& data, std::shared_ptr<Filesystem>& out);
  // --- networking: network namespaces, veth, rtnetlink, packet sockets
  // (net.h, netlink.cpp, sockets.cpp; docs/container-sim/network.md) ---
  SysResult sys_socketcall(Process&, const SyscallArgs&);
  SysResult sys_socket(Process&, const SyscallArgs&);
  SysResult sys_bind(Process&, const SyscallArgs&);
  SysResult sys_connect(Process&, const SyscallArgs&);
  SysResult sys_getsockname(Process&, const SyscallArgs&);
  SysResult sys_setsockopt(Process&, const SyscallArgs&);
  SysResult sys_sendto(Process&, const SyscallArgs&);
  SysResult sys_recvfrom(Process&, const SyscallArgs&);
  SysResult sys_sendmsg(Process&, const SyscallArgs&);
  SysResult sys_recvmsg(Process&, const SyscallArgs&);
  // read(2)/write(2) on a socket: recv/send with no flags and no address (syscalls_file.cpp calls them).
  SysResult socket_read(Process& p, OpenFile& f, uint32_t ubuf, uint32_t n);
  SysResult socket_write(Process& p, OpenFile& f, uint32_t ubuf, uint32_t n);
  // The host side of `--network veth`: a veth pair, `host_name` (the first
  // free "vethN") in the initial namespace and "eth0" in the network
  // namespace of process `pid` (a root-namespace PID), both UP. 0, or
  // -errno (ESRCH: no such process; EEXIST: it already has an eth0).
  int net_attach_veth(uint32_t pid, std::string& host_name);
  NetNamespace& initial_net() { return *init_ns_.net; }

 private:
  // One netlink request buffer from `p` on `s` (rtnetlink, netlink.cpp):
  // replies and acks go to s's receive queue.
  void netlink_input(Process& p, Socket& s, const std::vector<uint8_t>& bytes);
  int rtnl_link_request(Process& p, Socket& s, const std::vector<uint8_t>& msg, uint32_t at, uint32_t len);
  SysResult socket_send(Process& p, Socket& s, const std::vector<uint8_t>& data, uint32_t flags, uint32_t uaddr,
                        uint32_t addrlen);
  SysResult socket_recv(Process& p, Socket& s, std::vector<uint8_t>& data, uint32_t want, uint32_t flags,
                        std::vector<uint8_t>* from);
  std::shared_ptr<NetNamespace> net_by_pid(Process& caller, uint32_t pid);  // IFLA_NET_NS_PID
  std::shared_ptr<NetNamespace> net_by_fd(Process& caller, uint32_t fd, int& error);  // IFLA_NET_NS_FD
  int32_t netlink_autobind(Process& p, Socket& s);  // a free port id: the PID, else -4096 down

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

  // --- the container runtime (runtime.cpp) ---
 public:
  uint32_t create_container(const ContainerSpec& spec, std::string& error);
  uint32_t exec_in_container(const std::string& name, const std::vector<std::string>& argv,
                             const std::vector<std::string>& envp, std::string& error);
  std::vector<ContainerInfo> containers() const;
  bool container_changes(const std::string& name, container_image::ChangeSet& out, std::string& error) const;
  bool remove_container(const std::string& name, std::string& error);

 private:
  struct ContainerRecord {
    std::string name, hostname;
    uint32_t pid = 0;                  // its init, root-namespace PID
    NamespaceSet ns;                   // what exec joins
    std::shared_ptr<Cgroup> cgroup;
    std::shared_ptr<Filesystem> rootfs;  // the overlay
    LayerDir upper;                    // its upper layer (container_changes)
    std::string host_veth;             // its veth end in the host's namespace
  };
  int container_cgroup(const ContainerSpec& spec, std::shared_ptr<Cgroup>& out, std::string& error);
  std::shared_ptr<Filesystem> container_rootfs(const ContainerSpec& spec, LayerDir& upper, std::string& error);
  bool mount_container_proc(Process& p, std::string& error);
  bool enter_workdir(Process& p, const std::string& dir, std::string& error);
  void give_console(Process& p);
  std::map<std::string, ContainerRecord> containers_;  // by name
  // Unpacked lower layers by DiffID, alive while some container's overlay uses them.
  std::map<std::string, std::weak_ptr<Filesystem>> lowers_;

  // --- the whole kernel's death (sysrq.cpp) ---
  // /proc/sysrq-trigger (proc(5), Documentation/admin-guide/sysrq.rst):
  // open for writing by root of the initial user namespace only; 'c' crashes.
  int sysrq_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out);
  int sysrq_write(Process& p, const std::string& text);
  // panic(): the console line, then nothing runs again (run() returns HostStop::Panic).
  void panic(const std::string& reason);
  std::string panic_;

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

  // --- cgroup io + delegation part: block devices and the io controller's
  // read path (blockdev.cpp), ownership and permissions of cgroupfs nodes,
  // chown (cgroupfs.cpp) ---
 public:
  // /dev/disk, block device 8:0 over `image` (whole 512-byte sectors).
  bool set_disk(std::vector<uint8_t> image, std::string& error);
  const BlockDevice* block_device(uint32_t major, uint32_t minor) const;
  SysResult sys_chown(Process&, const SyscallArgs&);   // chown32, lchown32 (no symbolic links to tell apart)
  SysResult sys_fchown(Process&, const SyscallArgs&);  // fchown32
  // mkdir(2)/rmdir(2) of a cgroup by p: write and search permission on the
  // parent directory, and the new directory owned by p (cgroup_mkdir()).
  int cgroup_mkdir(Process& p, Cgroup& parent, const std::string& name);
  int cgroup_rmdir(Process& p, Cgroup& cg);

 private:
  int block_open(Process& p, const PathRef& at, uint32_t flags, FileRef& out);
  SysResult block_read(Process& p, OpenFile& f, uint32_t ubuf, uint32_t n);
  // generic_permission() (fs/namei.c): may p have `mask` (4 read, 2 write,
  // 1 search/exec) on a node of owner uid:gid and `mode`? 0 or -EACCES.
  int may_access(const Process& p, uint32_t uid, uint32_t gid, uint32_t mode, uint32_t mask, bool dir) const;
  // chown of `node`; `path` (chown(2)) lets overlayfs copy the file up first.
  int chown_node(Process& p, Inode& node, uint32_t uid, uint32_t gid, const std::string* path);
  std::vector<BlockDevice> block_devices_;

  // --- the scheduler (scheduler.cpp) ---
  Process* pick_next();
  // One pass of pick_next over the table; with `css`, over the processes
  // scheduled in that cpu queue only (cpu_css).
  Process* scan(bool& died, Cgroup* css = nullptr);
  bool retry(Process& p);
  void switch_to(Process& p);
  void leave_cpu();
  void finish_call(Process& p, const SyscallArgs& args, const SysResult& r);
  void emit_syscall(const Process& p, const SyscallArgs& args, int32_t result);
  void console_write(std::string_view bytes);

  // --- the cgroup cpu controller in the scheduler (scheduler.cpp; cgroup_cpu.h) ---
  bool cpu_control() const;              // is cpu enabled anywhere (the root enables it)?
  Process* pick_in(Cgroup& queue, bool& died);  // weight-ordered pick down the tree
  void cpu_charge_current();             // charge current_'s run since cpu_charged_at_
  void cpu_after_call();                 // a call changed cpu.max or moved the caller: re-cap the run
  void cpu_account();                    // cpu.max writes, refills, throttles at now()
  uint64_t cpu_run_cap();                // how long current_ may run before a pool or period ends
  uint64_t cpu_wake_time();              // the first refill of a throttled group (0: none)
  uint64_t cpu_charged_at_ = 0;          // virtual time current_ is charged up to
  uint32_t cpu_charged_pid_ = 0;         // who was charged last (the CgroupThrottle event's process)
  const Cgroup* cpu_charged_cg_ = nullptr;  // ... and which cgroup

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

  // --- cgroup memory part: what the kernel does when a memory cgroup runs
  // out — reclaim, the memcg OOM killer, the memory.high throttle
  // (memory_pressure.cpp; cgroup_memory.h; docs/container-sim/cgroup-memory.md) ---
 public:
  SysResult sys_memcg_throttle(Process&, const SyscallArgs&);  // the pseudo-call a memory.high throttle sleeps in
  static constexpr uint32_t kMemcgThrottleCall = 511;          // its number: no Linux i386 call uses it

 private:
  struct MemcgCharger final : MemoryCharger {  // Frames' door to the kernel
    explicit MemcgCharger(Kernel& k);
    ~MemcgCharger() override;
    bool make_room(Cgroup& memcg, AddressSpace& space) override;
    void charged(Cgroup& memcg, AddressSpace& space) override;
    void uncharged(Cgroup& memcg) override;
    std::shared_ptr<Cgroup> new_space_owner() override;
    Kernel& k;
  };
  enum class OomResult : uint8_t { Killed, SelfChosen, NoVictim };
  // Frees up to `want` clean file pages charged inside cg's subtree; how many it freed.
  uint64_t memcg_reclaim(Cgroup& cg, uint64_t want);
  // The memcg OOM killer in cg's subtree. `self` (may be null) and, when
  // `current_busy` (inside its fault or call), current_ cannot be ended at
  // once: when chosen they get SIGKILL pending.
  OomResult memcg_oom_kill(Cgroup& cg, const Process* self, bool current_busy);
  // After memory.max / memory.high were written (Kernel::cgroup_write): reclaim, OOM kills.
  void memcg_limit_written(Process* writer, Cgroup& cg, const std::string& file);
  Process* memcg_space_owner(const AddressSpace& space) const;
  void memcg_invalidate(const AddressSpace& space, uint32_t va);  // a PTE changed behind the TLB
  uint32_t reclaim_hand_ = 0;  // reclaim's clock hand over the frames
  MemcgCharger memcg_charger_{*this};  // declared after frames_: made after it, registers itself there
};

}  // namespace vs::container_sim

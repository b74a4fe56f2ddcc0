// The container host (DESIGN.md §1 container-sim/, §4 "container"): a
// Linux-like kernel written in C++ that serves the system calls of ring-3
// processes running instruction by instruction on the emulated CPU — the
// shape of gVisor's Sentry (../shared/SEMANTICS.md Part 1c). No guest kernel
// runs: an `int $0x80` from user mode reaches the kernel model through a CPU
// hook, and a user page fault reaches it the same way.
//
// What a caller does:
//
//     ContainerHost host;                          // CPU + MMU + RAM, empty file system
//     host.add_initrd("build/guest/kernel/initrd.cpio", error);  // /bin/hello, /bin/cpu, ...
//     host.set_console([](std::string_view s) { std::cout << s; });
//     uint32_t pid = host.spawn({"cpu", "1000"}, error);         // /bin/cpu, argv = {"cpu", "1000"}
//     host.run(1'000'000'000);                     // until every process has exited
//     host.exit_status(pid);                       // Linux wait status: code << 8 or the signal
//
// Virtual time is instructions retired (DESIGN.md §6); one instruction is
// 10 ns of the processes' clock, so the scheduler's tick of 1,000,000
// instructions is the teaching kernel's 10 ms PIT tick. Nothing reads the
// wall clock: the same inputs give the same instruction counts and events.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "virtscope/container_image/layer.h"

namespace vs::trace {
class EventLog;
}

namespace vs::container_sim {

struct HostConfig {
  uint32_t ram_bytes = 64u << 20;            // emulated physical memory for page tables and user pages
  uint64_t tick_instructions = 1'000'000;    // the scheduler's time slice (10 ms of virtual time)
  unsigned tlb_entries = 64;                 // the MMU's TLB model (mmu::MmuConfig)
  unsigned max_processes = 1024;             // fork fails with EAGAIN beyond this (threads-max; pids.max is per cgroup)
};

// Why run() returned.
enum class HostStop : uint8_t {
  AllExited,  // no process is left
  Budget,     // the instruction budget ran out
  Idle,       // every process waits for something only the host can give (console input)
  Requested,  // request_stop()
  Panic,      // the kernel panicked (panic_reason()): every process of every container stops with it
};
const char* host_stop_name(HostStop);

// Counters for compare, the UI and lessons (all from virtual time and the kernel's own bookkeeping).
struct HostCounters {
  uint64_t instructions = 0;       // user instructions retired on the emulated CPU
  uint64_t idle = 0;               // virtual time skipped while every process slept
  uint64_t syscalls = 0;           // int $0x80 from user mode
  uint64_t page_faults = 0;        // #PF from user mode (demand-zero fills and fatal ones)
  uint64_t demand_zero_pages = 0;  // pages the kernel zeroed and mapped on a fault or a user copy
  uint64_t processes_started = 0;  // spawn and fork
  uint64_t processes_exited = 0;
  uint64_t context_switches = 0;   // the CPU went to a different process
  uint64_t preemptions = 0;        // ... because a tick ended the time slice
  uint64_t frames_in_use = 0;      // 4 KiB frames of emulated RAM holding page tables and user pages
  uint64_t frames_peak = 0;
  uint64_t layers_unpacked = 0;    // image layers unpacked into a lower directory (runtime.cpp)
  uint64_t layers_shared = 0;      // ... and found already unpacked by DiffID, shared instead
};

// One process as `ps` would show it.
struct ProcessInfo {
  uint32_t pid = 0;          // in the root PID namespace
  uint32_t ppid = 0;         // 0: the host
  uint32_t uid = 0;          // real uid as the root user namespace sees it (the host's view)
  std::string name;          // the executable's base name (15 characters at most, as Linux's comm)
  char state = 'R';          // R runnable or running, S blocked in a system call, Z zombie
  uint32_t frames = 0;       // frames of its address space: page directory, page tables and pages
  uint64_t syscalls = 0;
  uint64_t page_faults = 0;
  std::string cgroup;        // its cgroup v2, "/" or "/a/b" (what /proc/PID/cgroup shows after "0::")
};

// A container to start (docs/container-sim/runtime.md): what an OCI
// runtime's config.json says, reduced to what the kernel model does.
struct ContainerSpec {
  std::string name;                          // [a-zA-Z0-9][a-zA-Z0-9_.-]*, unique; its cgroup is /virtscope/NAME
  std::string hostname;                      // "" = the name (in its own UTS namespace)
  std::vector<std::string> argv;             // argv[0] in the container's root; a name without '/' is /bin/NAME
  std::vector<std::string> env;
  std::string cwd = "/";
  std::vector<container_image::ChangeSet> layers;  // the image, bottom first: the overlay's lower layers
  // The layers' DiffIDs, in the same order (or none). A layer with an id
  // is unpacked once and its read-only directory shared by every container
  // that has it, as a snapshotter shares them; without ids each container
  // unpacks its own copy.
  std::vector<std::string> layer_ids;
  // cgroup interface files written in this order before the process starts
  // ("memory.max" = "64M", "cpu.max" = "50000 100000", ...); a value the
  // kernel refuses fails the start with Linux's reason.
  std::vector<std::pair<std::string, std::string>> limits;
  bool user_namespace = false;               // root inside is uid 100000 outside (a rootless container)
  // Namespaces joined from the host instead of made new (docker's
  // --pid=host, --uts=host, --ipc=host, --network=host; OCI: a type left
  // out of linux.namespaces is inherited). The mount namespace is always
  // new: it holds the container's root.
  bool host_pid = false, host_uts = false, host_ipc = false, host_net = false;
  // A veth pair: `eth0` in the container's network namespace, `vethN` in
  // the host's, both up (docker's bridge network without the bridge;
  // docs/container-sim/network.md).
  bool veth = false;
};

// A container as `container ps` shows it.
struct ContainerInfo {
  std::string name, hostname;
  uint32_t pid = 0;                 // its init, in the root PID namespace
  std::string cgroup;               // "/virtscope/NAME"
  bool running = false;             // its init has not exited
  std::optional<int> exit_status;   // the init's wait status once it exited
  uint32_t processes = 0;           // live processes in its cgroup
  std::string host_veth;            // its veth end in the host's namespace ("" without one)
};

class Kernel;

class ContainerHost {
 public:
  explicit ContainerHost(HostConfig config = {});
  ~ContainerHost();
  ContainerHost(const ContainerHost&) = delete;
  ContainerHost& operator=(const ContainerHost&) = delete;

  // --- the file system (an in-memory tree; the root of the first mount namespace) ---
  // A regular file at the absolute `path`, directories made as needed.
  bool add_file(const std::string& path, std::vector<uint8_t> bytes, std::string& error);
  // An empty directory at the absolute `path` (a mount point such as /proc or /tmp).
  bool add_directory(const std::string& path, std::string& error);
  // Every file of a cpio "newc" archive (tools/mkinitrd), at "/" + its name.
  bool add_initrd(const std::string& cpio_path, std::string& error);
  // The machine's disk: `image` (whole 512-byte sectors) as block device
  // 8:0 at /dev/disk, read-only, which the `disk N` workload reads and
  // io.max/io.stat name "8:0" (docs/container-sim/cgroup-io.md). A second
  // call changes the medium.
  bool set_disk(std::vector<uint8_t> image, std::string& error);

  // --- processes ---
  // Starts argv[0] (a name without '/' means /bin/NAME) as a new process whose
  // parent is the host, with `envp`. Returns its pid, or 0 with a one-line
  // reason (no such file, not a valid ELF executable, out of memory).
  uint32_t spawn(const std::vector<std::string>& argv, std::string& error,
                 const std::vector<std::string>& envp = {});
  // Runs the processes until `max_instructions` more have retired, or nothing can run.
  HostStop run(uint64_t max_instructions);
  void request_stop();
  // The wait status of a process the host spawned, once it has exited
  // (code << 8 for exit(code), the signal number when killed).
  std::optional<int> exit_status(uint32_t pid) const;
  std::vector<ProcessInfo> processes() const;

  // --- cgroup v2 (docs/container-sim.md "cgroups") ---
  // The host's side of /sys/fs/cgroup, for the CLI: the same code as a
  // guest's mkdir, open, read and write there, with the host as the writer
  // (PIDs are root-namespace PIDs). Paths are from the hierarchy's root:
  // "/web" is /sys/fs/cgroup/web, "/web/pids.max" a file in it. On failure
  // `error` says what and Linux's reason ("/web/pids.max: Invalid argument").
  bool cgroup_create(const std::string& path, std::string& error);
  bool cgroup_remove(const std::string& path, std::string& error);
  bool cgroup_move(uint32_t pid, const std::string& path, std::string& error);  // writes pid to PATH/cgroup.procs
  bool cgroup_read(const std::string& file, std::string& text, std::string& error);
  bool cgroup_write(const std::string& file, const std::string& text, std::string& error);

  // --- containers (runtime.cpp): namespaces + cgroup + overlay root, as runc makes them ---
  // Starts spec.argv as PID 1 of a new container; its root-namespace PID,
  // or 0 with the reason (a limit Linux refuses, a bad name, no such program).
  uint32_t create_container(const ContainerSpec& spec, std::string& error);
  // `exec`: a new process in a running container's namespaces and cgroup.
  uint32_t exec_in_container(const std::string& name, const std::vector<std::string>& argv, std::string& error,
                             const std::vector<std::string>& envp = {});
  std::vector<ContainerInfo> containers() const;
  // What the container changed: its upper layer as a layer change set
  // (whiteouts as OCI's .wh. entries), for commit and build's RUN.
  bool container_changes(const std::string& name, container_image::ChangeSet& out, std::string& error) const;
  // Forgets an exited container and removes its cgroup.
  bool remove_container(const std::string& name, std::string& error);

  // --- the console: stdin, stdout and stderr of spawned processes ---
  void set_console(std::function<void(std::string_view)> sink);
  void queue_input(std::string_view bytes);
  void close_input();  // end of file once the queued bytes are read

  // --- observation ---
  const HostCounters& counters() const;
  // Why the kernel panicked ("" while it runs). One kernel serves every
  // container, so its panic ends them all: the contrast with VMs, where a
  // guest kernel's crash ends only that VM (docs/container-sim.md "One
  // kernel for all"). A root process triggers it as on Linux, with
  // `echo c > /proc/sysrq-trigger`.
  const std::string& panic_reason() const;
  uint64_t now() const;  // virtual time: instructions retired plus idle time skipped
  trace::EventLog& log();

 private:
  std::unique_ptr<Kernel> kernel_;
};

}  // namespace vs::container_sim

// A process of the kernel model: its saved registers, its address space and
// descriptors, its place in the process tree, its namespaces and cgroup, and
// what it is waiting for when it is blocked in a system call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "address_space.h"
#include "cgroup.h"
#include "files.h"
#include "namespaces.h"
#include "virtscope/cpu/state.h"

namespace vs::container_sim {

enum class ProcState : uint8_t {
  Runnable,  // running on the CPU, or waiting for its turn
  Blocked,   // inside a system call that cannot finish yet (Process::call)
  Zombie,    // exited; its parent has not reaped it
};

// The file a host-started program names: a name without '/' is /bin/NAME,
// as the teaching kernel's shell finds programs (spawn, containers, exec).
inline std::string program_path(const std::string& name) {
  return name.find('/') == std::string::npos ? "/bin/" + name : name;
}

// A system call as int $0x80 made it: EAX and EBX, ECX, EDX, ESI, EDI, EBP.
struct SyscallArgs {
  uint32_t nr = 0;
  uint32_t a[6] = {};
};

struct Process {
  uint64_t serial = 0;             // creation order (events, deterministic tie-breaks)
  std::vector<uint32_t> pids;      // one PID per PID-namespace level, pids[0] in the root namespace
  uint32_t pid() const { return pids.front(); }
  Process* parent = nullptr;       // null: the host spawned it (or it was orphaned with no reaper)
  std::string name;                // base name of the executable, 15 characters at most

  cpu::CpuState regs;              // user registers while it is off the CPU
  std::unique_ptr<AddressSpace> mm;
  FdTable files;
  NamespaceSet ns;
  std::shared_ptr<Cgroup> cgroup;  // its cgroup v2 (cgroup.h); kept alive by its members, zombies included
  PathRef root, cwd;               // where "/" and relative paths start (chroot, chdir, pivot_root)

  // Credentials, as kernel ids (the root user namespace's numbers); what
  // getuid() returns is them seen from ns.user (namespaces.h id_from_kernel).
  uint32_t uid = 0, euid = 0, suid = 0, gid = 0, egid = 0, sgid = 0;
  bool caps = true;                // the full capability set in ns.user (root, or a user namespace's creator)

  ProcState state = ProcState::Runnable;
  SyscallArgs call;                // Blocked: the call to finish when it can
  uint32_t call_progress = 0;      // Blocked in a pipe write: bytes already written
  uint64_t wake_at = 0;            // Blocked in nanosleep: the virtual time it ends
  bool sleeping = false;           // nanosleep's deadline is set
  int pending_signal = 0;          // kill(): terminate with this signal at the next chance
  uint64_t pending_handled = 0;    // signals (bit sig-1) to deliver to a handler (signals.cpp)
  struct SigAction {
    uint32_t handler = 0, flags = 0, restorer = 0;  // SIG_DFL 0, SIG_IGN 1, else an address
  };
  SigAction actions[64];
  std::vector<cpu::CpuState> signal_frames;  // what sigreturn restores, innermost last
  int wait_status = 0;             // Zombie: what wait4 reports

  uint64_t syscalls = 0, page_faults = 0;
};

}  // namespace vs::container_sim

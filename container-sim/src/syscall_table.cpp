// The system-call table: Linux i386 numbers (arch/x86/entry/syscalls/
// syscall_32.tbl) to handlers, the subset the teaching kernel serves
// (docs/kernel.md "System calls"). Anything else is -ENOSYS.
#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

const std::vector<Kernel::SyscallEntry>& Kernel::syscall_table() {
  static const std::vector<SyscallEntry> table = {
      {1, "exit", &Kernel::sys_exit},
      {2, "fork", &Kernel::sys_fork},
      {3, "read", &Kernel::sys_read},
      {4, "write", &Kernel::sys_write},
      {5, "open", &Kernel::sys_open},
      {6, "close", &Kernel::sys_close},
      {7, "waitpid", &Kernel::sys_wait4},  // waitpid(pid, status, options) = wait4 without rusage
      {11, "execve", &Kernel::sys_execve},
      {20, "getpid", &Kernel::sys_getpid},
      {37, "kill", &Kernel::sys_kill},
      {42, "pipe", &Kernel::sys_pipe},
      {45, "brk", &Kernel::sys_brk},
      {63, "dup2", &Kernel::sys_dup2},
      {64, "getppid", &Kernel::sys_getppid},
      {90, "mmap", &Kernel::sys_old_mmap},
      {91, "munmap", &Kernel::sys_munmap},
      {114, "wait4", &Kernel::sys_wait4},
      {122, "uname", &Kernel::sys_uname},
      {158, "sched_yield", &Kernel::sys_sched_yield},
      {162, "nanosleep", &Kernel::sys_nanosleep},
      {192, "mmap2", &Kernel::sys_mmap2},
      {252, "exit_group", &Kernel::sys_exit},  // one thread per process: the same as exit
      {265, "clock_gettime", &Kernel::sys_clock_gettime},
  };
  return table;
}

SysResult Kernel::dispatch(Process& p, const SyscallArgs& args) {
  // A direct index: the table is small and sorted, numbers stay below 512.
  static const std::vector<Handler> by_number = [] {
    std::vector<Handler> v(512, nullptr);
    for (const SyscallEntry& e : syscall_table()) v[e.nr] = e.fn;
    return v;
  }();
  if (args.nr >= by_number.size() || !by_number[args.nr]) return SysResult::done(-linux_abi::kENOSYS);
  return (this->*by_number[args.nr])(p, args);
}

}  // namespace vs::container_sim

// The system-call table: Linux i386 numbers (arch/x86/entry/syscalls/
// syscall_32.tbl) to handlers, the subset the teaching kernel serves
// (docs/kernel.md "System calls"), plus namespaces, mounts, credentials and
// signal handlers (docs/container-sim.md). Anything else is -ENOSYS.
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
      {10, "unlink", &Kernel::sys_unlink},
      {11, "execve", &Kernel::sys_execve},
      {12, "chdir", &Kernel::sys_chdir},
      {14, "mknod", &Kernel::sys_mknod},
      {15, "chmod", &Kernel::sys_chmod},
      {19, "lseek", &Kernel::sys_lseek},
      {20, "getpid", &Kernel::sys_getpid},
      {21, "mount", &Kernel::sys_mount},
      {23, "setuid", &Kernel::sys_setuid},
      {24, "getuid", &Kernel::sys_getuid},
      {37, "kill", &Kernel::sys_kill},
      {38, "rename", &Kernel::sys_rename},
      {39, "mkdir", &Kernel::sys_mkdir},
      {40, "rmdir", &Kernel::sys_rmdir},
      {42, "pipe", &Kernel::sys_pipe},
      {45, "brk", &Kernel::sys_brk},
      {46, "setgid", &Kernel::sys_setgid},
      {47, "getgid", &Kernel::sys_getgid},
      {49, "geteuid", &Kernel::sys_geteuid},
      {50, "getegid", &Kernel::sys_getegid},
      {52, "umount2", &Kernel::sys_umount2},
      {61, "chroot", &Kernel::sys_chroot},
      {63, "dup2", &Kernel::sys_dup2},
      {64, "getppid", &Kernel::sys_getppid},
      {74, "sethostname", &Kernel::sys_sethostname},
      {85, "readlink", &Kernel::sys_readlink},
      {90, "mmap", &Kernel::sys_old_mmap},
      {91, "munmap", &Kernel::sys_munmap},
      {93, "ftruncate", &Kernel::sys_ftruncate},
      {102, "socketcall", &Kernel::sys_socketcall},  // networking (sockets.cpp)
      {114, "wait4", &Kernel::sys_wait4},
      {119, "sigreturn", &Kernel::sys_sigreturn},
      {120, "clone", &Kernel::sys_clone},
      {121, "setdomainname", &Kernel::sys_setdomainname},
      {122, "uname", &Kernel::sys_uname},
      {140, "_llseek", &Kernel::sys_llseek},
      {158, "sched_yield", &Kernel::sys_sched_yield},
      {162, "nanosleep", &Kernel::sys_nanosleep},
      {172, "prctl", &Kernel::sys_prctl},
      {173, "rt_sigreturn", &Kernel::sys_sigreturn},
      {174, "rt_sigaction", &Kernel::sys_rt_sigaction},
      {183, "getcwd", &Kernel::sys_getcwd},
      {192, "mmap2", &Kernel::sys_mmap2},
      {195, "stat64", &Kernel::sys_stat64},
      {196, "lstat64", &Kernel::sys_lstat64},
      {197, "fstat64", &Kernel::sys_fstat64},
      {198, "lchown32", &Kernel::sys_chown},  // no symbolic links here: chown32's handler
      {199, "getuid32", &Kernel::sys_getuid},
      {200, "getgid32", &Kernel::sys_getgid},
      {201, "geteuid32", &Kernel::sys_geteuid},
      {202, "getegid32", &Kernel::sys_getegid},
      {207, "fchown32", &Kernel::sys_fchown},
      {212, "chown32", &Kernel::sys_chown},
      {213, "setuid32", &Kernel::sys_setuid},
      {214, "setgid32", &Kernel::sys_setgid},
      {217, "pivot_root", &Kernel::sys_pivot_root},
      {220, "getdents64", &Kernel::sys_getdents64},
      {252, "exit_group", &Kernel::sys_exit},  // one thread per process: the same as exit
      {265, "clock_gettime", &Kernel::sys_clock_gettime},
      {310, "unshare", &Kernel::sys_unshare},
      {346, "setns", &Kernel::sys_setns},
      {359, "socket", &Kernel::sys_socket},  // networking: the direct socket calls (sockets.cpp)
      {361, "bind", &Kernel::sys_bind},
      {362, "connect", &Kernel::sys_connect},
      {366, "setsockopt", &Kernel::sys_setsockopt},
      {367, "getsockname", &Kernel::sys_getsockname},
      {369, "sendto", &Kernel::sys_sendto},
      {370, "sendmsg", &Kernel::sys_sendmsg},
      {371, "recvfrom", &Kernel::sys_recvfrom},
      {372, "recvmsg", &Kernel::sys_recvmsg},
      {395, "shmget", &Kernel::sys_shmget},
      {399, "msgget", &Kernel::sys_msgget},
      // Not a Linux call: where a memory.high penalty sleeps (memory_pressure.cpp).
      {Kernel::kMemcgThrottleCall, "memory.high throttle", &Kernel::sys_memcg_throttle},
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

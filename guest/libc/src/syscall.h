/* Private to the libc: the system call numbers (Linux i386, from the
 * kernel's arch/x86/entry/syscalls/syscall_32.tbl) and the raw entry. */
#ifndef VS_LIBC_SYSCALL_H
#define VS_LIBC_SYSCALL_H

enum {
  SYS_exit = 1,
  SYS_fork = 2,
  SYS_read = 3,
  SYS_write = 4,
  SYS_open = 5,
  SYS_close = 6,
  SYS_waitpid = 7,
  SYS_execve = 11,
  SYS_getpid = 20,
  SYS_kill = 37,
  SYS_pipe = 42,
  SYS_brk = 45,
  SYS_dup2 = 63,
  SYS_getppid = 64,
  SYS_munmap = 91,
  SYS_wait4 = 114,
  SYS_uname = 122,
  SYS_sched_yield = 158,
  SYS_nanosleep = 162,
  SYS_mmap2 = 192,
  SYS_exit_group = 252,
  SYS_clock_gettime = 265,
};

/* syscall.S: returns EAX as the kernel left it (-errno on failure). */
long __vs_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

#endif

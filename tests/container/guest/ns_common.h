/* What the namespace test programs share (ns_pid.c, ns_view.c): raw
 * system calls with Linux i386 numbers (arch/x86/entry/syscalls/
 * syscall_32.tbl), the CLONE_NEW* flags (include/uapi/linux/sched.h), and
 * checks that print "ok WHAT" or "FAIL WHAT". The programs run unchanged
 * under container-sim and as ordinary i386 processes on Linux; their output
 * names no PID or id that could differ between the two, so the two outputs
 * can be compared line by line (tests/container/namespace_test.cpp). */
#ifndef NS_COMMON_H
#define NS_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* guest/libc/src/syscall.S: EAX as the kernel left it (-errno on failure). */
long __vs_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

enum {
  NR_chdir = 12, NR_mount = 21, NR_mkdir = 39, NR_umount2 = 52, NR_chroot = 61, NR_sethostname = 74,
  NR_readlink = 85, NR_clone = 120, NR_uname = 122, NR_rt_sigaction = 174, NR_getcwd = 183,
  NR_getuid32 = 199, NR_getgid32 = 200, NR_geteuid32 = 201, NR_pivot_root = 217, NR_getdents64 = 220,
  NR_unshare = 310, NR_setns = 346, NR_shmget = 395, NR_msgget = 399,
};

#define CLONE_NEWNS 0x00020000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000
#define CLONE_VM 0x00000100
#define CLONE_SIGHAND 0x00000800
#define CLONE_THREAD 0x00010000
#define MS_BIND 0x1000
#define MS_REC 0x4000
#define MS_PRIVATE (1 << 18)
#define MNT_DETACH 2

static inline long sys(long nr, long a, long b, long c, long d, long e) { return __vs_syscall(nr, a, b, c, d, e, 0); }

/* Fork-like clone: no child stack (the child runs on its copy of ours). */
static inline long clone_ns(unsigned flags) { return sys(NR_clone, (long)(flags | SIGCHLD), 0, 0, 0, 0); }

static int failures;

static inline void check(const char *what, int ok) {
  printf("%s %s\n", ok ? "ok" : "FAIL", what);
  if (!ok) failures++;
}

/* Waits for `pid` and returns its wait status (-1 if waitpid failed). */
static inline int wait_for(int pid) {
  int status = 0;
  return waitpid(pid, &status, 0) == pid ? status : -1;
}

/* A child ends with its failure count as exit code; the parent adds it. */
static inline void join(int pid) {
  const int st = wait_for(pid);
  if (st < 0 || !WIFEXITED(st)) {
    printf("FAIL child did not exit normally (status %d)\n", st);
    failures++;
  } else {
    failures += WEXITSTATUS(st);
  }
}

/* A private mount namespace with a fresh /proc of our own PID namespace
 * (so that the same steps are harmless on the host: nothing propagates). */
static inline int private_mounts(int with_proc) {
  if (sys(NR_unshare, CLONE_NEWNS, 0, 0, 0, 0) != 0) return -1;
  if (sys(NR_mount, 0, (long)"/", 0, MS_REC | MS_PRIVATE, 0) != 0) return -2;
  if (with_proc && sys(NR_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0) != 0) return -3;
  return 0;
}

static inline void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, 0);
}

/* The first line of `path` starting with `key`, copied into out. */
static inline int read_line(const char *path, const char *key, char *out, int size) {
  static char buf[2048];
  const int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  int n = 0, k;
  while (n < (int)sizeof buf - 1 && (k = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += k;
  close(fd);
  buf[n] = 0;
  const size_t len = strlen(key);
  for (char *line = buf; *line;) {
    char *end = strchr(line, '\n');
    if (end) *end = 0;
    if (strncmp(line, key, len) == 0) {
      strncpy(out, line, size - 1);
      out[size - 1] = 0;
      return 0;
    }
    if (!end) break;
    line = end + 1;
  }
  return -1;
}

#endif

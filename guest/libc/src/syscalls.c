/* The system call wrappers: each passes its arguments to __vs_syscall and,
 * on a result in -4095..-1 (the Linux convention for -errno), sets errno and
 * returns -1 (or MAP_FAILED / (void *)-1 where the API says so). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscall.h"

int errno;
char **environ;

#define SC0(nr) __vs_syscall((nr), 0, 0, 0, 0, 0, 0)
#define SC1(nr, a) __vs_syscall((nr), (long)(a), 0, 0, 0, 0, 0)
#define SC2(nr, a, b) __vs_syscall((nr), (long)(a), (long)(b), 0, 0, 0, 0)
#define SC3(nr, a, b, c) __vs_syscall((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* -4095..-1 is an error; anything else (even a "negative" address such as
 * 0xbf000000 from mmap) is a result. */
static long check(long r) {
  if ((unsigned long)r >= (unsigned long)-4095) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

ssize_t read(int fd, void *buf, size_t count) { return check(SC3(SYS_read, fd, buf, count)); }
ssize_t write(int fd, const void *buf, size_t count) { return check(SC3(SYS_write, fd, buf, count)); }
int close(int fd) { return check(SC1(SYS_close, fd)); }
int pipe(int fds[2]) { return check(SC1(SYS_pipe, fds)); }
int dup2(int oldfd, int newfd) { return check(SC2(SYS_dup2, oldfd, newfd)); }

int open(const char *path, int flags, ...) {
  mode_t mode = 0;
  if (flags & O_CREAT) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return check(SC3(SYS_open, path, flags, mode));
}

pid_t fork(void) { return check(SC0(SYS_fork)); }
int execve(const char *path, char *const argv[], char *const envp[]) {
  return check(SC3(SYS_execve, path, argv, envp));
}
pid_t getpid(void) { return SC0(SYS_getpid); } /* cannot fail */
pid_t getppid(void) { return SC0(SYS_getppid); }
int kill(pid_t pid, int sig) { return check(SC2(SYS_kill, pid, sig)); }

pid_t waitpid(pid_t pid, int *status, int options) { return check(SC3(SYS_waitpid, pid, status, options)); }
pid_t wait(int *status) { return waitpid(-1, status, 0); }
pid_t wait4(pid_t pid, int *status, int options, void *rusage) {
  return check(__vs_syscall(SYS_wait4, pid, (long)status, options, (long)rusage, 0, 0));
}

_Noreturn void _exit(int status) {
  SC1(SYS_exit_group, status);
  for (;;) SC1(SYS_exit, status); /* exit_group does not return; if it did, end this thread */
}

int uname(struct utsname *buf) { return check(SC1(SYS_uname, buf)); }
int sched_yield(void) { return check(SC0(SYS_sched_yield)); }
int nanosleep(const struct timespec *request, struct timespec *remaining) {
  return check(SC2(SYS_nanosleep, request, remaining));
}
int clock_gettime(clockid_t clock, struct timespec *ts) { return check(SC2(SYS_clock_gettime, clock, ts)); }

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  if (offset & 4095) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  long r = __vs_syscall(SYS_mmap2, (long)addr, (long)length, prot, flags, fd, offset >> 12);
  return (void *)check(r); /* -1 is MAP_FAILED */
}
int munmap(void *addr, size_t length) { return check(SC2(SYS_munmap, addr, length)); }

/* The Linux brk syscall never fails as such: it returns the new break, or
 * the old one when it could not move it; brk(0) just reports the break. */
static char *current_break;

int brk(void *addr) {
  char *r = (char *)SC1(SYS_brk, addr);
  current_break = r;
  if (r != (char *)addr) {
    errno = ENOMEM;
    return -1;
  }
  return 0;
}

void *sbrk(intptr_t increment) {
  if (!current_break) current_break = (char *)SC1(SYS_brk, 0);
  char *old = current_break;
  if (increment == 0) return old;
  if (brk(old + increment) < 0) return (void *)-1;
  return old;
}

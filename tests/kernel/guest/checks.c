/* kt_checks: one line per kernel feature the workloads do not cover, "ok
 * NAME" or "FAIL NAME: detail"; exits with the number of failures. Built
 * with guest/libc, run as pid 1 by tests/kernel/kernel_test.cpp. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(const char *name, int ok, const char *detail) {
  if (ok) printf("ok %s\n", name);
  else printf("FAIL %s: %s\n", name, detail), failures++;
}

static int raw_syscall1(int nr, int a) {
  int r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a) : "memory");
  return r;
}

int main(int argc, char **argv, char **envp) {
  if (argc == 3 && strcmp(argv[1], "args") == 0) {
    /* Re-executed by the execve check: report argv and envp. */
    printf("args: argc %d argv1 %s argv2 %s env %s\n", argc, argv[1], argv[2], envp[0] ? envp[0] : "(none)");
    return 7;
  }
  check("unknown syscall is -ENOSYS", raw_syscall1(400, 0) == -38, "not -38");
  check("getpid is 1", getpid() == 1, "pid");

  struct utsname u;
  check("uname", uname(&u) == 0 && strcmp(u.sysname, "virtscope") == 0 && strcmp(u.release, "0.1") == 0 &&
                     strcmp(u.machine, "i386") == 0, u.sysname);

  struct timespec t0, t1, d = {0, 50000000};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int slept = nanosleep(&d, 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  check("nanosleep 50 ms advances the clock 50-70 ms", slept == 0 && ms >= 50 && ms <= 70, "elapsed");

  char *b0 = sbrk(0);
  char *b1 = sbrk(3 * 4096);
  b1[0] = 1, b1[3 * 4096 - 1] = 2; /* demand-zero heap pages */
  check("brk grows the heap", b1 == b0 && sbrk(0) == b0 + 3 * 4096 && b1[100] == 0, "brk");

  int fds[2];
  check("pipe", pipe(fds) == 0, "pipe");
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    dup2(fds[1], 1); /* stdout into the pipe */
    close(fds[1]);
    write(1, "through dup2", 12);
    _exit(0);
  }
  close(fds[1]);
  char buf[64];
  int n = read(fds[0], buf, sizeof buf), total = 0;
  while (n > 0) total += n, n = read(fds[0], buf + total, sizeof buf - total);
  check("dup2 and pipe EOF", n == 0 && total == 12 && memcmp(buf, "through dup2", 12) == 0, "pipe read");
  int status;
  check("waitpid of that child", waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "status");
  close(fds[0]);

  pipe(fds);
  close(fds[0]);
  check("write to a pipe without readers is -EPIPE", write(fds[1], "x", 1) == -1 && errno == EPIPE, "errno");
  close(fds[1]);

  child = fork();
  if (child == 0) {
    for (;;) __asm__ volatile(""); /* spins without system calls: only the timer can preempt it */
  }
  check("WNOHANG with a live child returns 0", waitpid(child, &status, WNOHANG) == 0, "not 0");
  check("kill SIGTERM of a spinning child (preemption)", kill(child, SIGTERM) == 0, "kill");
  check("killed child's status is signal 15", waitpid(child, &status, 0) == child && WIFSIGNALED(status) &&
                                                   WTERMSIG(status) == 15, "status");
  check("kill of no such pid is -ESRCH", kill(999, SIGKILL) == -1 && errno == ESRCH, "errno");

  child = fork();
  if (child == 0) {
    if (getppid() != 1) _exit(1);
    char *args[] = {"kt_checks", "args", "two", 0};
    char *env[] = {"KEY=value", 0};
    execve("/bin/kt_checks", args, env);
    _exit(2);
  }
  check("execve passes argv and envp", waitpid(child, &status, 0) == child && WEXITSTATUS(status) == 7, "status");
  check("wait with no children is -ECHILD", wait(&status) == -1 && errno == ECHILD, "errno");

  int fd = open("/bin/kt_hello", O_RDONLY);
  char elf[4] = {0};
  check("open and read an initrd file", fd >= 0 && read(fd, elf, 4) == 4 && memcmp(elf, "\177ELF", 4) == 0, "read");
  close(fd);
  check("open of a missing file is -ENOENT", open("/bin/none", O_RDONLY) == -1 && errno == ENOENT, "errno");

  uint8_t *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check("mmap anonymous", m != MAP_FAILED && m[0] == 0 && m[8191] == 0, "mmap");
  check("munmap", munmap(m, 8192) == 0, "munmap");
  check("mmap of a file is -EINVAL", mmap(0, 4096, PROT_READ, MAP_PRIVATE, 3, 0) == MAP_FAILED && errno == EINVAL,
        "errno");
  printf("%d failures\n", failures);
  return failures;
}

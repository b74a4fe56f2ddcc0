/* inside: what a process sees of the machine it runs on — its PID and its
 * parent's, the hostname, its uid, its working directory, the names in /
 * and in /proc, its network interfaces — one line each. Run it in containers with different
 * namespaces (docs/containers-walkthrough.md) and on the host to compare.
 * Not a workload and not in the teaching kernel's initrd. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* guest/libc/src/syscall.S: EAX as the kernel left it (-errno on failure). */
long __vs_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
enum { NR_getuid32 = 199, NR_getcwd = 183, NR_getdents64 = 220 };
static long sys(long nr, long a, long b, long c) { return __vs_syscall(nr, a, b, c, 0, 0, 0); }

static void list(const char *path) {
  char buf[1024];
  printf("%s:", path);
  const int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf(" (cannot open)\n");
    return;
  }
  long n;
  while ((n = sys(NR_getdents64, fd, (long)buf, sizeof buf)) > 0) {
    for (long at = 0; at < n;) {
      /* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
      const unsigned short reclen = *(unsigned short *)(buf + at + 16);
      const char *name = buf + at + 19;
      if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) printf(" %s", name);
      at += reclen;
    }
  }
  close(fd);
  printf("\n");
}

/* The network interfaces of its network namespace: the names in /proc/net/dev
 * (two header lines, then "  NAME: counters..." per interface). */
static void interfaces(void) {
  char buf[2048];
  printf("net:");
  const int fd = open("/proc/net/dev", O_RDONLY);
  long n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    printf(" (cannot read /proc/net/dev)\n");
    return;
  }
  buf[n] = 0;
  int line = 0;
  for (char *p = buf; *p; ++line) {
    char *end = strchr(p, '\n');
    if (end) *end = 0;
    char *colon = strchr(p, ':');
    if (line >= 2 && colon) {
      *colon = 0;
      while (*p == ' ') ++p;
      printf(" %s", p);
    }
    if (!end) break;
    p = end + 1;
  }
  close(fd);
  printf("\n");
}

int main(void) {
  struct utsname u;
  uname(&u);
  char cwd[256] = "?";
  sys(NR_getcwd, (long)cwd, sizeof cwd, 0);
  printf("pid %d ppid %d\n", (int)getpid(), (int)getppid());
  printf("hostname %s\n", u.nodename);
  printf("uid %ld\n", sys(NR_getuid32, 0, 0, 0));
  printf("cwd %s\n", cwd);
  list("/");
  list("/proc");
  interfaces();
  return 0;
}

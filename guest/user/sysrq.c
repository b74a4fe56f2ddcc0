/* sysrq: crashes the kernel it runs on the way root can on Linux — mounts
 * proc at /proc (unless it is there), then writes 'c' to
 * /proc/sysrq-trigger (Documentation/admin-guide/sysrq.rst). With "drop" it
 * first becomes uid 1000 and reports the refusal instead. Under
 * container-sim the write never returns: the one kernel panics and every
 * process of every container stops with it (docs/container-sim.md "One
 * kernel for all"). Not in the teaching kernel's initrd: that kernel has
 * no /proc; its own crash is the command-line option crash=kernel. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* guest/libc/src/syscall.S: EAX as the kernel left it (-errno on failure). */
long __vs_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
enum { NR_mount = 21, NR_setuid32 = 213 };

int main(int argc, char **argv) {
  const int drop = argc > 1 && strcmp(argv[1], "drop") == 0;
  long r = __vs_syscall(NR_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0, 0);
  if (r < 0 && r != -EBUSY) {
    printf("mount proc: %ld\n", r);
    return 1;
  }
  if (drop && __vs_syscall(NR_setuid32, 1000, 0, 0, 0, 0, 0) != 0) {
    printf("setuid failed\n");
    return 1;
  }
  const int fd = open("/proc/sysrq-trigger", O_WRONLY);
  if (fd < 0) {
    printf("open /proc/sysrq-trigger: %s\n", errno == EACCES ? "EACCES" : "other error");
    return 0;
  }
  printf("writing c to /proc/sysrq-trigger\n");
  write(fd, "c\n", 2);
  printf("still running after the crash (wrong)\n");
  return 2;
}

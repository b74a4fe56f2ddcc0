/* Checklist item 28 from inside: every system call is the simulated
 * kernel's own, never passed to the host's. Given the host PID of the test
 * process that runs the simulator (argv[1]), it tries to signal it, opens
 * a file every Linux host has, and asks for its own PID; under
 * container-sim the first finds no such process, the second no such file,
 * and the third is answered from the simulated PID table.
 * (tests/container/runtime_test.cpp, ContainerSentry.*) */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const int host_pid = atoi(argv[1]);
  const int k = kill(host_pid, SIGKILL);
  printf("kill(host pid, SIGKILL): %s\n", k == 0 ? "0" : errno == ESRCH ? "ESRCH" : "other error");
  const int fd = open("/etc/passwd", O_RDONLY);
  printf("open /etc/passwd: %s\n", fd >= 0 ? "opened" : errno == ENOENT ? "ENOENT" : "other error");
  printf("getpid: %d\n", (int)getpid());
  return 0;
}

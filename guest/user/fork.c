/* fork N: process creation and teardown, N times in a row. Each child exits
 * at once with status i & 0x7f; the parent waits for it and checks that the
 * status came back through waitpid as a normal exit with that code. */
#include <sys/wait.h>

#include "workload.h"

int main(int argc, char **argv) {
  uint32_t n = workload_count(argc, argv, "fork", 100000u);
  for (uint32_t i = 0; i < n; i++) {
    pid_t child = fork();
    if (child < 0) workload_fail("fork", "fork");
    if (child == 0) _exit((int)(i & 0x7f));
    int status = 0;
    if (waitpid(child, &status, 0) != child) workload_fail("fork", "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != (int)(i & 0x7f)) {
      dprintf(STDERR_FILENO, "fork: child %u: status 0x%x, expected exit code %u\n", i, status, i & 0x7f);
      return 1;
    }
  }
  printf("fork: %u children, exit codes ok\n", n);
  return 0;
}

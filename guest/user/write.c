/* write N: N one-byte write() calls to stdout: a system call that reaches a
 * device (the console, a serial port under the teaching kernel). */
#include "workload.h"

int main(int argc, char **argv) {
  uint32_t n = workload_count(argc, argv, "write", 100000000u);
  for (uint32_t i = 0; i < n; i++) {
    if (write(STDOUT_FILENO, ".", 1) != 1) workload_fail("write", "write");
  }
  printf("\nwrite: %u writes\n", n);
  return 0;
}

/* syscall N: the cheapest system call, N times: getpid() does no work in
 * the kernel, so what is measured is the round trip user -> kernel -> user
 * (int $0x80 and iret, or a VM exit and entry under a hypervisor). */
#include "workload.h"

int main(int argc, char **argv) {
  uint32_t n = workload_count(argc, argv, "syscall", 100000000u);
  pid_t pid = getpid();
  for (uint32_t i = 0; i < n; i++) {
    if (getpid() != pid) workload_wrong("syscall", "getpid returned a different pid");
  }
  printf("syscall: %u getpid calls\n", n);
  return 0;
}

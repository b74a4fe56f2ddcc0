/* mmap N: the life cycle of a mapping, N times: map 4 anonymous pages,
 * write to each (4 page faults), check, unmap (TLB shootdown of 4 entries).
 * Exercises the kernel's address-space bookkeeping rather than the fault
 * path alone. */
#include <sys/mman.h>

#include "workload.h"

#define PAGE 4096u
#define PAGES 4u

int main(int argc, char **argv) {
  uint32_t n = workload_count(argc, argv, "mmap", 10000000u);
  for (uint32_t i = 0; i < n; i++) {
    volatile uint8_t *p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) workload_fail("mmap", "mmap");
    for (uint32_t k = 0; k < PAGES; k++) {
      if (p[k * PAGE] != 0) workload_wrong("mmap", "fresh page not zero");
      p[k * PAGE] = (uint8_t)(i + k + 1);
    }
    for (uint32_t k = 0; k < PAGES; k++) {
      if (p[k * PAGE] != (uint8_t)(i + k + 1)) workload_wrong("mmap", "page lost its contents");
    }
    if (munmap((void *)p, PAGES * PAGE) < 0) workload_fail("mmap", "munmap");
  }
  printf("mmap: %u map/unmap cycles\n", n);
  return 0;
}

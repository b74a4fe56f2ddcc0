/* pagefault N: demand paging. One anonymous mapping of N pages: the kernel
 * only reserves the addresses; the first write to each page takes a page
 * fault in which the kernel finds a free frame, zeroes it and maps it. Then
 * every page is read back (no more faults) and the bytes summed. */
#include <sys/mman.h>

#include "workload.h"

#define PAGE 4096u

/* The byte written into page i: varies from page to page so a page mapped
 * twice, or not at all, changes the sum. */
static uint8_t mark(uint32_t i) { return (uint8_t)(i * 31u + 7u); }

int main(int argc, char **argv) {
  uint32_t n = workload_count(argc, argv, "pagefault", 262144u); /* up to 1 GiB */
  volatile uint8_t *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) workload_fail("pagefault", "mmap");
  for (uint32_t i = 0; i < n; i++) p[i * PAGE] = mark(i);
  uint32_t sum = 0;
  for (uint32_t i = 0; i < n; i++) {
    /* A fresh anonymous page is zero-filled (POSIX mmap, Linux mmap(2)). */
    if (p[i * PAGE + 1] != 0) workload_wrong("pagefault", "fresh page not zero");
    sum += p[i * PAGE];
  }
  if (munmap((void *)p, n * PAGE) < 0) workload_fail("pagefault", "munmap");
  printf("pagefault: %u pages touched, sum %u\n", n, sum);
  return 0;
}

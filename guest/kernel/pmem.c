// Physical page allocator: a free list threaded through the free pages
// themselves (each free page's first word holds the next one's address).
// It works before and after paging is on because the kernel identity-maps
// all the RAM it manages.
#include "kernel.h"

static uint32_t free_head;
static uint32_t free_count;

void pmem_init(uint32_t start, uint32_t end) {
  // Pushed from the top down so the list hands out low addresses first:
  // deterministic, and easy to read in a trace.
  for (uint32_t pa = PAGE_ROUND_DOWN(end) - PAGE_SIZE; pa >= PAGE_ROUND_UP(start); pa -= PAGE_SIZE) {
    *(uint32_t*)pa = free_head;
    free_head = pa;
    free_count++;
  }
}

uint32_t page_alloc(void) {
  uint32_t pa = free_head;
  if (!pa) return 0;
  free_head = *(uint32_t*)pa;
  free_count--;
  memset((void*)pa, 0, PAGE_SIZE);
  return pa;
}

void page_free(uint32_t pa) {
  *(uint32_t*)pa = free_head;
  free_head = pa;
  free_count++;
}

uint32_t pmem_free_pages(void) { return free_count; }

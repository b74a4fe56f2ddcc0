// Paging (SDM Vol. 3 §4.3, 32-bit paging with 4 KiB pages only).
//
// Every address space = one page directory. Its entries below USER_BASE
// point at the kernel's page tables, which identity-map physical memory
// 0 .. min(RAM, 128 MiB) supervisor-only and are shared by all directories:
// the kernel sees all RAM whichever process runs, and user code sees none
// of it (U/S = 0 gives #PF at CPL 3, SDM Vol. 3 §4.6). 4 KiB pages rather
// than 4 MiB ones so that a paravirtual build can make every page-table
// page read-only. Every entry store goes through pv.write_pte, every read
// through pv.read_pte, and a page is a table between pv.alloc_table and
// pv.release_table (pvops.h: a hypervisor validates and pins it).
//
// User memory is demand-zero: the heap, the stack and mmap regions get a
// fresh zeroed page at the first touch (#PF, not-present), anywhere else the
// process is killed.
#include "kernel.h"
#include "pvops.h"

#define PTE_P 0x001
#define PTE_W 0x002
#define PTE_U 0x004
#define PDX(va) ((va) >> 22)
#define PTX(va) (((va) >> 12) & 0x3FF)
#define KERNEL_PDES (USER_BASE >> 22)  // 32 directory entries: 128 MiB

static uint32_t kernel_pde[KERNEL_PDES];
static uint32_t boot_pd;
static uint32_t loaded_pd;  // what CR3 holds

void vm_init(uint32_t ram_top) {
  pv.lazy_mmu_begin();
  for (uint32_t i = 0; i < KERNEL_PDES && i * (1u << 22) < ram_top; i++) {
    uint32_t pt = page_alloc();
    if (!pt) panic("out of memory for kernel page tables");
    for (uint32_t j = 0; j < 1024; j++) {
      uint32_t pa = (i << 22) | (j << 12);
      // Page 0 stays unmapped so a kernel null dereference panics.
      if (pa < ram_top && pa != 0) pv.write_pte((uint32_t*)pt + j, pa | PTE_P | PTE_W);
    }
    pv.alloc_table(pt, 1);
    kernel_pde[i] = pt | PTE_P | PTE_W;
  }
  pv.lazy_mmu_end();
  boot_pd = vm_new_directory();
  pv.enable_paging(boot_pd);
  loaded_pd = boot_pd;
}

// Loads an address space. Skipping the reload when it is already loaded
// keeps the TLB warm when the scheduler picks the same process again
// (a CR3 write flushes all non-global entries, SDM Vol. 3 §4.10.4.1).
void vm_activate(uint32_t pd) {
  if (pd == loaded_pd) return;
  loaded_pd = pd;
  pv.write_cr3(pd);
}

uint32_t vm_new_directory(void) {
  uint32_t pd = page_alloc();
  if (!pd) return 0;
  pv.lazy_mmu_begin();
  for (uint32_t i = 0; i < KERNEL_PDES; i++)
    if (kernel_pde[i]) pv.write_pte((uint32_t*)pd + i, kernel_pde[i]);
  pv.alloc_table(pd, 2);
  pv.lazy_mmu_end();
  return pd;
}

// The page-table entry for `va` in directory `pd`, making the page table
// when `create`; 0 when absent.
static uint32_t* walk(uint32_t pd, uint32_t va, bool create) {
  uint32_t* pde = (uint32_t*)pd + PDX(va);
  if (!(pv.read_pte(pde) & PTE_P)) {
    if (!create) return 0;
    uint32_t pt = page_alloc();
    if (!pt) return 0;
    pv.alloc_table(pt, 1);
    pv.write_pte(pde, pt | PTE_P | PTE_W | PTE_U);
  }
  return (uint32_t*)(pv.read_pte(pde) & ~0xFFFu) + PTX(va);
}

int vm_map_zero(uint32_t pd, uint32_t va) {
  uint32_t* pte = walk(pd, va, true);
  if (!pte) return -ENOMEM;
  if (pv.read_pte(pte) & PTE_P) return 0;
  uint32_t page = page_alloc();
  if (!page) return -ENOMEM;
  pv.write_pte(pte, page | PTE_P | PTE_W | PTE_U);
  return 0;
}

void vm_free_user(uint32_t pd) {
  uint32_t* dir = (uint32_t*)pd;
  pv.lazy_mmu_begin();
  for (uint32_t i = KERNEL_PDES; i < PDX(USER_TOP); i++) {
    uint32_t pde = pv.read_pte(&dir[i]);
    if (!(pde & PTE_P)) continue;
    uint32_t* pt = (uint32_t*)(pde & ~0xFFFu);
    for (uint32_t j = 0; j < 1024; j++) {
      uint32_t pte = pv.read_pte(&pt[j]);
      if (pte & PTE_P) page_free(pte & ~0xFFFu);
    }
    pv.write_pte(&dir[i], 0);
    pv.release_table((uint32_t)pt, 1);
    page_free((uint32_t)pt);
  }
  pv.lazy_mmu_end();
}

void vm_free_directory(uint32_t pd) {
  vm_free_user(pd);
  pv.release_table(pd, 2);
  page_free(pd);
}

// fork: an eager copy of every present user page.
int vm_copy_user(uint32_t dst_pd, uint32_t src_pd) {
  uint32_t* dir = (uint32_t*)src_pd;
  int r = 0;
  pv.lazy_mmu_begin();
  for (uint32_t i = KERNEL_PDES; i < PDX(USER_TOP) && r == 0; i++) {
    uint32_t pde = pv.read_pte(&dir[i]);
    if (!(pde & PTE_P)) continue;
    uint32_t* pt = (uint32_t*)(pde & ~0xFFFu);
    for (uint32_t j = 0; j < 1024; j++) {
      uint32_t src = pv.read_pte(&pt[j]);
      if (!(src & PTE_P)) continue;
      uint32_t va = (i << 22) | (j << 12);
      uint32_t* pte = walk(dst_pd, va, true);
      uint32_t page = pte ? page_alloc() : 0;
      if (!page) {
        r = -ENOMEM;
        break;
      }
      memcpy((void*)page, (void*)(src & ~0xFFFu), PAGE_SIZE);
      pv.write_pte(pte, page | (src & 0xFFF));
    }
  }
  pv.lazy_mmu_end();
  return r;
}

void vm_unmap_range(uint32_t pd, uint32_t start, uint32_t end) {
  for (uint32_t va = PAGE_ROUND_DOWN(start); va < end; va += PAGE_SIZE) {
    uint32_t* pte = walk(pd, va, false);
    uint32_t old = pte ? pv.read_pte(pte) : 0;
    if (!(old & PTE_P)) continue;
    page_free(old & ~0xFFFu);
    pv.write_pte(pte, 0);
    if (current && current->pd == pd) pv.invlpg(va);  // SDM Vol. 3 §4.10.4.1
  }
}

// The region holding `addr` in the current process: the program image and
// mmap regions from the table, plus the heap and the stack, whose bounds move.
struct region* region_find(uint32_t addr) {
  static struct region dynamic;
  struct proc* p = current;
  if (addr >= p->brk_base && addr < PAGE_ROUND_UP(p->brk)) {
    dynamic = (struct region){p->brk_base, PAGE_ROUND_UP(p->brk), REGION_HEAP};
    return &dynamic;
  }
  if (addr >= USER_TOP - STACK_MAX && addr < USER_TOP) {
    dynamic = (struct region){USER_TOP - STACK_MAX, USER_TOP, REGION_STACK};
    return &dynamic;
  }
  for (int i = 0; i < REGION_MAX; i++)
    if (p->regions[i].kind != REGION_NONE && addr >= p->regions[i].start && addr < p->regions[i].end)
      return &p->regions[i];
  return 0;
}

struct region* region_add(uint32_t start, uint32_t end, enum region_kind kind) {
  for (int i = 0; i < REGION_MAX; i++)
    if (current->regions[i].kind == REGION_NONE) {
      current->regions[i] = (struct region){start, end, kind};
      return &current->regions[i];
    }
  return 0;
}

// 0 when resolved; -EFAULT outside every region; -ENOMEM when out of pages.
int vm_handle_fault(uint32_t addr) {
  if (addr < USER_BASE || addr >= USER_TOP || !region_find(addr)) return -EFAULT;
  return vm_map_zero(current->pd, PAGE_ROUND_DOWN(addr));
}

// Checks that [va, va+n) is user memory of the current process and maps its
// demand-zero pages now, so the kernel never takes a #PF on a user pointer:
// a bad pointer is -EFAULT for the caller, not a kernel panic.
static int user_range(uint32_t va, uint32_t n) {
  if (va < USER_BASE || va >= USER_TOP || n > USER_TOP - va) return -EFAULT;
  for (uint32_t page = PAGE_ROUND_DOWN(va); page < va + n; page += PAGE_SIZE) {
    uint32_t* pte = walk(current->pd, page, false);
    if (pte && (pv.read_pte(pte) & PTE_P)) continue;
    if (vm_handle_fault(page)) return -EFAULT;
  }
  return 0;
}

int copy_from_user(void* dst, uint32_t usrc, uint32_t n) {
  int r = user_range(usrc, n);
  if (r) return r;
  memcpy(dst, (const void*)usrc, n);
  return 0;
}

int copy_to_user(uint32_t udst, const void* src, uint32_t n) {
  int r = user_range(udst, n);
  if (r) return r;
  memcpy((void*)udst, src, n);
  return 0;
}

// A NUL-terminated string of at most max-1 characters; page by page, since
// the string's end is unknown.
int copy_string_from_user(char* dst, uint32_t usrc, uint32_t max) {
  for (uint32_t i = 0; i < max; i++) {
    if (i == 0 || ((usrc + i) & (PAGE_SIZE - 1)) == 0)
      if (user_range(usrc + i, 1)) return -EFAULT;
    dst[i] = *(const char*)(usrc + i);
    if (!dst[i]) return (int)i;
  }
  return -E2BIG;
}

// System calls with Linux's i386 `int $0x80` convention: the number in EAX,
// arguments in EBX, ECX, EDX, ESI, EDI, EBP, the result in EAX, -errno on
// failure. Numbers from Linux arch/x86/entry/syscalls/syscall_32.tbl.
#include "kernel.h"
#include "pvops.h"

#define HZ 100

static int sys_brk(uint32_t addr) {
  struct proc* p = current;
  // Linux semantics: the new break, or the unchanged one when refused.
  if (addr < p->brk_base || addr > MMAP_BASE) return (int)p->brk;  // the heap ends where mmap begins
  if (PAGE_ROUND_UP(addr) < PAGE_ROUND_UP(p->brk)) vm_unmap_range(p->pd, PAGE_ROUND_UP(addr), PAGE_ROUND_UP(p->brk));
  p->brk = addr;  // growing only moves the bound: pages come on demand
  return (int)addr;
}

#define PROT_MASK 7
#define MAP_PRIVATE 0x02
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20

// The lowest gap of `len` bytes at or above MMAP_BASE between the mmap
// regions (first fit: unmapped ranges are reused), or 0.
static uint32_t mmap_gap(uint32_t len) {
  uint32_t limit = USER_TOP - STACK_MAX, candidate = MMAP_BASE;
  for (bool moved = true; moved;) {
    moved = false;
    if (len > limit - candidate) return 0;
    for (int i = 0; i < REGION_MAX; i++) {
      const struct region* r = &current->regions[i];
      if (r->kind == REGION_MMAP && r->start < candidate + len && r->end > candidate) {
        candidate = r->end;  // overlaps: try just above this region
        moved = true;
        if (candidate > limit) return 0;
      }
    }
  }
  return candidate;
}

// Anonymous private mappings only; the hint is ignored.
static int sys_mmap2(uint32_t addr, uint32_t len, uint32_t prot, uint32_t flags, int fd) {
  (void)addr;
  if (len == 0 || (prot & ~PROT_MASK) || !(flags & MAP_ANONYMOUS) || !(flags & MAP_PRIVATE) || (flags & MAP_FIXED))
    return -EINVAL;
  (void)fd;
  len = PAGE_ROUND_UP(len);
  uint32_t start = len ? mmap_gap(len) : 0;
  if (!start || !region_add(start, start + len, REGION_MMAP)) return -ENOMEM;
  return (int)start;
}

// old mmap (90) takes one pointer to the six arguments.
static int sys_old_mmap(uint32_t uargs) {
  uint32_t a[6];
  if (copy_from_user(a, uargs, sizeof a) < 0) return -EFAULT;
  if (a[5] & (PAGE_SIZE - 1)) return -EINVAL;
  return sys_mmap2(a[0], a[1], a[2], a[3], (int)a[4]);
}

// Unmaps [addr, addr+len) from the mmap regions, trimming or splitting them.
static int sys_munmap(uint32_t addr, uint32_t len) {
  if ((addr & (PAGE_SIZE - 1)) || len == 0 || addr < USER_BASE || len > USER_TOP - addr) return -EINVAL;
  uint32_t end = PAGE_ROUND_UP(addr + len);
  for (int i = 0; i < REGION_MAX; i++) {
    struct region* r = &current->regions[i];
    if (r->kind != REGION_MMAP || r->end <= addr || r->start >= end) continue;
    uint32_t lo = r->start > addr ? r->start : addr, hi = r->end < end ? r->end : end;
    vm_unmap_range(current->pd, lo, hi);
    if (lo == r->start && hi == r->end) r->kind = REGION_NONE;
    else if (lo == r->start) r->start = hi;
    else if (hi == r->end) r->end = lo;
    else {
      uint32_t old_end = r->end;
      r->end = lo;
      if (!region_add(hi, old_end, REGION_MMAP)) return -ENOMEM;
    }
  }
  return 0;
}

static int sys_nanosleep(uint32_t ureq) {
  uint32_t req[2];
  if (copy_from_user(req, ureq, sizeof req) < 0) return -EFAULT;
  if (req[1] >= 1000000000u) return -EINVAL;
  // Round up to whole ticks of 10 ms: sleep at least as long as asked.
  uint32_t wait = req[0] * HZ + (req[1] + 9999999u) / 10000000u;
  uint32_t until = ticks + wait;
  while ((int32_t)(ticks - until) < 0) {
    sleep_on((const void*)&ticks);
    if (current->killed) return -EINTR;
  }
  return 0;
}

static int sys_clock_gettime(uint32_t clock, uint32_t uts) {
  if (clock > 1) return -EINVAL;  // CLOCK_REALTIME, CLOCK_MONOTONIC: both from boot
  uint32_t t = ticks;
  uint32_t ts[2] = {t / HZ, (t % HZ) * (1000000000u / HZ)};
  return copy_to_user(uts, ts, sizeof ts);
}

// struct new_utsname: six fields of 65 bytes.
static int sys_uname(uint32_t ubuf) {
  static char u[6][65];
  const char* values[6] = {"virtscope", "virtscope", "0.1", "teaching kernel", "i386", "(none)"};
  for (int i = 0; i < 6; i++) {
    memset(u[i], 0, 65);
    memcpy(u[i], values[i], strlen(values[i]));
  }
  return copy_to_user(ubuf, u, sizeof u);
}

static int sys_getppid(void) { return current->parent ? current->parent->pid : 0; }

void syscall_dispatch(struct trapframe* tf) {
  uint32_t a = tf->ebx, b = tf->ecx, c = tf->edx, d = tf->esi, e = tf->edi;
  int r;
  switch (tf->eax) {
    case 1: case 252: proc_exit((int)((a & 0xFF) << 8));
    case 2: r = sys_fork(); break;
    case 3: r = sys_read((int)a, b, c); break;
    case 4: r = sys_write((int)a, b, c); break;
    case 5: r = sys_open(a, (int)b); break;
    case 6: r = sys_close((int)a); break;
    case 7: r = sys_wait4((int)a, b, (int)c); break;  // waitpid(pid, status, options)
    case 11: r = sys_execve(a, b, c); break;
    case 20: r = current->pid; break;
    case 37: r = sys_kill((int)a, (int)b); break;
    case 42: r = sys_pipe(a); break;
    case 45: r = sys_brk(a); break;
    case 63: r = sys_dup2((int)a, (int)b); break;
    case 64: r = sys_getppid(); break;
    case 90: r = sys_old_mmap(a); break;
    case 91: r = sys_munmap(a, b); break;
    case 114: r = sys_wait4((int)a, b, (int)c); break;
    case 122: r = sys_uname(a); break;
    case 158: yield(); r = 0; break;
    case 162: r = sys_nanosleep(a); break;
    case 192: r = sys_mmap2(a, b, c, d, (int)e); break;
    case 265: r = sys_clock_gettime(a, b); break;
    default: r = -ENOSYS; break;
  }
  tf->eax = (uint32_t)r;
}

// Memory system calls: brk, mmap2 and the old mmap (anonymous private
// mappings only), munmap. The regions are the process's AddressSpace; pages
// arrive on demand (address_space.h). Semantics of brk(2), mmap(2),
// munmap(2) as the teaching kernel implements them (guest/kernel/syscall.c).
#include <algorithm>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

void Kernel::unmapped(Process& p, uint32_t start, uint32_t end) {
  // The TLB shootdown: INVLPG of every page when the space is the one the
  // TLBs hold (SDM Vol. 3A §4.10.4.1); the CPU's own cache is dropped whole.
  if (p.mm->id != loaded_space_) return;
  for (uint32_t va = page_down(start); va < end && va >= page_down(start); va += kPageSize) mmu_.invalidate_page(va);
  cpu_.flush_tlb();
}

SysResult Kernel::sys_brk(Process& p, const SyscallArgs& args) {
  AddressSpace& mm = *p.mm;
  const uint32_t addr = args.a[0];
  // Linux: the new break, or the unchanged one when refused. The heap ends where mmap begins.
  if (addr < mm.brk_base || addr > kMmapBase) return SysResult::done(int32_t(mm.brk));
  if (page_up(addr) < page_up(mm.brk)) {
    mm.unmap(page_up(addr), page_up(mm.brk));
    unmapped(p, page_up(addr), page_up(mm.brk));
  }
  mm.brk = addr;  // growing only moves the bound: pages come on demand
  return SysResult::done(int32_t(addr));
}

int32_t Kernel::mmap_anonymous(Process& p, uint32_t len, uint32_t prot, uint32_t flags) {
  // The hint is ignored; no file mappings, no MAP_FIXED yet.
  if (len == 0 || (prot & ~kPROT_MASK) || !(flags & kMAP_ANONYMOUS) || !(flags & kMAP_PRIVATE) || (flags & kMAP_FIXED))
    return -kEINVAL;
  if (len > kUserTop - kPageSize) return -kENOMEM;
  len = page_up(len);
  const uint32_t start = p.mm->mmap_gap(len);
  if (!start) return -kENOMEM;
  p.mm->regions.push_back(Region{start, start + len, RegionKind::Mmap});
  return int32_t(start);
}

SysResult Kernel::sys_mmap2(Process& p, const SyscallArgs& args) {
  return SysResult::done(mmap_anonymous(p, args.a[1], args.a[2], args.a[3]));
}

SysResult Kernel::sys_old_mmap(Process& p, const SyscallArgs& args) {
  uint32_t a[6];  // old mmap (90) takes one pointer to the six arguments
  if (p.mm->copy_in(a, args.a[0], sizeof a) < 0) return SysResult::done(-kEFAULT);
  if (a[5] & (kPageSize - 1)) return SysResult::done(-kEINVAL);
  return SysResult::done(mmap_anonymous(p, a[1], a[2], a[3]));
}

SysResult Kernel::sys_munmap(Process& p, const SyscallArgs& args) {
  const uint32_t addr = args.a[0], len = args.a[1];
  if ((addr & (kPageSize - 1)) || len == 0 || addr < kUserBase || len > kUserTop - addr)
    return SysResult::done(-kEINVAL);
  const uint32_t end = page_up(addr + len);
  std::vector<Region>& regions = p.mm->regions;
  std::vector<Region> split;
  for (auto it = regions.begin(); it != regions.end();) {
    Region& r = *it;
    if (r.kind != RegionKind::Mmap || r.end <= addr || r.start >= end) {
      ++it;
      continue;
    }
    const uint32_t lo = std::max(r.start, addr), hi = std::min(r.end, end);
    p.mm->unmap(lo, hi);
    unmapped(p, lo, hi);
    if (lo == r.start && hi == r.end) {
      it = regions.erase(it);
      continue;
    }
    if (lo == r.start) r.start = hi;
    else if (hi == r.end) r.end = lo;
    else {  // a hole in the middle: two regions
      split.push_back(Region{hi, r.end, RegionKind::Mmap});
      r.end = lo;
    }
    ++it;
  }
  regions.insert(regions.end(), split.begin(), split.end());
  return SysResult::done(0);
}

}  // namespace vs::container_sim

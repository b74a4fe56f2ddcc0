#include "shadow_paging.h"

#include <cstring>

#include "virtscope/mmu/paging.h"

namespace vs::vmm {

namespace {
constexpr uint32_t kFrame = 0xFFFFF000u;
}  // namespace

ShadowPaging::ShadowPaging(uint8_t* host_ram, uint32_t pool_first, uint32_t pool_pages, uint32_t hole_table)
    : ram_(host_ram), hole_(hole_table != 0) {
  for (uint32_t i = pool_pages; i-- > 0;) free_.push_back(pool_first + i * 0x1000);
  root_ = free_.back();
  free_.pop_back();
  std::memset(table(root_), 0, 0x1000);
  if (!hole_) return;
  // The VMM's hole: supervisor only, so ring 3 never reaches it, and out of
  // the guest kernel's reach through its (clamped) segment limits.
  table(root_)[kHoleBase >> 22] = hole_table | mmu::entry::P | mmu::entry::RW;
}

uint32_t ShadowPaging::allocate() {
  if (free_.empty()) return 0;
  const uint32_t page = free_.back();
  free_.pop_back();
  std::memset(table(page), 0, 0x1000);
  tables_.push_back(page);
  return page;
}

bool ShadowPaging::map(uint32_t linear, uint32_t host_phys, bool writable, bool user) {
  uint32_t& pde = table(root_)[linear >> 22];
  if (!(pde & mmu::entry::P)) {
    const uint32_t pt = allocate();
    if (!pt) return false;
    // Rights are decided in the PTE; the PDE allows everything.
    pde = pt | mmu::entry::P | mmu::entry::RW | mmu::entry::US;
  }
  uint32_t& pte = table(pde & kFrame)[(linear >> 12) & 0x3FF];
  if (!(pte & mmu::entry::P)) ++mapped_;
  pte = (host_phys & kFrame) | mmu::entry::P | (writable ? mmu::entry::RW : 0) | (user ? mmu::entry::US : 0);
  return true;
}

bool ShadowPaging::invalidate(uint32_t linear) {
  if (in_hole(linear)) return false;
  const uint32_t pde = table(root_)[linear >> 22];
  if (!(pde & mmu::entry::P)) return false;
  uint32_t& pte = table(pde & kFrame)[(linear >> 12) & 0x3FF];
  if (!(pte & mmu::entry::P)) return false;
  pte = 0;
  --mapped_;
  return true;
}

unsigned ShadowPaging::flush() {
  uint32_t* pd = table(root_);
  for (uint32_t i = 0; i < (hole_ ? kHoleBase >> 22 : 1024); ++i) pd[i] = 0;
  for (uint32_t page : tables_) free_.push_back(page);
  tables_.clear();
  const unsigned dropped = mapped_;
  mapped_ = 0;
  return dropped;
}

}  // namespace vs::vmm

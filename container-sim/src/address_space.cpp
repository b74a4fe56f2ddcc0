#include "address_space.h"

#include <algorithm>
#include <cstring>

#include "linux_abi.h"
#include "virtscope/mmu/paging.h"

namespace vs::container_sim {

namespace {
// Every user entry: present, writable, user (SDM Vol. 3A Table 4-5, 4-6).
constexpr uint32_t kUserEntry = mmu::entry::P | mmu::entry::RW | mmu::entry::US;
constexpr uint32_t pdx(uint32_t va) { return va >> 22; }
constexpr uint32_t ptx(uint32_t va) { return (va >> 12) & 0x3FF; }
}  // namespace

using namespace linux_abi;

AddressSpace::AddressSpace(Frames& frames) : frames_(frames) {
  directory_ = frames_.alloc();
  if (directory_) frames_owned_ = 1;
}

AddressSpace::~AddressSpace() {
  if (!directory_) return;
  auto* dir = reinterpret_cast<uint32_t*>(frames_.host(directory_));
  for (uint32_t i = 0; i < 1024; ++i) {
    if (!(dir[i] & mmu::entry::P)) continue;
    const uint32_t table = dir[i] & mmu::entry::kFrame;
    auto* pt = reinterpret_cast<uint32_t*>(frames_.host(table));
    for (uint32_t j = 0; j < 1024; ++j)
      if (pt[j] & mmu::entry::P) frames_.release(pt[j] & mmu::entry::kFrame);
    frames_.release(table);
  }
  frames_.release(directory_);
}

bool AddressSpace::valid(uint32_t addr) const {
  if (addr < kUserBase || addr >= kUserTop) return false;
  if (addr >= brk_base && addr < page_up(brk)) return true;              // the heap
  if (addr >= kUserTop - kStackMax) return true;                         // the stack
  for (const Region& r : regions)
    if (addr >= r.start && addr < r.end) return true;
  return false;
}

uint32_t AddressSpace::mmap_gap(uint32_t len) const {
  const uint32_t limit = kUserTop - kStackMax;
  uint32_t candidate = kMmapBase;
  for (bool moved = true; moved;) {
    moved = false;
    if (len > limit - candidate) return 0;
    for (const Region& r : regions) {
      if (r.kind == RegionKind::Mmap && r.start < candidate + len && r.end > candidate) {
        candidate = r.end;  // overlaps: try just above this region
        moved = true;
        if (candidate > limit) return 0;
      }
    }
  }
  return candidate;
}

uint32_t* AddressSpace::table_entry(uint32_t va, bool create) {
  auto* dir = reinterpret_cast<uint32_t*>(frames_.host(directory_));
  uint32_t& pde = dir[pdx(va)];
  if (!(pde & mmu::entry::P)) {
    if (!create) return nullptr;
    const uint32_t table = frames_.alloc();
    if (!table) return nullptr;
    ++frames_owned_;
    pde = table | kUserEntry;
  }
  return reinterpret_cast<uint32_t*>(frames_.host(pde & mmu::entry::kFrame)) + ptx(va);
}

bool AddressSpace::map_zero(uint32_t va) {
  uint32_t* pte = table_entry(va, true);
  if (!pte) return false;
  if (*pte & mmu::entry::P) return true;
  const uint32_t page = frames_.alloc();
  if (!page) return false;
  ++frames_owned_;
  *pte = page | kUserEntry;
  return true;
}

uint32_t AddressSpace::unmap(uint32_t start, uint32_t end) {
  uint32_t n = 0;
  for (uint32_t va = page_down(start); va < end && va >= page_down(start); va += kPageSize) {
    uint32_t* pte = table_entry(va, false);
    if (!pte || !(*pte & mmu::entry::P)) continue;
    frames_.release(*pte & mmu::entry::kFrame);
    --frames_owned_;
    *pte = 0;
    ++n;
  }
  return n;
}

int AddressSpace::fault(uint32_t va) {
  if (!valid(va)) return -kEFAULT;
  if (!map_zero(page_down(va))) return -kENOMEM;
  ++frames_.demand_zero;
  return 0;
}

bool AddressSpace::copy_from(const AddressSpace& parent) {
  regions = parent.regions;
  brk_base = parent.brk_base;
  brk = parent.brk;
  const auto* dir = reinterpret_cast<const uint32_t*>(frames_.host(parent.directory_));
  for (uint32_t i = 0; i < 1024; ++i) {
    if (!(dir[i] & mmu::entry::P)) continue;
    const auto* pt = reinterpret_cast<const uint32_t*>(frames_.host(dir[i] & mmu::entry::kFrame));
    for (uint32_t j = 0; j < 1024; ++j) {
      if (!(pt[j] & mmu::entry::P)) continue;
      const uint32_t va = i << 22 | j << 12;
      uint32_t* pte = table_entry(va, true);
      const uint32_t page = pte ? frames_.alloc() : 0;
      if (!page) return false;
      ++frames_owned_;
      std::memcpy(frames_.host(page), frames_.host(pt[j] & mmu::entry::kFrame), kPageSize);
      *pte = page | (pt[j] & 0xFFF);  // the same rights, accessed and dirty bits
    }
  }
  return true;
}

uint32_t AddressSpace::phys_of(uint32_t va) {
  const uint32_t* pte = table_entry(va, false);
  return (*pte & mmu::entry::kFrame) | (va & (kPageSize - 1));
}

int AddressSpace::user_range(uint32_t va, uint32_t n) {
  if (va < kUserBase || va >= kUserTop || n > kUserTop - va) return -kEFAULT;
  if (n == 0) return 0;
  for (uint32_t page = page_down(va); page < va + n; page += kPageSize) {
    const uint32_t* pte = table_entry(page, false);
    if (pte && (*pte & mmu::entry::P)) continue;
    if (fault(page) != 0) return -kEFAULT;
  }
  return 0;
}

int AddressSpace::copy_in(void* dst, uint32_t va, uint32_t n) {
  if (const int r = user_range(va, n)) return r;
  auto* out = static_cast<uint8_t*>(dst);
  while (n > 0) {
    const uint32_t k = std::min(n, kPageSize - (va & (kPageSize - 1)));
    std::memcpy(out, frames_.host(phys_of(va)), k);
    out += k, va += k, n -= k;
  }
  return 0;
}

int AddressSpace::copy_out(uint32_t va, const void* src, uint32_t n) {
  if (const int r = user_range(va, n)) return r;
  const auto* in = static_cast<const uint8_t*>(src);
  while (n > 0) {
    const uint32_t k = std::min(n, kPageSize - (va & (kPageSize - 1)));
    const uint32_t phys = phys_of(va);
    std::memcpy(frames_.host(phys), in, k);
    frames_.written(phys, k);
    in += k, va += k, n -= k;
  }
  return 0;
}

int AddressSpace::copy_string(std::string& out, uint32_t va, uint32_t max) {
  out.clear();
  for (uint32_t i = 0; i < max; ++i) {
    if ((i == 0 || ((va + i) & (kPageSize - 1)) == 0) && user_range(va + i, 1)) return -kEFAULT;
    const char c = char(*frames_.host(phys_of(va + i)));
    if (c == 0) return int(i);
    out.push_back(c);
  }
  return -kE2BIG;
}

}  // namespace vs::container_sim

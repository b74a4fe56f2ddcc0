#include "address_space.h"

#include <algorithm>
#include <cstring>

#include "cgroup.h"
#include "linux_abi.h"
#include "virtscope/mmu/paging.h"

namespace vs::container_sim {

namespace {
// Every user entry: present, writable, user (SDM Vol. 3A Table 4-5, 4-6).
constexpr uint32_t kUserEntry = mmu::entry::P | mmu::entry::RW | mmu::entry::US;
constexpr uint32_t pdx(uint32_t va) { return va >> 22; }
constexpr uint32_t ptx(uint32_t va) { return (va >> 12) & 0x3FF; }
}  // namespace

// Keeps reclaim off a space's pages while the kernel works on them.
struct Pin {
  explicit Pin(AddressSpace& s) : space(s) { ++space.pinned_; }
  ~Pin() { --space.pinned_; }
  AddressSpace& space;
};

using namespace linux_abi;

AddressSpace::AddressSpace(Frames& frames) : frames_(frames) {
  // The process this space is made for: fork's child, a spawned process,
  // or the caller of execve (memory_pressure.cpp, new_space_owner).
  if (frames_.charger()) memcg_ = frames_.charger()->new_space_owner();
  directory_ = frames_.alloc(memcg_, kUsePageTable, this);
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
    // A page table is charged like a page (Linux charges them as kernel
    // memory, GFP_PGTABLE_USER includes __GFP_ACCOUNT: memory.stat pagetables).
    const uint32_t table = frames_.alloc(memcg_, kUsePageTable, this);
    if (!table) return nullptr;
    ++frames_owned_;
    pde = table | kUserEntry;
  }
  return reinterpret_cast<uint32_t*>(frames_.host(pde & mmu::entry::kFrame)) + ptx(va);
}

bool AddressSpace::map_new(uint32_t va, MemUse use, const uint8_t* bytes, uint32_t flags) {
  uint32_t* pte = table_entry(va, true);
  if (!pte) return false;
  if (*pte & mmu::entry::P) return true;
  const uint32_t page = frames_.alloc(memcg_, use, this, va);
  if (!page) return false;
  // The charge may have reclaimed or killed, never this space's tables:
  // `pte` still points at the entry.
  ++frames_owned_;
  if (bytes) std::memcpy(frames_.host(page), bytes, kPageSize);
  *pte = page | flags;
  frames_.info(page).pte = pte_phys(pte);
  return true;
}

bool AddressSpace::map_zero(uint32_t va) { return map_new(va, kUseAnon, nullptr, kUserEntry); }

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

void AddressSpace::seal_image() {
  sealed_ = true;
  auto image = std::make_shared<std::map<uint32_t, std::vector<uint8_t>>>();
  for (const Region& r : regions) {
    if (r.kind != RegionKind::Image) continue;
    for (uint32_t va = r.start; va < r.end; va += kPageSize) {
      const uint32_t* pte = table_entry(va, false);
      if (!pte || !(*pte & mmu::entry::P)) continue;
      const uint8_t* bytes = frames_.host(*pte & mmu::entry::kFrame);
      (*image)[va].assign(bytes, bytes + kPageSize);
      frames_.set_use(*pte & mmu::entry::kFrame, kUseFile);
    }
  }
  image_ = std::move(image);
}

int AddressSpace::fault(uint32_t va) {
  in_cpu_fault_ = true;
  const int r = fault_in(va);
  in_cpu_fault_ = false;
  return r;
}

void AddressSpace::faulting_instruction(uint32_t eip) {
  if (eip == fault_eip_) return;
  fault_eip_ = eip;
  fault_count_ = 0;
}

bool AddressSpace::needed_by_faulting_instruction(uint32_t va) const {
  for (uint32_t i = 0; i < fault_count_ && i < std::size(fault_pages_); ++i)
    if (fault_pages_[i] == va) return true;
  return false;
}

int AddressSpace::fault_in(uint32_t va) {
  if (!valid(va)) return -kEFAULT;
  va = page_down(va);
  // The first touch outside the image is build_stack's, right after
  // load_elf filled every image page from the file: what they hold now is
  // the file's bytes, and from here on a write to one makes it anonymous.
  if (!sealed_) {
    bool in_image = false;
    for (const Region& r : regions) in_image |= r.kind == RegionKind::Image && va >= r.start && va < r.end;
    if (!in_image) seal_image();
  }
  if (memcg_) memcg_count(*memcg_, kPgfault);
  if (image_) {
    const auto it = image_->find(va);
    if (it != image_->end()) {
      // A reclaimed image page: read back from the executable (a major fault).
      if (!map_new(va, kUseFile, it->second.data(), kUserEntry)) return -kENOMEM;
      if (in_cpu_fault_) fault_pages_[fault_count_++ % std::size(fault_pages_)] = va;
      ++frames_.major_faults;
      if (memcg_) memcg_count(*memcg_, kPgmajfault);
      return 0;
    }
  }
  if (!map_zero(va)) return -kENOMEM;
  ++frames_.demand_zero;
  return 0;
}

bool AddressSpace::evict(uint32_t va) {
  uint32_t* pte = table_entry(va, false);
  if (!pte || !(*pte & mmu::entry::P)) return false;
  const uint32_t page = *pte & mmu::entry::kFrame;
  if (frames_.info(page).use != kUseFile) return false;
  if (*pte & mmu::entry::D) {  // written since it was read: no longer the file's bytes
    frames_.set_use(page, kUseAnon);
    return false;
  }
  *pte = 0;
  frames_.release(page);
  --frames_owned_;
  return true;
}

bool AddressSpace::test_and_clear_accessed(uint32_t va) {
  uint32_t* pte = table_entry(va, false);
  if (!pte || !(*pte & mmu::entry::A)) return false;
  *pte &= ~mmu::entry::A;
  return true;
}

bool AddressSpace::copy_from(const AddressSpace& parent) {
  // Reclaim must not take the parent's pages while they are being copied.
  Pin pin_child(*this), pin_parent(const_cast<AddressSpace&>(parent));
  regions = parent.regions;
  brk_base = parent.brk_base;
  brk = parent.brk;
  image_ = parent.image_;  // the same executable behind both
  sealed_ = parent.sealed_;
  const auto* dir = reinterpret_cast<const uint32_t*>(frames_.host(parent.directory_));
  for (uint32_t i = 0; i < 1024; ++i) {
    if (!(dir[i] & mmu::entry::P)) continue;
    const auto* pt = reinterpret_cast<const uint32_t*>(frames_.host(dir[i] & mmu::entry::kFrame));
    for (uint32_t j = 0; j < 1024; ++j) {
      if (!(pt[j] & mmu::entry::P)) continue;
      const uint32_t va = i << 22 | j << 12;
      const uint32_t from = pt[j] & mmu::entry::kFrame;
      // A clean file page is the file's bytes in the copy too.
      const bool file = frames_.info(from).use == kUseFile && !(pt[j] & mmu::entry::D);
      // the same rights, accessed and dirty bits
      if (!map_new(va, file ? kUseFile : kUseAnon, frames_.host(from), pt[j] & 0xFFF)) return false;
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
    if (fault_in(page) != 0) return -kEFAULT;
  }
  return 0;
}

int AddressSpace::copy_in(void* dst, uint32_t va, uint32_t n) {
  Pin pin(*this);
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
  Pin pin(*this);
  if (const int r = user_range(va, n)) return r;
  const auto* in = static_cast<const uint8_t*>(src);
  while (n > 0) {
    const uint32_t k = std::min(n, kPageSize - (va & (kPageSize - 1)));
    const uint32_t phys = phys_of(va);
    std::memcpy(frames_.host(phys), in, k);
    frames_.written(phys, k);
    // The kernel wrote the page as the CPU would have: dirty (SDM Vol. 3A
    // §4.8) — once the image is loaded, a file page written is anonymous.
    if (sealed_ && frames_.info(phys & mmu::entry::kFrame).use == kUseFile) {
      *table_entry(va, false) |= mmu::entry::D;
      frames_.set_use(phys & mmu::entry::kFrame, kUseAnon);
    }
    in += k, va += k, n -= k;
  }
  return 0;
}

int AddressSpace::copy_path(std::string& out, uint32_t va) {
  constexpr int kE2BIG = 7, kENAMETOOLONG = 36;  // linux_abi.h's values
  const int r = copy_string(out, va, 4096);
  return r == -kE2BIG ? -kENAMETOOLONG : r < 0 ? r : 0;
}

int AddressSpace::copy_string(std::string& out, uint32_t va, uint32_t max) {
  Pin pin(*this);
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

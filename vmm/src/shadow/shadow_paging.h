// The pool of shadow page tables (trap, bt and hvm-shadow): the tables the
// real MMU walks, mapping guest-linear addresses straight to host-physical
// ones, built by the VMM from the guest's own tables (which the real MMU
// never sees). ../shared/SEMANTICS.md §9.
//
// Entries are filled on demand, at the page fault a missing entry causes
// ("hidden" faults, invisible to the guest), and dropped at least when a
// real TLB would have to drop them: everything on a guest CR3 load or
// paging-mode change, one page on INVLPG (SDM Vol. 3A §4.10.4). On top of
// that the VMM write-protects ("traces") the guest's page-table pages and
// drops the entries a guest store changes (shadow_tracing.cpp). ShadowMmu
// (shadow_mmu.h) decides what goes in; this class only holds the entries.
#pragma once

#include <cstdint>
#include <vector>

namespace vs::vmm {

class ShadowPaging {
 public:
  // Pages come from host RAM [pool_first, pool_first + pool_pages * 4 KiB)
  // at `host_ram` (host-physical 0). `hole_table` is the host-physical page
  // table the VMM keeps in the top 4 MiB of every address space (the trap
  // VMM's GDT; the guest's segments stop below it), or 0 for none (under
  // VT-x the guest keeps its whole linear space).
  ShadowPaging(uint8_t* host_ram, uint32_t pool_first, uint32_t pool_pages, uint32_t hole_table);

  static constexpr uint32_t kHoleBase = 0xFFC00000u;  // linear: the VMM's 4 MiB
  bool in_hole(uint32_t linear) const { return hole_ && linear >= kHoleBase; }

  uint32_t root() const { return root_; }  // host-physical page directory: the real CR3
  // Maps one 4 KiB page. Returns false when the pool is exhausted (the
  // caller flushes and retries).
  bool map(uint32_t linear, uint32_t host_phys, bool writable, bool user);
  // Drops the entry for `linear`; returns whether one was there.
  bool invalidate(uint32_t linear);
  // Drops every guest entry (the VMM's hole stays); returns how many.
  unsigned flush();

 private:
  uint32_t* table(uint32_t host_phys) const { return reinterpret_cast<uint32_t*>(ram_ + host_phys); }
  uint32_t allocate();

  uint8_t* ram_;
  bool hole_;     // the top 4 MiB are the VMM's
  uint32_t root_;
  std::vector<uint32_t> free_;   // host-physical pages for page tables
  std::vector<uint32_t> tables_; // page tables in use, to return on flush
  unsigned mapped_ = 0;
};

}  // namespace vs::vmm

// The paging MMU (DESIGN.md §2 mmu/): 32-bit paging with 4 KiB and 4 MiB
// pages, accessed and dirty bits, page-level protection with CR0.WP, global
// pages, #PF error codes, and a TLB model with counters students can read
// (Intel SDM Vol. 3A ch. 4). No PAE, no PSE-36, no PAT.
//
// Wiring: the CPU calls translate() whenever paging is on and its own small
// host-pointer cache misses, and tells the MMU about INVLPG and CR0/CR3/CR4
// writes through invalidate_page()/flush(). The platform should add
// Mmu::kCpuidFeatures (PSE | PGE) to CpuConfig::cpuid_features when it
// attaches an MMU, so CPUID claims what the MMU implements.
//
// Events: PageFault (linear, error_code, cr3) for every #PF translate()
// answers; TlbFlush (cause 0 = CR3 load keeping globals, 1 = INVLPG, 2 =
// everything; linear; entries dropped); opt-in PageWalk (linear, pde, pte or
// 0 for a 4 MiB page or a walk that stopped at the PDE, phys or 0 when the
// walk found no translation) for every real walk.
//
// A faulting access changes nothing in memory: A and D bits are written only
// when the access is allowed (the SDM leaves it open whether a processor sets
// A in a PDE whose walk then faults; virtscope keeps memory clean so a lesson
// sees exactly one cause per fault).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "virtscope/cpu/bus.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/mmu/paging.h"
#include "virtscope/mmu/tlb.h"

namespace vs::trace {
class EventLog;
struct VirtualTime;
}

namespace vs::mmu {

struct MmuConfig {
  // Entries of the 4 KiB TLB (4-way: rounded up to a multiple of 4, clamped
  // to Tlb::kMaxEntries); the 4 MiB TLB is a fixed 8 entries beside it.
  // 64 is the P6 data TLB (tlb.h). 0: no TLB at all, every access walks.
  unsigned tlb_entries = 64;
};

// Counters for the UI and lessons. reset_stats() zeroes them.
struct MmuStats {
  uint64_t hits = 0;               // translate() found the page in the TLB
  uint64_t misses = 0;             // it did not, and walked the tables
  uint64_t walks = 0;              // table walks: misses plus writes through a clean entry
  uint64_t full_flushes = 0;       // flush(true): everything, globals too
  uint64_t nonglobal_flushes = 0;  // flush(false): a CR3 load
  uint64_t invlpgs = 0;            // invalidate_page()
  uint64_t evictions = 0;          // a fill replaced a valid entry (the page's set was full)
  uint64_t page_faults = 0;        // translate() answered #PF
  uint64_t walk_references = 0;    // memory references made by walks (guest entries + nested entries)
  uint64_t nested_walks = 0;       // second-stage walks (one per guest-physical address translated)
  uint64_t nested_walk_references = 0;  // nested entries read by them
  uint64_t nested_faults = 0;      // EPT violations translate() answered
  uint64_t nested_flushes = 0;     // flush_nested()
};

// What a snapshot keeps: the TLB slots (in tlb_entries() order; load_state
// rejects an entry in a slot its page could not occupy), its LRU clock and
// the counters. The platform writes the fields with its own state writer
// (mmu does not depend on devices/) and hands them back to load_state().
struct MmuState {
  std::vector<TlbEntry> tlb;
  uint64_t tlb_clock = 0;
  MmuStats stats;
};

class Mmu final : public cpu::Translator {
 public:
  // Virtual time for event timestamps (e.g. the CPU's instruction count).
  using Clock = std::function<uint64_t()>;
  // What CPUID leaf 1 EDX should claim with this MMU attached.
  static constexpr uint32_t kCpuidFeatures = cpu::cpuid_edx::PSE | cpu::cpuid_edx::PGE;

  Mmu(cpu::MemoryBus& memory, trace::EventLog& log, Clock clock = {}, MmuConfig config = {});

  // --- cpu::Translator ---
  cpu::Translation translate(uint32_t linear, cpu::Access access, bool user, uint32_t cr0,
                             uint32_t cr3, uint32_t cr4) override;
  void invalidate_page(uint32_t linear) override;
  void flush(bool including_global) override;

  // Side-effect free: walks the tables for `linear` as the processor would
  // (reading through MemoryBus::peek or host pages), says what each level
  // holds and what `query` would get. Sets no A/D bit, leaves the TLB and
  // the counters alone and emits nothing.
  WalkResult walk(uint32_t linear, uint32_t cr3, uint32_t cr4, AccessQuery query = {}) const;
  // The same, in both dimensions when nested paging is on (cr0 says whether
  // the guest pages): every memory reference in order, appended to `refs`.
  WalkResult walk(uint32_t linear, uint32_t cr0, uint32_t cr3, uint32_t cr4, AccessQuery query,
                  std::vector<WalkReference>& refs) const;

  // --- nested paging (EPT model; nested.cpp, docs/hvm-hardware.md) ---
  // With nested paging every guest-physical address (guest PDE/PTE
  // addresses and the final page, or the linear address itself when the
  // guest has paging off) is translated again through the nested tables at
  // `root`. A missing or insufficient nested entry is reported as
  // Translation::nested_fault (the CPU's EPT-violation VM exit), never #PF.
  // The TLB caches the combined linear -> host-physical translation.
  // Setting or clearing it flushes the TLB. The CPU must also be told
  // (VmxControls::nested_paging), so it translates with its paging off too.
  void set_nested(std::optional<NestedPaging> nested);
  const std::optional<NestedPaging>& nested() const { return nested_; }
  // The VMM changed the nested tables (INVEPT): drop every combined
  // translation. The CPU's own cache must be flushed too (Cpu::flush_tlb()).
  void flush_nested();

  // --- the TLB model ---
  // Every slot of both arrays, valid or not: the 4 KiB sets in order (4
  // ways each), then the 4 MiB sets (Tlb::entries()).
  const std::vector<TlbEntry>& tlb_entries() const { return tlb_.entries(); }
  unsigned tlb_capacity() const { return tlb_.capacity(); }  // both arrays: tlb_entries().size()
  const Tlb& tlb() const { return tlb_; }                    // geometry: sets, ways, set_base()
  const MmuStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

  MmuState save_state() const;
  // nullptr on success; otherwise why the state is impossible (nothing changed).
  const char* load_state(const MmuState& state);

 private:
  cpu::Translation walk_and_fill(uint32_t linear, const AccessQuery& q, uint32_t cr0, uint32_t cr3, uint32_t cr4);
  cpu::Translation page_fault(uint32_t linear, uint32_t error_code, uint32_t cr3);
  static cpu::Translation hit(const TlbEntry& e, uint32_t linear, const AccessQuery& q);
  void set_accessed_and_dirty(const WalkResult& walk, bool write);
  // The walk itself (walk.cpp): reads the entries (through peek() when
  // `peek`) and judges `q` against what it found.
  WalkResult read_tables(uint32_t linear, uint32_t cr3, uint32_t cr4, const AccessQuery& q,
                         bool peek, std::vector<WalkReference>* refs = nullptr) const;
  // Nested paging (nested.cpp): the two-dimensional walk (guest paging on or
  // off), the second-stage walk of one guest-physical address, and the
  // verdict on an access through a cached combined translation.
  WalkResult read_tables_nested(uint32_t linear, uint32_t cr0, uint32_t cr3, uint32_t cr4, const AccessQuery& q,
                                bool peek, std::vector<WalkReference>* refs) const;
  bool nested_translate(uint32_t guest_physical, cpu::Access access, bool final_page, bool peek, WalkResult& r,
                        uint32_t& host, uint8_t& rights, std::vector<WalkReference>* refs) const;
  cpu::Translation nested_fault(uint32_t guest_physical, uint32_t qualification);
  bool entry_location(WalkResult& r, uint32_t address, unsigned level, bool peek, uint32_t& host, bool& writable,
                      std::vector<WalkReference>* refs) const;
  uint64_t read_entry64(uint32_t phys, bool peek) const;
  uint32_t read_entry(uint32_t phys, bool peek) const;
  void or_entry(uint32_t phys, uint32_t bits);
  trace::VirtualTime now() const;

  cpu::MemoryBus& memory_;
  trace::EventLog& log_;
  Clock clock_;
  Tlb tlb_;
  MmuStats stats_;
  std::optional<NestedPaging> nested_;
  bool nested_large_seen_ = false;  // a combined 4 KiB entry came from a guest 4 MiB page (INVLPG flushes all)
};

}  // namespace vs::mmu

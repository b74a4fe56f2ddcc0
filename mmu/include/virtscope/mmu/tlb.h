// The architectural TLB model (SDM Vol. 3A §4.10.2): a small, fully
// associative cache of translations with least-recently-used replacement,
// the one students watch fill, hit and flush. Each entry caches what a
// successful walk found: the page and frame, the rights ANDed over the
// levels, whether D was already set in memory, and whether it is global.
//
// This is not the CPU's own host-pointer cache (cpu/src/core.h), which sits
// in front of the MMU and only asks it on its own misses.
#pragma once

#include <cstdint>
#include <vector>

namespace vs::mmu {

struct TlbEntry {
  bool valid = false;
  bool large = false;     // a 4 MiB page (else 4 KiB)
  bool global = false;    // G with CR4.PGE = 1: kept across CR3 loads (§4.10.2.4)
  bool writable = false;  // R/W of every level ANDed
  bool user = false;      // U/S of every level ANDed
  bool dirty = false;     // D is known to be set in memory
  uint32_t linear = 0;    // linear base of the page (4 KiB or 4 MiB aligned)
  uint32_t phys = 0;      // physical base of the frame (same alignment)
  uint64_t last_used = 0; // LRU stamp: the Tlb clock at the last fill or hit

  uint32_t page_mask() const { return large ? 0xFFC00000u : 0xFFFFF000u; }
  bool covers(uint32_t lin) const { return valid && ((lin ^ linear) & page_mask()) == 0; }
  uint32_t translate(uint32_t lin) const { return phys | (lin & ~page_mask()); }
};

class Tlb {
 public:
  static constexpr unsigned kMaxEntries = 4096;

  // `capacity` entries (clamped to kMaxEntries); 0 caches nothing.
  explicit Tlb(unsigned capacity);

  unsigned capacity() const { return unsigned(slots_.size()); }
  // The valid entry covering `linear`, stamped most recently used; nullptr on a miss.
  TlbEntry* lookup(uint32_t linear);
  // Stores a translation in a free slot, else over the least recently used
  // entry (the lowest slot wins a tie). Returns true if a valid entry was evicted.
  bool insert(TlbEntry entry);
  // Drops every entry covering `linear`; returns how many were valid.
  unsigned invalidate(uint32_t linear);
  // Drops every entry, or every non-global one; returns how many were valid.
  unsigned flush(bool including_global);
  unsigned valid_count() const;

  // Every slot in order, valid or not (the UI shows the valid ones).
  const std::vector<TlbEntry>& entries() const { return slots_; }
  uint64_t clock() const { return clock_; }
  // Replaces the contents (snapshots). Returns nullptr on success, else why
  // the data is impossible (then nothing changes).
  const char* restore(const std::vector<TlbEntry>& entries, uint64_t clock);

 private:
  std::vector<TlbEntry> slots_;
  uint64_t clock_ = 0;  // advances on every fill and hit
};

}  // namespace vs::mmu

// The architectural TLB model (SDM Vol. 3A §4.10.2), the one students watch
// fill, hit and flush. Each entry caches what a successful walk found: the
// page and frame, the rights ANDed over the levels, whether D was already
// set in memory, and whether it is global.
//
// Shape: the P6 family's data TLB. The Pentium Pro's CPUID leaf 2 reports
// descriptor 03H "Data TLB: 4K-byte pages, 4-way set associative, 64
// entries" and 04H "Data TLB: 4M-byte pages, 4-way set associative, eight
// entries" (Pentium Pro Family Developer's Manual Vol. 2, CPUID, Table 3-9;
// SDM Vol. 2A CPUID leaf 2 descriptor table). So virtscope keeps two arrays,
// both 4-way set associative and both counted in the same MmuStats:
//
//   4 KiB pages: Tlb(n) entries (MmuConfig::tlb_entries, default 64 as on
//     the P6), rounded up to a multiple of 4 ways and clamped to
//     kMaxEntries; n / 4 sets. A page goes to set (linear >> 12) mod sets:
//     the low bits of the linear page number when the set count is a power
//     of two (16 sets for 64 entries), as in every real TLB.
//   4 MiB pages: fixed at 8 entries = 2 sets of 4 ways, picked by linear
//     bit 22 (the low bit of the 4 MiB page number). Not configurable.
//   Tlb(0): no TLB at all, neither array; every access walks.
//
// A lookup searches one set of each array (4 KiB first, then 4 MiB), so
// every operation but flush() touches at most 8 slots.
//
// Replacement: within a set only, a free way first (the lowest), else the
// least recently used way, by `last_used` stamps from one counter that
// advances on every fill and hit (no wall clock: the same accesses always
// leave the same entries). Intel does not document the P6's TLB
// replacement policy; real TLBs usually approximate LRU (pseudo-LRU), and
// virtscope uses true LRU because it is the one a student can predict.
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
  uint8_t nested_rights = 7;  // nested paging: R/W/X (bits 0-2) of the guest-physical page; 7 without
  uint32_t linear = 0;    // linear base of the page (4 KiB or 4 MiB aligned)
  uint32_t phys = 0;      // physical base of the frame (same alignment)
  uint64_t last_used = 0; // LRU stamp: the Tlb clock at the last fill or hit

  uint32_t page_mask() const { return large ? 0xFFC00000u : 0xFFFFF000u; }
  bool covers(uint32_t lin) const { return valid && ((lin ^ linear) & page_mask()) == 0; }
  uint32_t translate(uint32_t lin) const { return phys | (lin & ~page_mask()); }
};

class Tlb {
 public:
  static constexpr unsigned kWays = 4;          // both arrays (CPUID descriptors 03H, 04H)
  static constexpr unsigned kLargeEntries = 8;  // the 4 MiB array (descriptor 04H)
  static constexpr unsigned kLargeSets = kLargeEntries / kWays;
  static constexpr unsigned kMaxEntries = 4096;  // cap on the 4 KiB array

  // `entries` 4 KiB entries (rounded up to a multiple of kWays, clamped to
  // kMaxEntries) plus the 4 MiB array; 0 caches nothing at all.
  explicit Tlb(unsigned entries);

  // Every slot, both arrays: entries().size().
  unsigned capacity() const { return unsigned(slots_.size()); }
  unsigned small_entries() const { return small_sets_ * kWays; }
  unsigned small_sets() const { return small_sets_; }
  unsigned large_entries() const { return small_sets_ ? kLargeEntries : 0; }
  // The slot of way 0 of the set a page of that size would be cached in
  // (the set's ways are the kWays slots from there). Needs capacity() > 0.
  unsigned set_base(uint32_t linear, bool large) const;

  // The valid entry covering `linear` (the 4 KiB set first, then the 4 MiB
  // set), stamped most recently used; nullptr on a miss.
  TlbEntry* lookup(uint32_t linear);
  // Stores a translation in its set: over a way already holding that page
  // (a refresh, not an eviction), else in the first free way, else over the
  // least recently used way (the lowest wins a tie). Returns true if a
  // valid entry of another page was evicted.
  bool insert(TlbEntry entry);
  // Drops the entries covering `linear` (a 4 KiB one in its set, a 4 MiB
  // one in its set); returns how many were valid.
  unsigned invalidate(uint32_t linear);
  // Drops every entry, or every non-global one; returns how many were valid.
  unsigned flush(bool including_global);
  unsigned valid_count() const { return valid_[0] + valid_[1]; }

  // Every slot, valid or not (the UI shows the valid ones). Layout: the 4
  // KiB sets in order, kWays slots each (set s = slots 4s .. 4s+3), then the
  // 4 MiB sets the same way (from slot small_entries()).
  const std::vector<TlbEntry>& entries() const { return slots_; }
  uint64_t clock() const { return clock_; }
  // Replaces the contents (snapshots). Returns nullptr on success, else why
  // the data is impossible (then nothing changes): a different slot count,
  // a misaligned page, an entry in a slot where insert() could not have put
  // it (wrong array or wrong set), two entries for one page, or a stamp
  // later than the clock.
  const char* restore(const std::vector<TlbEntry>& entries, uint64_t clock);

 private:
  static constexpr uint32_t kSmallPageMask = 0xFFFFF000u;  // linear bits that name a 4 KiB page
  static constexpr uint32_t kLargePageMask = 0xFFC00000u;  // ... a 4 MiB page
  TlbEntry* find(unsigned base, uint32_t page);
  void drop(TlbEntry& e);

  std::vector<TlbEntry> slots_;
  unsigned small_sets_ = 0;
  bool small_sets_pow2_ = true;  // then the set is a mask of the page number, not a division
  // Valid slots in the 4 KiB [0] and 4 MiB [1] arrays: a lookup skips an
  // empty array, and an empty TLB flushes for free.
  unsigned valid_[2] = {0, 0};
  uint64_t clock_ = 0;           // advances on every fill and hit
};

// Inline: every access that misses the CPU's own cache of host pointers
// asks the model first (the miss path of `bench mem`).

// Set-associative indexing: the low bits of the page number pick the set
// (linear bits 12 and up for 4 KiB pages, 22 and up for 4 MiB pages).
inline unsigned Tlb::set_base(uint32_t linear, bool large) const {
  if (large) return small_entries() + (linear >> 22) % kLargeSets * kWays;
  const uint32_t page = linear >> 12;
  return (small_sets_pow2_ ? page & (small_sets_ - 1) : page % small_sets_) * kWays;
}

// The valid way of the set at `base` holding `page` (aligned to the array's
// page size, which every entry of that array has).
inline TlbEntry* Tlb::find(unsigned base, uint32_t page) {
  TlbEntry* set = &slots_[base];
  for (unsigned w = 0; w < kWays; ++w)
    if (set[w].linear == page && set[w].valid) return &set[w];
  return nullptr;
}

// The hardware searches both arrays at once; the model looks in the 4 KiB
// set first and skips an array with nothing valid in it (also a TLB of no
// entries at all).
inline TlbEntry* Tlb::lookup(uint32_t linear) {
  TlbEntry* e = valid_[0] ? find(set_base(linear, false), linear & kSmallPageMask) : nullptr;
  if (!e && valid_[1]) e = find(set_base(linear, true), linear & kLargePageMask);
  if (e) e->last_used = ++clock_;
  return e;
}

}  // namespace vs::mmu

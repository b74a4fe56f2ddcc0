// The TLB model: two 4-way set-associative arrays (4 KiB and 4 MiB pages,
// tlb.h explains the P6 sizes), least-recently-used replacement within a set
// driven by a counter (no wall clock), so the same accesses always leave the
// same entries. Every operation but flush() looks at one set of each array.
#include "virtscope/mmu/tlb.h"

#include <algorithm>

namespace vs::mmu {


Tlb::Tlb(unsigned entries) {
  const unsigned small = (std::min(entries, kMaxEntries) + kWays - 1) / kWays * kWays;
  small_sets_ = small / kWays;
  small_sets_pow2_ = (small_sets_ & (small_sets_ - 1)) == 0;
  slots_.resize(small ? small + kLargeEntries : 0);
}



void Tlb::drop(TlbEntry& e) {
  e.valid = false;
  --valid_[e.large];
}


bool Tlb::insert(TlbEntry entry) {
  if (slots_.empty()) return false;
  entry.valid = true;
  entry.linear &= entry.page_mask();
  entry.phys &= entry.page_mask();
  entry.last_used = ++clock_;
  // Within the page's set: a way already holding the page (refreshed in
  // place), else the first free way, else the least recently used way.
  TlbEntry* set = &slots_[set_base(entry.linear, entry.large)];
  if (TlbEntry* same = find(set - slots_.data(), entry.linear)) {
    *same = entry;
    return false;
  }
  TlbEntry* victim = set;
  for (unsigned w = 0; w < kWays; ++w) {
    if (!set[w].valid) {
      ++valid_[entry.large];
      set[w] = entry;
      return false;
    }
    if (set[w].last_used < victim->last_used) victim = &set[w];
  }
  *victim = entry;
  return true;
}

// A 4 KiB entry and a 4 MiB entry may both cover `linear` (the tables were
// changed without INVLPG): both go.
unsigned Tlb::invalidate(uint32_t linear) {
  unsigned dropped = 0;
  if (TlbEntry* e = valid_[0] ? find(set_base(linear, false), linear & kSmallPageMask) : nullptr) {
    drop(*e);
    ++dropped;
  }
  if (TlbEntry* e = valid_[1] ? find(set_base(linear, true), linear & kLargePageMask) : nullptr) {
    drop(*e);
    ++dropped;
  }
  return dropped;
}

// Linear in the slots (flushes are rare next to lookups), but stops once it
// has seen every valid entry, and an empty TLB costs nothing.
unsigned Tlb::flush(bool including_global) {
  unsigned dropped = 0;
  unsigned left = valid_count();
  for (auto e = slots_.begin(); left > 0 && e != slots_.end(); ++e) {
    if (!e->valid) continue;
    --left;
    if (including_global || !e->global) {
      drop(*e);
      ++dropped;
    }
  }
  return dropped;
}

const char* Tlb::restore(const std::vector<TlbEntry>& entries, uint64_t clock) {
  if (entries.size() != slots_.size()) return "TLB: entry count differs from this MMU's capacity";
  unsigned valid[2] = {0, 0};
  for (unsigned i = 0; i < entries.size(); ++i) {
    const TlbEntry& e = entries[i];
    if (!e.valid) continue;
    ++valid[e.large];
    if ((e.linear | e.phys) & ~e.page_mask()) return "TLB: an entry's page is not aligned to its size";
    if (e.large != (i >= small_entries())) return "TLB: an entry is in the array for the other page size";
    const unsigned base = set_base(e.linear, e.large);
    if (i < base || i >= base + kWays) return "TLB: an entry is not in the set its page maps to";
    for (unsigned j = base; j < i; ++j)
      if (entries[j].valid && entries[j].linear == e.linear) return "TLB: two entries for the same page";
    if (e.last_used > clock) return "TLB: an entry was used after the clock";
  }
  slots_ = entries;
  clock_ = clock;
  valid_[0] = valid[0];
  valid_[1] = valid[1];
  return nullptr;
}

}  // namespace vs::mmu

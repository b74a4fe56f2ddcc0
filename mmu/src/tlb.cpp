// The TLB model: a fully associative array searched in slot order, with
// least-recently-used replacement driven by a counter (no wall clock), so the
// same accesses always leave the same entries.
#include "virtscope/mmu/tlb.h"

#include <algorithm>

namespace vs::mmu {

Tlb::Tlb(unsigned capacity) : slots_(std::min(capacity, kMaxEntries)) {}

TlbEntry* Tlb::lookup(uint32_t linear) {
  for (TlbEntry& e : slots_) {
    if (e.covers(linear)) {
      e.last_used = ++clock_;
      return &e;
    }
  }
  return nullptr;
}

bool Tlb::insert(TlbEntry entry) {
  if (slots_.empty()) return false;
  // The first free slot, else the least recently used entry.
  TlbEntry* victim = &slots_[0];
  for (TlbEntry& e : slots_) {
    if (!e.valid) {
      victim = &e;
      break;
    }
    if (e.last_used < victim->last_used) victim = &e;
  }
  const bool evicted = victim->valid;
  entry.valid = true;
  entry.linear &= entry.page_mask();
  entry.phys &= entry.page_mask();
  entry.last_used = ++clock_;
  *victim = entry;
  return evicted;
}

unsigned Tlb::invalidate(uint32_t linear) {
  unsigned dropped = 0;
  for (TlbEntry& e : slots_) {
    if (e.covers(linear)) {
      e.valid = false;
      ++dropped;
    }
  }
  return dropped;
}

unsigned Tlb::flush(bool including_global) {
  unsigned dropped = 0;
  for (TlbEntry& e : slots_) {
    if (e.valid && (including_global || !e.global)) {
      e.valid = false;
      ++dropped;
    }
  }
  return dropped;
}

unsigned Tlb::valid_count() const {
  return unsigned(std::count_if(slots_.begin(), slots_.end(), [](const TlbEntry& e) { return e.valid; }));
}

const char* Tlb::restore(const std::vector<TlbEntry>& entries, uint64_t clock) {
  if (entries.size() != slots_.size()) return "TLB: entry count differs from this MMU's capacity";
  for (const TlbEntry& e : entries) {
    if (!e.valid) continue;
    if ((e.linear | e.phys) & ~e.page_mask()) return "TLB: an entry's page is not aligned to its size";
    if (e.last_used > clock) return "TLB: an entry was used after the clock";
  }
  slots_ = entries;
  clock_ = clock;
  return nullptr;
}

}  // namespace vs::mmu

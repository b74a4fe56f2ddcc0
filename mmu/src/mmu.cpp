// Translation with the TLB model in front of the page walk, accessed and
// dirty bits, #PF and TLB invalidation (Intel SDM Vol. 3A §4.6-4.10).
#include "virtscope/mmu/mmu.h"

#include <utility>

#include "virtscope/cpu/state.h"
#include "virtscope/trace/event.h"

namespace vs::mmu {

using trace::EventKind;

Mmu::Mmu(cpu::MemoryBus& memory, trace::EventLog& log, Clock clock, MmuConfig config)
    : memory_(memory), log_(log), clock_(std::move(clock)), tlb_(config.tlb_entries) {}

trace::VirtualTime Mmu::now() const {
  const uint64_t t = clock_ ? clock_() : 0;
  return {t, t};
}

cpu::Translation Mmu::translate(uint32_t linear, cpu::Access access, bool user, uint32_t cr0,
                                uint32_t cr3, uint32_t cr4) {
  const AccessQuery q{access, user, (cr0 & cpu::cr0::WP) != 0};
  if (TlbEntry* e = tlb_.lookup(linear)) {
    ++stats_.hits;
    // The TLB caches the rights, not a verdict: every access is checked
    // against them, so a hit faults exactly as the walk would (P = 1: a
    // cached translation always exists).
    if (!access_allowed(e->writable, e->user, q))
      return page_fault(linear, pf_error::P | access_error_bits(q), cr3);
    // A write through an entry that cached D = 0 must still set D in memory
    // (§4.8, §4.10.2.2): the processor goes back to the paging structures,
    // modelled as a fresh walk that also refreshes the entry.
    if (access != cpu::Access::Write || e->dirty) return hit(*e, linear, q);
    // The refill replaces the entry; dropping it first also drops it when
    // the walk now finds a page of the other size.
    tlb_.invalidate(linear);
    return walk_and_fill(linear, q, cr3, cr4);
  }
  ++stats_.misses;
  return walk_and_fill(linear, q, cr3, cr4);
}

cpu::Translation Mmu::walk_and_fill(uint32_t linear, const AccessQuery& q, uint32_t cr3, uint32_t cr4) {
  ++stats_.walks;
  const WalkResult w = read_tables(linear, cr3, cr4, q, /*peek=*/false);
  if (log_.wants(EventKind::PageWalk)) {
    const uint32_t pte = w.levels == 2 ? w.steps[1].entry : 0;
    log_.emit(EventKind::PageWalk, now(), linear, w.steps[0].entry, pte, w.translated ? w.phys : 0);
  }
  if (w.fault) return page_fault(linear, w.error_code, cr3);

  const bool write = q.access == cpu::Access::Write;
  // Once a page has been used, A is already set at both levels (and D for a
  // page written before): the common refill writes nothing.
  const uint32_t final_entry = w.steps[w.levels - 1].entry;
  const bool settled = (w.steps[0].entry & final_entry & entry::A) && (!write || (final_entry & entry::D));
  if (!settled) set_accessed_and_dirty(w, write);
  TlbEntry e;
  e.large = w.large_page;
  e.global = w.global;
  e.writable = w.writable;
  e.user = w.user;
  e.dirty = w.dirty || write;
  e.linear = linear;
  e.phys = w.phys;
  // No entry covers `linear` here (a miss, or the stale one was dropped), so
  // the fill takes a free way of the page's set or evicts that set's LRU way.
  if (tlb_.insert(e)) ++stats_.evictions;
  return hit(e, linear, q);
}

// A translation the CPU may cache; it may cache it for writes too when a
// write would pass the same checks and find D already set.
cpu::Translation Mmu::hit(const TlbEntry& e, uint32_t linear, const AccessQuery& q) {
  cpu::Translation t;
  t.phys = e.translate(linear);
  AccessQuery as_write = q;
  as_write.access = cpu::Access::Write;
  t.write_ok = e.dirty && access_allowed(e.writable, e.user, as_write);
  return t;
}

// A sets on every entry the walk used, D on the one that maps the page for a
// write (§4.8), each only if not already set: the processor's update is a
// locked read-modify-write, so it re-reads the entry rather than writing
// back what the walk saw.
void Mmu::set_accessed_and_dirty(const WalkResult& w, bool write) {
  for (unsigned i = 0; i < w.levels; ++i) {
    const WalkStep& s = w.steps[i];
    const uint32_t bits = entry::A | (write && s.maps_page ? entry::D : 0);
    if ((s.entry & bits) != bits) [[unlikely]] or_entry(s.entry_address, bits);
  }
}

void Mmu::or_entry(uint32_t phys, uint32_t bits) {
  const uint32_t v = read_entry(phys, false) | bits;
  if (uint8_t* page = memory_.host_page(phys, true)) {
    uint8_t* p = page + (phys & 0xFFF);
    for (unsigned i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
  } else {
    memory_.write(phys, 4, v);
  }
}

// A #PF also drops any TLB entry for the faulting page, so that a fault
// caused only by stale cached rights does not recur once the instruction is
// restarted (§4.10.4.1).
cpu::Translation Mmu::page_fault(uint32_t linear, uint32_t error_code, uint32_t cr3) {
  ++stats_.page_faults;
  tlb_.invalidate(linear);
  if (log_.wants(EventKind::PageFault)) log_.emit(EventKind::PageFault, now(), linear, error_code, cr3);
  cpu::Translation t;
  t.fault = true;
  t.error_code = error_code;
  return t;
}

// INVLPG drops the entries for the page holding `linear`, global or not
// (§4.10.4.1); for a 4 MiB page that is the whole 4 MiB entry.
void Mmu::invalidate_page(uint32_t linear) {
  ++stats_.invlpgs;
  const unsigned dropped = tlb_.invalidate(linear);
  if (log_.wants(EventKind::TlbFlush)) log_.emit(EventKind::TlbFlush, now(), 1, linear, dropped);
}

// MOV to CR3 keeps global entries; changing CR0.PG/WP or CR4.PSE/PGE drops
// everything (§4.10.4.1).
void Mmu::flush(bool including_global) {
  ++(including_global ? stats_.full_flushes : stats_.nonglobal_flushes);
  const unsigned dropped = tlb_.flush(including_global);
  if (log_.wants(EventKind::TlbFlush))
    log_.emit(EventKind::TlbFlush, now(), including_global ? 2 : 0, 0, dropped);
}

MmuState Mmu::save_state() const {
  MmuState s;
  s.tlb = tlb_.entries();
  s.tlb_clock = tlb_.clock();
  s.stats = stats_;
  return s;
}

const char* Mmu::load_state(const MmuState& state) {
  if (const char* why = tlb_.restore(state.tlb, state.tlb_clock)) return why;
  stats_ = state.stats;
  return nullptr;
}

}  // namespace vs::mmu

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
    // Nested paging: the combined entry does not keep the guest-physical
    // address an EPT violation reports, so an access the cached nested
    // rights refuse walks again and reports it from there.
    if (nested_) [[unlikely]] {
      const uint8_t need = access == cpu::Access::Write ? 2 : access == cpu::Access::Execute ? 4 : 1;
      if (!(e->nested_rights & need)) {
        tlb_.invalidate(linear);
        return walk_and_fill(linear, q, cr0, cr3, cr4);
      }
    }
    // A write through an entry that cached D = 0 must still set D in memory
    // (§4.8, §4.10.2.2): the processor goes back to the paging structures,
    // modelled as a fresh walk that also refreshes the entry.
    if (access != cpu::Access::Write || e->dirty) return hit(*e, linear, q);
    // The refill replaces the entry; dropping it first also drops it when
    // the walk now finds a page of the other size.
    tlb_.invalidate(linear);
    return walk_and_fill(linear, q, cr0, cr3, cr4);
  }
  ++stats_.misses;
  return walk_and_fill(linear, q, cr0, cr3, cr4);
}

cpu::Translation Mmu::walk_and_fill(uint32_t linear, const AccessQuery& q, uint32_t cr0, uint32_t cr3,
                                    uint32_t cr4) {
  ++stats_.walks;
  const WalkResult w = nested_ ? read_tables_nested(linear, cr0, cr3, cr4, q, /*peek=*/false, nullptr)
                               : read_tables(linear, cr3, cr4, q, /*peek=*/false);
  if (nested_) [[unlikely]] {
    stats_.walk_references += w.references;
    stats_.nested_walks += w.nested_walks;
    stats_.nested_walk_references += w.nested_references;
  } else {
    stats_.walk_references += w.levels;  // one reference per guest entry read
  }
  if (log_.wants(EventKind::PageWalk)) {
    const uint32_t pte = w.levels == 2 ? w.steps[1].entry : 0;
    log_.emit(EventKind::PageWalk, now(), linear, w.steps[0].entry, pte, w.translated ? w.phys : 0);
  }
  if (w.nested_fault) [[unlikely]] return nested_fault(w.nested_guest_physical, w.nested_qualification);
  if (w.fault) return page_fault(linear, w.error_code, cr3);

  const bool write = q.access == cpu::Access::Write;
  // Once a page has been used, A is already set at both levels (and D for a
  // page written before): the common refill writes nothing. (No levels: a
  // guest with paging off under nested paging.)
  if (w.levels > 0) {
    const uint32_t final_entry = w.steps[w.levels - 1].entry;
    const bool settled = (w.steps[0].entry & final_entry & entry::A) && (!write || (final_entry & entry::D));
    if (!settled) {
      // A/D updates write the guest's tables: nested write permission needed.
      for (unsigned i = 0; i < w.levels; ++i)
        if (!w.steps[i].nested_writable) [[unlikely]]
          return nested_fault(w.steps[i].entry_address, cpu::exit_qual::kEptWrite | cpu::exit_qual::kEptReadable);
      set_accessed_and_dirty(w, write);
    }
  }
  TlbEntry e;
  e.large = w.large_page;
  e.global = w.global;
  e.writable = w.writable;
  e.user = w.user;
  e.dirty = w.dirty || write;
  e.linear = linear;
  e.phys = w.phys;
  if (nested_) {
    // A combined translation covers one 4 KiB page whatever the guest page
    // size: the nested tables map 4 KiB pages, so a guest 4 MiB page is not
    // contiguous in host memory.
    nested_large_seen_ |= w.large_page;
    e.large = false;
    e.nested_rights = w.nested_rights;
  }
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
  t.write_ok = e.dirty && access_allowed(e.writable, e.user, as_write) && (e.nested_rights & nested_entry::W);
  // The CPU's own cache serves reads from any entry it holds: a page the
  // nested tables make unreadable (execute-only) must not be cached there.
  t.cacheable = e.nested_rights & nested_entry::R;
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
    if ((s.entry & bits) != bits) [[unlikely]] or_entry(s.entry_host_address, bits);
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
  // Under nested paging a guest 4 MiB page is cached as 4 KiB pieces
  // (walk_and_fill): INVLPG of it must drop them all, so drop everything.
  const unsigned dropped = nested_large_seen_ ? tlb_.flush(true) : tlb_.invalidate(linear);
  if (nested_large_seen_) nested_large_seen_ = false;
  if (log_.wants(EventKind::TlbFlush)) log_.emit(EventKind::TlbFlush, now(), 1, linear, dropped);
}

// MOV to CR3 keeps global entries; changing CR0.PG/WP or CR4.PSE/PGE drops
// everything (§4.10.4.1).
void Mmu::flush(bool including_global) {
  ++(including_global ? stats_.full_flushes : stats_.nonglobal_flushes);
  const unsigned dropped = tlb_.flush(including_global);
  if (including_global) nested_large_seen_ = false;
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

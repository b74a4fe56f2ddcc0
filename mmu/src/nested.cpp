// Nested paging, virtscope's model of EPT (Intel SDM Vol. 3C §28.3): the
// second translation stage, guest-physical -> host-physical, and the
// two-dimensional walk it makes of a guest TLB miss.
//
// Every guest-physical address the guest's own walk produces is translated
// through the nested tables before it is used: the address of each guest
// paging-structure entry, then the guest-physical address of the page. With
// g guest levels and n nested levels a miss costs up to
//     (g + 1) * (n + 1) - 1   memory references
// (g entries, each after an n-reference nested walk, plus the n-reference
// nested walk of the final page): 24 for 4-level guest paging over 4-level
// EPT, 14 for virtscope's 2-level 32-bit guest paging, 4 with the guest's
// paging off (the linear address is the guest-physical one).
//
// A missing or insufficient nested entry is an EPT violation (§28.3.3.2):
// Translation::nested_fault with the guest-physical address and the SDM's
// exit qualification (Table 27-7), which the CPU turns into a VM exit. The
// guest's A/D updates are writes to its paging structures, so they need
// nested write permission too (§28.3.3.2 "accessed and dirty flags").
//
// Simplified: 4 KiB nested pages only (no 2 MiB/1 GiB entries), no EPT
// misconfigurations (reserved bits are ignored), no EPT A/D bits, no memory
// types, execute-only pages are not cached by the CPU.
#include "virtscope/cpu/state.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"

namespace vs::mmu {

using cpu::Access;
namespace eq = cpu::exit_qual;

uint64_t Mmu::read_entry64(uint32_t phys, bool peek) const {
  return uint64_t(read_entry(phys, peek)) | uint64_t(read_entry(phys + 4, peek)) << 32;
}

namespace {
uint64_t needed_right(Access a) {
  switch (a) {
    case Access::Read: return nested_entry::R;
    case Access::Write: return nested_entry::W;
    case Access::Execute: return nested_entry::X;
  }
  return nested_entry::R;
}
uint32_t access_bit(Access a) {
  switch (a) {
    case Access::Read: return eq::kEptRead;
    case Access::Write: return eq::kEptWrite;
    case Access::Execute: return eq::kEptFetch;
  }
  return eq::kEptRead;
}
}  // namespace

// The second-stage walk of one guest-physical address (4 levels, 9 index
// bits each above the 12-bit page offset). Rights are ANDed over the levels;
// an entry with R = W = X = 0 is not present. On failure `r` records the EPT
// violation: the access, the rights found (bits 5:3, 0 if not present) and
// whether the address was the final page or a guest paging-structure entry.
bool Mmu::nested_translate(uint32_t gpa, Access access, bool final_page, bool peek, WalkResult& r,
                           uint32_t& host, uint8_t& rights, std::vector<WalkReference>* refs) const {
  ++r.nested_walks;
  uint64_t table = nested_->root & ~uint64_t(0xFFF);
  uint64_t allowed = nested_entry::kRights;
  bool ok = true;
  for (unsigned level = nested_entry::kLevels; level >= 1; --level) {
    const unsigned index = unsigned(uint64_t(gpa) >> (12 + 9 * (level - 1))) & 0x1FF;
    const uint64_t at = table + index * 8u;
    // Tables must lie in the 32-bit host-physical space the bus has.
    const uint64_t v = at <= 0xFFFFFFF8u ? read_entry64(uint32_t(at), peek) : 0;
    ++r.references;
    ++r.nested_references;
    if (refs) refs->push_back({WalkRefKind::NestedEntry, level, gpa, uint32_t(at), v});
    if (!(v & nested_entry::kRights)) {
      allowed = 0;
      ok = false;
      break;
    }
    allowed &= v;
    table = v & nested_entry::kFrame;
  }
  if (ok && table > 0xFFFFF000u) ok = false;  // a page beyond 4 GiB: treated as not mapped
  if (ok && !(allowed & needed_right(access))) ok = false;
  if (!ok) {
    r.nested_fault = true;
    r.nested_guest_physical = gpa;
    r.nested_qualification = access_bit(access) | uint32_t(allowed & nested_entry::kRights) << 3 |
                             (final_page ? eq::kEptFinalPage : 0);
    return false;
  }
  host = uint32_t(table) | (gpa & 0xFFF);
  rights = uint8_t(allowed & nested_entry::kRights);
  return true;
}

// The two-dimensional walk: the guest's walk with every entry address
// translated (read_tables does that when nested_ is set), then the final
// guest-physical address. Guest #PF conditions win over the final page's
// EPT violation: the guest walk decides first, as on hardware.
WalkResult Mmu::read_tables_nested(uint32_t linear, uint32_t cr0, uint32_t cr3, uint32_t cr4, const AccessQuery& q,
                                   bool peek, std::vector<WalkReference>* refs) const {
  WalkResult r;
  if (cr0 & cpu::cr0::PG) {
    r = read_tables(linear, cr3, cr4, q, peek, refs);
    if (r.nested_fault || r.fault || !r.translated) return r;
  } else {
    // Guest paging off: the linear address is guest-physical, all rights.
    r.translated = true;
    r.phys = linear;
    r.writable = r.user = r.dirty = true;
  }
  uint32_t host = 0;
  uint8_t rights = 0;
  if (!nested_translate(r.phys, q.access, true, peek, r, host, rights, refs)) return r;
  r.phys = host;
  r.nested_rights = rights;
  return r;
}

cpu::Translation Mmu::nested_fault(uint32_t gpa, uint32_t qualification) {
  ++stats_.nested_faults;
  cpu::Translation t;
  t.nested_fault = true;
  t.phys = gpa;                   // the guest-physical address (bus.h)
  t.error_code = qualification;   // the exit qualification
  return t;
}

void Mmu::set_nested(std::optional<NestedPaging> nested) {
  nested_ = nested;
  tlb_.flush(true);
  nested_large_seen_ = false;
}

// INVEPT (single-context): every combined translation depends on the nested
// tables, so all of them go, global or not.
void Mmu::flush_nested() {
  ++stats_.nested_flushes;
  const unsigned dropped = tlb_.flush(true);
  nested_large_seen_ = false;
  if (log_.wants(trace::EventKind::TlbFlush)) log_.emit(trace::EventKind::TlbFlush, now(), 2, 0, dropped);
}

WalkResult Mmu::walk(uint32_t linear, uint32_t cr0, uint32_t cr3, uint32_t cr4, AccessQuery query,
                     std::vector<WalkReference>& refs) const {
  WalkResult r;
  if (nested_) {
    r = read_tables_nested(linear, cr0, cr3, cr4, query, true, &refs);
  } else if (cr0 & cpu::cr0::PG) {
    r = read_tables(linear, cr3, cr4, query, true, &refs);
    r.references = r.levels;
  } else {
    r.translated = true;
    r.phys = linear;
    r.writable = r.user = r.dirty = true;
  }
  for (unsigned i = 0; i < r.levels; ++i) {
    WalkStep& s = r.steps[i];
    s.bits = decode_entry(s.entry, s.level == 2, cr4);
  }
  return r;
}

}  // namespace vs::mmu

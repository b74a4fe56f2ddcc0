// The page walk of 32-bit paging (Intel SDM Vol. 3A §4.3), shared by the
// real translation (translate) and the side-effect-free walk() the UI and
// lessons call: read the PDE, maybe the PTE, and judge the access (§4.6,
// §4.7). Nothing here writes memory; A/D bits are mmu.cpp's business.
//
// The walk tests the entries' bits directly (entry::P, entry::RW, ...), as
// the SDM's tables describe them. Only walk() decodes each step into
// EntryBits for display: translate() runs the walk on every TLB miss and
// has no use for the decoded copy.
#include "virtscope/cpu/state.h"
#include "virtscope/mmu/mmu.h"

namespace vs::mmu {
namespace {

// PS counts only in a PDE and only with CR4.PSE = 1; elsewhere it is
// ignored (PDE) or the PAT bit (PTE).
bool maps_large_page(uint32_t value, bool directory, uint32_t cr4) {
  return directory && (cr4 & cpu::cr4::PSE) && (value & entry::PS);
}

// Reserved bits of a present entry (§4.3). With CR4.PSE = 0 there are none.
// With CR4.PSE = 1, and virtscope claiming neither PSE-36 nor PAT in CPUID:
// bits 21:13 and 12 (PAT) of a PDE that maps a 4 MiB page, and bit 7 (PAT)
// of a PTE. A PDE that references a page table has none.
uint32_t reserved_bits(uint32_t value, bool directory, bool large, uint32_t cr4) {
  if (!(cr4 & cpu::cr4::PSE)) return 0;
  if (large) return value & (entry::kReservedLarge | entry::PAT_LARGE);
  return directory ? 0 : value & entry::PAT;
}

// One level of the walk, recorded in `s` (a slot of the WalkResult, filled
// where it lives rather than copied in). `bits` is left for walk().
const WalkStep& record_step(WalkStep& s, unsigned level, uint32_t table, uint32_t index, uint32_t value,
                            uint32_t cr4) {
  const bool directory = level == 2;
  const bool large = maps_large_page(value, directory, cr4);
  s.level = level;
  s.table = table;
  s.entry_address = table | index << 2;
  s.entry_host_address = s.entry_address;
  s.entry = value;
  s.maps_page = !directory || large;
  if (value & entry::P) s.reserved_set = reserved_bits(value, directory, large, cr4);
  return s;
}

bool present(const WalkStep& s) { return s.entry & entry::P; }

// No translation: an entry was not present (P = 0 in the error code) or set
// a reserved bit (P = 1 and RSVD = 1; reserved bits of a not-present entry
// are never checked, §4.7).
void no_translation(WalkResult& r, const WalkStep& at, const AccessQuery& q) {
  r.fault = true;
  r.error_code = access_error_bits(q);
  if (present(at)) r.error_code |= pf_error::P | pf_error::RSVD;
}

}  // namespace

EntryBits decode_entry(uint32_t v, bool directory, uint32_t cr4) {
  EntryBits b;
  b.present = v & entry::P;
  b.writable = v & entry::RW;
  b.user = v & entry::US;
  b.write_through = v & entry::PWT;
  b.cache_disable = v & entry::PCD;
  b.accessed = v & entry::A;
  b.dirty = v & entry::D;
  b.page_size = maps_large_page(v, directory, cr4);
  b.global = v & entry::G;
  b.frame = v & (b.page_size ? entry::kFrameLarge : entry::kFrame);
  return b;
}

namespace {
// Paging structures are almost always in RAM: read them through the host
// page (host_page() has no side effects). Entries are 4-byte aligned, so one
// never crosses a page. Inlined into the walk: it runs twice per TLB miss.
[[gnu::always_inline]] inline uint32_t load_entry(cpu::MemoryBus& memory, uint32_t phys, bool peek) {
  if (const uint8_t* page = memory.host_page(phys, false)) {
    const uint8_t* p = page + (phys & 0xFFF);
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  }
  return peek ? memory.peek(phys, 4) : memory.read(phys, 4);
}
}  // namespace

uint32_t Mmu::read_entry(uint32_t phys, bool peek) const { return load_entry(memory_, phys, peek); }

// Where a guest paging-structure entry is read under nested paging or for a
// walk that lists its references: at its translation through the nested
// tables (nested.cpp); false if that is an EPT violation (recorded in r).
// Without either the entry is read at its own address, and the caller does
// not come here (translate() without nesting runs this walk on every miss).
bool Mmu::entry_location(WalkResult& r, uint32_t address, unsigned level, bool peek, uint32_t& host,
                         bool& writable, std::vector<WalkReference>* refs) const {
  if (nested_) {
    uint8_t rights = 0;
    if (!nested_translate(address, cpu::Access::Read, false, peek, r, host, rights, refs)) return false;
    writable = rights & nested_entry::W;
    ++r.references;
  }
  if (refs) refs->push_back({WalkRefKind::GuestEntry, level, address, host, read_entry(host, true)});
  return true;
}

WalkResult Mmu::read_tables(uint32_t linear, uint32_t cr3, uint32_t cr4, const AccessQuery& q,
                            bool peek, std::vector<WalkReference>* refs) const {
  WalkResult r;
  // The page directory is at CR3 bits 31:12; linear bits 31:22 pick the PDE.
  const uint32_t directory = cr3 & entry::kFrame;
  const uint32_t pde_index = linear >> 22;
  const bool located = nested_ || refs;  // else entries are read where they are
  uint32_t host = directory | pde_index << 2;
  bool host_writable = true;
  if (located && !entry_location(r, host, 2, peek, host, host_writable, refs)) [[unlikely]] return r;
  const WalkStep& pde = record_step(r.steps[0], 2, directory, pde_index, load_entry(memory_, host, peek), cr4);
  if (located) [[unlikely]] {
    r.steps[0].entry_host_address = host;
    r.steps[0].nested_writable = host_writable;
  }
  r.levels = 1;
  if (!present(pde) || pde.reserved_set) {
    no_translation(r, pde, q);
    return r;
  }

  const WalkStep* last = &pde;
  if (pde.maps_page) {
    // A 4 MiB page: PDE bits 31:22 and linear bits 21:0 (§4.3, Figure 4-3).
    r.large_page = true;
    r.phys = (pde.entry & entry::kFrameLarge) | (linear & 0x003FFFFFu);
    r.writable = pde.entry & entry::RW;
    r.user = pde.entry & entry::US;
  } else {
    // A page table at PDE bits 31:12; linear bits 21:12 pick the PTE.
    const uint32_t table = pde.entry & entry::kFrame;
    const uint32_t pte_index = (linear >> 12) & 0x3FF;
    host = table | pte_index << 2;
    if (located && !entry_location(r, host, 1, peek, host, host_writable, refs)) [[unlikely]] return r;
    const WalkStep& pte = record_step(r.steps[1], 1, table, pte_index, load_entry(memory_, host, peek), cr4);
    if (located) [[unlikely]] {
      r.steps[1].entry_host_address = host;
      r.steps[1].nested_writable = host_writable;
    }
    r.levels = 2;
    if (!present(pte) || pte.reserved_set) {
      no_translation(r, pte, q);
      return r;
    }
    r.phys = (pte.entry & entry::kFrame) | (linear & 0xFFF);
    // The rights of the page are those of both levels together (§4.6).
    r.writable = pde.entry & pte.entry & entry::RW;
    r.user = pde.entry & pte.entry & entry::US;
    last = &pte;
  }
  r.translated = true;
  r.global = (cr4 & cpu::cr4::PGE) && (last->entry & entry::G);  // G counts only with CR4.PGE (§4.10.2.4)
  r.dirty = last->entry & entry::D;
  if (!access_allowed(r.writable, r.user, q)) {
    r.fault = true;
    r.error_code = pf_error::P | access_error_bits(q);
  }
  return r;
}

WalkResult Mmu::walk(uint32_t linear, uint32_t cr3, uint32_t cr4, AccessQuery query) const {
  WalkResult r = read_tables(linear, cr3, cr4, query, /*peek=*/true);
  for (unsigned i = 0; i < r.levels; ++i) {
    WalkStep& s = r.steps[i];
    s.bits = decode_entry(s.entry, s.level == 2, cr4);
  }
  return r;
}

}  // namespace vs::mmu

// 32-bit paging (Intel SDM Vol. 3A §4.3): the bits of page-directory and
// page-table entries, the page-fault error code (§4.7), and the records a
// page walk produces for the UI and lessons.
//
// How a linear address is translated, for students:
//
//   linear  = | directory (10) | table (10) | offset (12) |        4 KiB page
//   linear  = | directory (10) |       offset (22)         |       4 MiB page
//
//   CR3 bits 31:12 locate the page directory (1024 PDEs). The directory bits
//   pick a PDE. If CR4.PSE = 1 and the PDE's PS bit is 1, the PDE maps a
//   4 MiB page directly; otherwise it points at a page table whose entry
//   (picked by the table bits) maps a 4 KiB page. Every entry carries
//   present, writable and user bits; the access rights of a page are the
//   AND of those bits over every entry on the way (§4.6).
#pragma once

#include <array>
#include <cstdint>

#include "virtscope/cpu/bus.h"

namespace vs::mmu {

// Bits of a paging-structure entry (SDM Vol. 3A Tables 4-4, 4-5, 4-6).
namespace entry {
constexpr uint32_t P = 1u << 0;     // present
constexpr uint32_t RW = 1u << 1;    // writable
constexpr uint32_t US = 1u << 2;    // user-mode accesses allowed
constexpr uint32_t PWT = 1u << 3;   // page-level write-through
constexpr uint32_t PCD = 1u << 4;   // page-level cache disable
constexpr uint32_t A = 1u << 5;     // accessed
constexpr uint32_t D = 1u << 6;     // dirty (entries that map a page)
constexpr uint32_t PS = 1u << 7;    // PDE: maps a 4 MiB page (when CR4.PSE = 1)
constexpr uint32_t PAT = 1u << 7;   // PTE: PAT index bit (reserved without PAT)
constexpr uint32_t G = 1u << 8;     // global (entries that map a page, when CR4.PGE = 1)
constexpr uint32_t PAT_LARGE = 1u << 12;  // 4 MiB PDE: PAT index bit (reserved without PAT)
// 4 MiB PDE bits 21:13: bits 39:32 of the address with PSE-36, reserved
// without it (§4.3). virtscope has no PSE-36 (CPUID.1:EDX[17] = 0).
constexpr uint32_t kReservedLarge = 0x003FE000u;
constexpr uint32_t kFrame = 0xFFFFF000u;       // 4 KiB frame, or the next table
constexpr uint32_t kFrameLarge = 0xFFC00000u;  // 4 MiB frame
}  // namespace entry

// The page-fault error code pushed with #PF (SDM Vol. 3A §4.7, Figure 4-12).
namespace pf_error {
constexpr uint32_t P = 1u << 0;     // 0: no translation (P = 0 somewhere); 1: protection or reserved bit
constexpr uint32_t W = 1u << 1;     // the access was a write
constexpr uint32_t U = 1u << 2;     // the access was a user-mode access
constexpr uint32_t RSVD = 1u << 3;  // a reserved bit was set in an entry (only with P = 1)
// I/D (bit 4) is 1 only with SMEP or with PAE paging and IA32_EFER.NXE = 1
// (§4.7); 32-bit paging without SMEP always reports 0, even for fetches.
constexpr uint32_t ID = 1u << 4;
}  // namespace pf_error

// Nested paging (virtscope's EPT model, SDM Vol. 3C §28.3.2): a second
// translation, guest-physical -> host-physical, through 4 levels of 64-bit
// entries (PML4, PDPT, PD, PT; 512 each) in host memory, indexed by
// guest-physical bits 47:39, 38:30, 29:21, 20:12. Only 4 KiB pages (bit 7 is
// ignored); rights are R/W/X in bits 2:0, an entry with all three clear is
// not present, and the rights of a page are ANDed over the four levels.
// Host-physical addresses must lie below 4 GiB (bits 51:32 are 0).
namespace nested_entry {
constexpr uint64_t R = 1u << 0;  // reads allowed
constexpr uint64_t W = 1u << 1;  // writes allowed
constexpr uint64_t X = 1u << 2;  // instruction fetches allowed
constexpr uint64_t kRights = R | W | X;
constexpr uint64_t kFrame = 0x000FFFFFFFFFF000ull;  // bits 51:12: next table or the page
constexpr unsigned kLevels = 4;
}  // namespace nested_entry

// Where the VMM put the nested tables: the EPT pointer's address part.
struct NestedPaging {
  uint32_t root = 0;  // host-physical address of the PML4 table (4 KiB aligned)
};

// One memory reference of a (two-dimensional) walk, for the UI and lessons.
enum class WalkRefKind : uint8_t {
  GuestEntry,   // a guest PDE or PTE (read at its host-physical address)
  NestedEntry,  // an entry of the nested tables translating a guest-physical address
};
struct WalkReference {
  WalkRefKind kind = WalkRefKind::GuestEntry;
  unsigned level = 0;           // guest: 2 PDE, 1 PTE; nested: 4 PML4E .. 1 PTE
  uint32_t guest_physical = 0;  // nested: the address being translated; guest: the entry's own
  uint32_t host_address = 0;    // where the entry was read
  uint64_t value = 0;           // what it held
};

// One entry's bits, decoded for display.
struct EntryBits {
  bool present = false;
  bool writable = false;
  bool user = false;
  bool write_through = false;
  bool cache_disable = false;
  bool accessed = false;
  bool dirty = false;      // meaningful only when the entry maps a page
  bool page_size = false;  // PS as the walk used it (PDE with CR4.PSE = 1)
  bool global = false;     // meaningful only when the entry maps a page
  uint32_t frame = 0;      // physical base of the page or of the next table
};

// Decodes `value` as a PDE (`directory` true) or a PTE under `cr4`.
EntryBits decode_entry(uint32_t value, bool directory, uint32_t cr4);

// One level of a walk: which table was read and what its entry said.
struct WalkStep {
  unsigned level = 0;           // 2 = page directory, 1 = page table
  uint32_t table = 0;           // physical address of the table
  uint32_t entry_address = 0;   // physical address of the entry read
  uint32_t entry = 0;           // the entry's value
  EntryBits bits;               // the entry decoded for display (Mmu::walk() fills it)
  bool maps_page = false;       // a PTE, or a PDE mapping a 4 MiB page
  uint32_t reserved_set = 0;    // reserved bits that are 1 (non-zero: #PF with RSVD)
  uint32_t entry_host_address = 0;  // where the entry lives: entry_address, or its nested translation
  bool nested_writable = true;  // nested paging lets A/D updates write the entry
};

// What one access asks for; the walk checks the rights against it (§4.6).
struct AccessQuery {
  cpu::Access access = cpu::Access::Read;
  bool user = false;  // a CPL 3 access (not an implicit supervisor access)
  bool wp = false;    // CR0.WP: supervisor writes honour read-only pages
};

// Everything one walk found. steps[0] is the PDE; steps[1] the PTE when the
// walk got that far (levels == 2).
struct WalkResult {
  std::array<WalkStep, 2> steps{};
  unsigned levels = 0;
  bool translated = false;   // present all the way and no reserved bit set
  bool large_page = false;   // a 4 MiB page
  uint32_t phys = 0;         // the physical address (when translated)
  bool writable = false;     // R/W ANDed over the levels
  bool user = false;         // U/S ANDed over the levels
  bool global = false;       // G of the final entry, with CR4.PGE = 1
  bool dirty = false;        // D of the final entry
  bool fault = false;        // the queried access would raise #PF ...
  uint32_t error_code = 0;   // ... with this error code
  // Nested paging (docs/hvm-hardware.md). phys is then host-physical.
  unsigned references = 0;          // memory references made: guest entries plus nested entries (levels without nesting)
  unsigned nested_walks = 0;        // guest-physical addresses translated by the second stage
  unsigned nested_references = 0;   // nested entries read
  bool nested_fault = false;        // the second stage refused an address: an EPT violation ...
  uint32_t nested_guest_physical = 0;  // ... for this guest-physical address ...
  uint32_t nested_qualification = 0;   // ... with this exit qualification (cpu::exit_qual::kEpt*)
  uint8_t nested_rights = 7;        // R/W/X the second stage grants the final page
};

// Whether the rights of a translation (R/W and U/S ANDed over the levels)
// allow an access (SDM Vol. 3A §4.6). Fetches count as reads: 32-bit paging
// has no execute-disable bit, and without SMEP supervisor code may run from
// user pages.
inline bool access_allowed(bool writable, bool user_page, const AccessQuery& q) {
  const bool write = q.access == cpu::Access::Write;
  if (q.user) return user_page && (!write || writable);
  return !write || writable || !q.wp;
}

// The W and U bits of the error code for an access.
inline uint32_t access_error_bits(const AccessQuery& q) {
  return (q.access == cpu::Access::Write ? pf_error::W : 0) | (q.user ? pf_error::U : 0);
}

}  // namespace vs::mmu

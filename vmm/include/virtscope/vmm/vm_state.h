// A virtual machine's state as a VMM keeps it, shown beside the real CPU's
// (DESIGN.md §4): the virtual CPU the guest believes it runs on, and the
// VMM's counters.
#pragma once

#include <cstdint>
#include <map>

#include "virtscope/cpu/state.h"
#include "virtscope/vmm/exit_reason.h"

namespace vs::vmm {

// The guest's paging registers (the real CR0/CR3/CR4 are the VMM's).
struct GuestPaging {
  uint32_t cr0 = 0, cr3 = 0, cr4 = 0;
  bool enabled() const { return (cr0 & cpu::cr0::PG) && (cr0 & cpu::cr0::PE); }
};

// What the guest believes its privileged state is.
struct VirtualCpu {
  bool interrupts_enabled = false;  // the virtual IF
  GuestPaging paging;               // virtual CR0 (PE, PG, WP), CR3, CR4
  uint32_t cr2 = 0;
  cpu::TableReg gdtr{0, 0}, idtr{0, 0};
  uint16_t tr = 0;
  bool halted = false;
  bool interrupt_pending = false;   // a virtual interrupt (or pv event) waits for the guest
};

struct TrapStats {
  std::map<ExitReason, uint64_t> exits;
  uint64_t emulated = 0;            // privileged instructions emulated
  uint64_t hidden_page_faults = 0;  // shadow fills
  uint64_t guest_page_faults = 0;   // #PF reflected to the guest
  uint64_t shadow_syncs = 0;        // ShadowSync events
  uint64_t traced_writes = 0;       // guest page-table writes caught by write protection
  uint64_t reflected = 0;           // events delivered through the virtual IDT
  uint64_t syscalls = 0;            // int 0x80 from guest user mode
  uint64_t io_requests = 0;         // I/O requests served by the VM's device models (IoRequest events)
  // Binary translation (bt mode).
  uint64_t translated = 0;          // guest kernel instructions scanned
  uint64_t translation_sites = 0;   // of those, replaced by a call-out
  uint64_t callouts = 0;            // call-outs executed (instead of traps)
  uint64_t retranslations = 0;      // translated pages the guest wrote (translations dropped)
  // Paravirtualization (pv mode).
  std::map<uint32_t, uint64_t> hypercalls;  // by number (pv_abi.h)
  uint64_t upcalls = 0;             // event upcalls delivered to the guest
  uint64_t pte_updates = 0;         // entries changed by mmu_update and update_va_mapping
  uint64_t total_hypercalls() const {
    uint64_t n = 0;
    for (const auto& [number, count] : hypercalls) n += count;
    return n;
  }
};

}  // namespace vs::vmm

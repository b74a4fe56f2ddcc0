// The VMM's shadow MMU (../shared/SEMANTICS.md §9; Adams & Agesen 2006 §3),
// shared by the software VMMs (trap, bt) and hardware assistance without
// nested paging (hvm-shadow): the guest's CR0/CR3/CR4 stay virtual, the real
// CR3 is root() and the real MMU walks only shadow page tables that the
// VMM builds from the guest's own tables.
//
// It keeps the shadow coherent the way a TLB must be kept coherent, plus
// write protection:
//  * a #PF the shadow causes is either hidden (the guest's tables allow the
//    access: the entry is filled, ShadowSync cause 0) or the guest's own
//    (the monitor delivers it, with the error code the guest's walk gives);
//  * a guest CR3 load or paging-mode change empties the shadow, an INVLPG
//    drops one page (ShadowSync cause 2; SDM Vol. 3A §4.10.4);
//  * every guest page-table page the shadow was built from is read-only in
//    it ("traced", shadow_tracing.cpp): a guest store there is let through
//    for one single-stepped instruction, then the shadow entries built from
//    the changed entry are dropped (ShadowSync cause 1).
// What a monitor does around it differs: the trap VMM sees the #PF and the
// single-step #DB in its CPU hooks and delivers guest faults through its
// virtual IDT; the hvm-shadow VMM sees them as VM exits and injects.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "guest_memory.h"
#include "shadow_paging.h"
#include "../vm_host.h"
#include "virtscope/cpu/state.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::vmm {

class ShadowMmu {
 public:
  // Where the shadow's tables live in host RAM (below kGuestBase).
  struct Pool {
    uint32_t first;       // host-physical: the first page of the pool
    uint32_t pages;       // how many
    uint32_t hole_table;  // the VMM's page table for the top 4 MiB, or 0 (see ShadowPaging)
  };
  // `paging` is the guest's virtual CR0/CR3/CR4 (owned by the monitor, read
  // on every walk, changed through write_cr()); `stats` are the monitor's
  // counters, which the shadow's events add to.
  ShadowMmu(const VmmHost& host, GuestPhysical& guest, GuestLinear& linear, GuestPaging& paging, TrapStats& stats,
            Pool pool);

  // Pages the VMM keeps read-only for reasons of its own (bt's translated
  // kernel code): answers whether `page` (guest-physical) is one; a guest
  // write to it (`write`) hands it back to the guest.
  using CodePages = std::function<bool(uint32_t page, bool write)>;
  void set_code_pages(CodePages code_pages) { code_pages_ = std::move(code_pages); }

  uint32_t root() const { return shadow_.root(); }  // the real CR3

  // What a #PF the real MMU raised turned out to be.
  enum class Fault : uint8_t {
    Filled,         // hidden: the shadow now has the entry; run the instruction again
    TracedWrite,    // a guest store to its own page table: single-stepping it (TF set in the state)
    Guest,          // the guest's own fault: deliver #PF(guest_error) with CR2 = the address
    NotRam,         // the guest's tables point outside its RAM
    PoolExhausted,  // even an empty pool cannot hold the entry
  };
  struct FaultResult {
    Fault kind;
    uint32_t guest_error = 0;  // Guest: the #PF error code the guest's own walk gives
  };
  // A #PF at `linear` with the real `error` code. `s` is the guest's state
  // at the faulting instruction; a traced write sets TF in it and resumes
  // the CPU with it (and holds the INTR pin low meanwhile).
  FaultResult page_fault(cpu::CpuState& s, uint32_t linear, uint32_t error);
  // Why the VMM must stop, for NotRam and PoolExhausted.
  static const char* failure(Fault kind);
  // A traced store is being single-stepped: the next #DB is its end.
  bool stepping() const { return stepping_.active; }
  // At that #DB: write-protect the page again, drop the shadow entries the
  // store changed, clear TF and resume the CPU with `s`.
  void finish_traced_write(cpu::CpuState& s);

  // The guest's MOV to CR0/CR3/CR4 on its virtual registers; empties the
  // shadow when the translation changes. False for a CR4 bit virtscope's
  // CPUID does not claim, or another register.
  bool write_cr(unsigned cr, uint32_t value);
  // The guest's INVLPG.
  void invlpg(uint32_t linear);
  // Empties the shadow (the VMM's hole stays).
  void flush();

 private:
  // Write-protection of the guest's page tables (shadow_tracing.cpp).
  void trace_tables(const mmu::WalkResult& w, uint32_t linear);
  void trace_page(uint32_t page, bool directory, uint32_t pde_index);
  void remember_mapping(uint32_t page, uint32_t linear, bool user);
  bool traced_write(cpu::CpuState& s, uint32_t linear, uint32_t gpa, bool user);
  trace::VirtualTime now() const {
    const uint64_t t = cpu_.instructions();
    return {t, t};
  }

  cpu::Cpu& cpu_;
  mmu::Mmu& mmu_;  // the real MMU (its TLB caches shadow translations)
  trace::EventLog& log_;
  GuestPhysical& guest_;
  GuestLinear& linear_;
  GuestPaging& paging_;
  TrapStats& stats_;
  ShadowPaging shadow_;
  CodePages code_pages_;
  // Shadow tracing, for the current shadow (reset when it is flushed): the
  // guest page-table pages the shadow was built from (a directory, or a table
  // with the directory slots that point to it), and where each guest page is
  // mapped in the shadow, so that it can be made read-only once traced.
  struct Traced {
    bool directory = false;
    std::vector<uint32_t> pde_indices;
  };
  struct Mapping {
    uint32_t linear;
    bool user;
  };
  std::map<uint32_t, Traced> traced_;
  std::map<uint32_t, std::vector<Mapping>> mappings_;
  // A traced write being single-stepped: the page made writable for one
  // instruction and the entry it writes.
  struct Stepping {
    bool active = false;
    uint32_t linear = 0, gpa = 0;
    bool user = false;
  } stepping_;
};

}  // namespace vs::vmm

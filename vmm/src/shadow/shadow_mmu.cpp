#include "shadow_mmu.h"

#include "virtscope/cpu/cpu.h"
#include "virtscope/mmu/paging.h"
#include "virtscope/trace/event.h"

namespace vs::vmm {

namespace {
// The bits of CR0 and CR4 that change what a linear address means (SDM
// Vol. 3A §4.1.1, §4.10.4.1): changing one empties the shadow.
constexpr uint32_t kPagingBits = cpu::cr0::PG | cpu::cr0::PE | cpu::cr0::WP;
constexpr uint32_t kCr4PagingBits = cpu::cr4::PSE | cpu::cr4::PGE | cpu::cr4::PAE;
}  // namespace

ShadowMmu::ShadowMmu(const VmmHost& host, GuestPhysical& guest, GuestLinear& linear, GuestPaging& paging,
                     TrapStats& stats, Pool pool)
    : cpu_(host.cpu),
      mmu_(host.mmu),
      log_(host.log),
      guest_(guest),
      linear_(linear),
      paging_(paging),
      stats_(stats),
      shadow_(host.memory.ram(), pool.first, pool.pages, pool.hole_table) {}

// A #PF under shadow paging is either the guest's (its own tables do not
// allow the access) or hidden (the shadow lacks an entry the guest's tables
// have: filled here, and the instruction runs again).
ShadowMmu::FaultResult ShadowMmu::page_fault(cpu::CpuState& s, uint32_t linear, uint32_t error) {
  mmu::AccessQuery q;
  q.access = (error & mmu::pf_error::W) ? cpu::Access::Write : cpu::Access::Read;
  q.user = error & mmu::pf_error::U;
  q.wp = paging_.cr0 & cpu::cr0::WP;
  const mmu::WalkResult w = linear_.walk(linear, paging_, q);
  if (w.fault || shadow_.in_hole(linear)) {
    ++stats_.guest_page_faults;
    return {Fault::Guest, w.fault ? w.error_code : (error | mmu::pf_error::P)};
  }
  if (!guest_.contains(w.phys)) return {Fault::NotRam};
  const bool write = q.access == cpu::Access::Write;
  linear_.set_accessed_dirty(w, write);
  // Pages the VMM protects for itself stay read-only; the guest's first
  // write there hands the page back (bt: the code is the guest's own again).
  const uint32_t guest_page = w.phys & ~0xFFFu;
  const bool code = code_pages_ && code_pages_(guest_page, write);
  // A store to one of the guest's page tables, which its tables allow.
  if (write && !code && traced_write(s, linear, w.phys, w.user)) return {Fault::TracedWrite};
  trace_tables(w, linear);
  // Writable in the shadow only once the guest's D bit is set, so that the
  // first write comes back here to set it.
  const bool writable = (!code || write) && !traced_.count(guest_page) &&
                        (!paging_.enabled() || ((w.writable || (write && !q.user)) && (w.dirty || write)));
  const uint32_t host_phys = guest_.base() + (w.phys & ~0xFFFu);
  if (!shadow_.map(linear, host_phys, writable, w.user)) {
    flush();
    if (!shadow_.map(linear, host_phys, writable, w.user)) return {Fault::PoolExhausted};
  }
  remember_mapping(guest_page, linear, w.user);
  mmu_.invalidate_page(linear);
  cpu_.flush_tlb();
  ++stats_.hidden_page_faults;
  ++stats_.shadow_syncs;
  const uint32_t guest_pte = w.levels ? w.steps[w.levels - 1].entry : 0;
  log_.emit(trace::EventKind::ShadowSync, now(), linear, guest_pte, host_phys | (writable ? 2 : 0) | 1, 0);
  return {Fault::Filled};
}

const char* ShadowMmu::failure(Fault kind) {
  switch (kind) {
    case Fault::NotRam: return "the guest touched guest-physical memory that is not RAM";
    case Fault::PoolExhausted: return "shadow page-table pool exhausted";
    case Fault::Filled:
    case Fault::TracedWrite:
    case Fault::Guest: break;
  }
  return "no failure";
}

void ShadowMmu::flush() {
  const unsigned dropped = shadow_.flush();
  traced_.clear();
  mappings_.clear();
  mmu_.flush(true);
  cpu_.flush_tlb();
  if (dropped) {
    ++stats_.shadow_syncs;
    log_.emit(trace::EventKind::ShadowSync, now(), 0, 0, dropped, 2);
  }
}

void ShadowMmu::invlpg(uint32_t linear) {
  if (shadow_.invalidate(linear)) {
    ++stats_.shadow_syncs;
    log_.emit(trace::EventKind::ShadowSync, now(), linear, 0, 0, 2);
  }
  mmu_.invalidate_page(linear);
  cpu_.flush_tlb();
}

// A guest CR3 load or paging-mode change empties the shadow, as it would a
// real TLB (SDM Vol. 3A §4.10.4.1).
bool ShadowMmu::write_cr(unsigned cr, uint32_t v) {
  GuestPaging& p = paging_;
  switch (cr) {
    case 0: {
      const bool changed = (v ^ p.cr0) & kPagingBits;
      p.cr0 = v | cpu::cr0::ET;
      if (changed) flush();
      return true;
    }
    case 3:
      p.cr3 = v;
      flush();
      return true;
    case 4: {
      if (v & ~(cpu::cr4::PSE | cpu::cr4::PGE)) return false;  // only what virtscope's CPUID claims
      const bool changed = (v ^ p.cr4) & kCr4PagingBits;
      p.cr4 = v;
      if (changed) flush();
      return true;
    }
    default: return false;
  }
}

}  // namespace vs::vmm

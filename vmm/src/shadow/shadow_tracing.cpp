// Write-protecting ("tracing") the guest's page tables (SEMANTICS.md §9;
// Adams & Agesen 2006 §3): every guest page-table page the shadow was built
// from is read-only in the shadow, so a guest store to a page-table entry
// faults into the VMM. The VMM lets that one store happen (the page made
// writable for a single instruction, stepped with the trap flag), then
// drops the shadow entries that came from the entry it changed: a
// ShadowSync event with cause 1: the shadow stays coherent without waiting
// for the guest's INVLPG. The trap VMM sees the #PF and the #DB in its CPU
// hooks; under simulated VT-x both exit (exception bitmap bits 14 and 1).
// A VMM on real VT-x would rather emulate the store (KVM does) or step it
// with the monitor trap flag, which virtscope's VT-x does not model.
#include <cstring>

#include "shadow_mmu.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/cpu/state.h"
#include "virtscope/mmu/paging.h"
#include "virtscope/trace/event.h"

namespace vs::vmm {

using cpu::CpuState;

// The tables a walk used: the guest's page directory and, for a 4 KiB page,
// the page table (remembering which directory slot points to it).
void ShadowMmu::trace_tables(const mmu::WalkResult& w, uint32_t linear) {
  if (!paging_.enabled()) return;
  for (unsigned i = 0; i < w.levels; ++i) {
    const mmu::WalkStep& step = w.steps[i];
    trace_page(step.table & ~0xFFFu, step.level == 2, linear >> 22);
  }
}

void ShadowMmu::trace_page(uint32_t page, bool directory, uint32_t pde_index) {
  auto [it, added] = traced_.try_emplace(page);
  Traced& t = it->second;
  t.directory = t.directory || directory;
  if (!directory) {
    bool known = false;
    for (uint32_t slot : t.pde_indices) known = known || slot == pde_index;
    if (!known) t.pde_indices.push_back(pde_index);
  }
  if (!added) return;
  // Newly traced: wherever the shadow maps this page writable, it no longer is.
  const auto m = mappings_.find(page);
  if (m == mappings_.end()) return;
  for (const Mapping& at : m->second) {
    shadow_.map(at.linear, guest_.base() + page, false, at.user);
    mmu_.invalidate_page(at.linear);
  }
  cpu_.flush_tlb();
}

void ShadowMmu::remember_mapping(uint32_t page, uint32_t linear, bool user) {
  mappings_[page].push_back({linear & ~0xFFFu, user});
}

// A guest store to a traced page its own tables let it write: make the page
// writable, single-step the store (interrupts held off meanwhile), finish in
// finish_traced_write() at the #DB that follows.
bool ShadowMmu::traced_write(CpuState& s, uint32_t linear, uint32_t gpa, bool user) {
  if (!traced_.count(gpa & ~0xFFFu)) return false;
  stepping_ = {true, linear, gpa, user};
  shadow_.map(linear, guest_.base() + (gpa & ~0xFFFu), true, user);
  mmu_.invalidate_page(linear);
  cpu_.flush_tlb();
  s.eflags |= cpu::flag::TF;
  cpu_.resume_with(s);
  cpu_.set_irq(false);
  ++stats_.traced_writes;
  return true;
}

void ShadowMmu::finish_traced_write(CpuState& s) {
  const Stepping step = stepping_;
  stepping_ = {};
  s.eflags &= ~cpu::flag::TF;
  const uint32_t page = step.gpa & ~0xFFFu;
  shadow_.map(step.linear, guest_.base() + page, false, step.user);
  mmu_.invalidate_page(step.linear);
  // Which entry changed: the store's address within the table (entries are
  // 4-byte aligned). Drop the shadow entries built from it.
  const uint32_t index = (step.gpa & 0xFFF) >> 2;
  const Traced& t = traced_[page];
  unsigned dropped = 0;
  uint32_t first = 0;
  if (t.directory) {
    // A directory entry: its whole 4 MiB region.
    first = index << 22;
    if (!shadow_.in_hole(first))
      for (uint32_t p = 0; p < 1024; ++p) dropped += shadow_.invalidate(first | p << 12);
  }
  for (uint32_t slot : t.pde_indices) {
    const uint32_t linear = slot << 22 | index << 12;
    if (!t.directory) first = linear;
    if (shadow_.invalidate(linear)) {
      ++dropped;
      mmu_.invalidate_page(linear);
    }
  }
  if (t.directory) mmu_.flush(true);
  cpu_.flush_tlb();
  uint32_t value = 0;
  if (uint8_t* host = guest_.host_page(step.gpa & ~3u, false)) std::memcpy(&value, host + (step.gpa & 0xFFC), 4);
  ++stats_.shadow_syncs;
  log_.emit(trace::EventKind::ShadowSync, now(), first, value, dropped, 1);
  cpu_.resume_with(s);
}

}  // namespace vs::vmm

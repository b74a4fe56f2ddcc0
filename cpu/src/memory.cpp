// Linear memory access: translation (identity, or paging through the
// Translator the MMU provides), the CPU's software TLB of host pointers, slow
// paths for MMIO and page-crossing accesses, and self-modifying-code tracking
// (a write to a page that holds decoded code invalidates those blocks,
// SDM Vol. 3 §11.6).
#include "core.h"

namespace vs::cpu {

Fault Core::segment_fault(unsigned seg) const {
  // Limit and type violations: #SS(0) for the stack segment, #GP(0) otherwise
  // (SDM Vol. 3 §6.15, Interrupts 12 and 13). The 80286 in real mode reports
  // every segment overrun as interrupt 13, stack accesses included (measured
  // by SingleStepTests 80286; docs/cpu.md).
  if (config.model == CpuModel::I286 && !protected_mode()) return gp(0);
  return seg == SS ? fault(vec::SS, 0) : gp(0);
}

Fault Core::translate(uint32_t lin, Access access, bool user, uint32_t& phys) {
  Translation t;
  // With nested paging even guest-physical addresses (paging off) go through
  // the translator's second stage (docs/hvm-hardware.md).
  if (translator && ((s.cr0 & cr0::PG) || vmx_nested)) {
    t = translator->translate(lin, access, user, s.cr0, s.cr3, s.cr4);
    if (t.nested_fault) [[unlikely]] {
      // EPT violation (SDM Vol. 3C §28.3.3.2): a VM exit, never a guest #PF.
      VmExit e;
      e.reason = VmxExitReason::EptViolation;
      e.qualification = t.error_code | exit_qual::kEptLinearValid;
      e.guest_linear = lin;
      e.guest_physical = t.phys;
      return exit_to_vmm(e);
    }
    if (t.fault) {
      // A #PF that exits to the VMM leaves CR2 unchanged (SDM Vol. 3C §27.1).
      pf_linear = lin;
      if (!exception_exits(vec::PF)) s.cr2 = lin;
      // A #PF invalidates the TLB entries for the faulting page (SDM Vol. 3
      // §4.10.4.1); this CPU's own cache of host pointers follows suit.
      for (auto& bank : tlb) bank[(lin >> 12) & (kTlbSize - 1)] = TlbEntry{};
      return fault(vec::PF, t.error_code);
    }
  } else {
    t.phys = lin;
    t.write_ok = true;  // no paging: every page is writable
  }
  phys = t.phys & a20_mask;
  if (!t.cacheable) return {};
  // Fill this CPU's TLB with what the access proved allowed.
  const uint32_t page = phys & ~0xFFFu;
  uint8_t* host = mem.host_page(page, access == Access::Write);
  if (!host) return {};
  TlbEntry& e = tlb[user][(lin >> 12) & (kTlbSize - 1)];
  const uint32_t tag = lin & ~0xFFFu;
  if (e.phys_page != page || (e.read_tag != tag && e.write_tag != tag && e.exec_tag != tag)) {
    e = TlbEntry{};
    e.phys_page = page;
  }
  e.addend = intptr_t(host) - intptr_t(tag);
  switch (access) {
    case Access::Read:
      e.read_tag = tag;
      if (t.write_ok && !code_page[page >> 12]) e.write_tag = tag;
      break;
    case Access::Execute: e.exec_tag = tag; e.read_tag = tag; break;
    case Access::Write:
      e.read_tag = tag;
      // Pages holding decoded code stay off the write fast path so every
      // write to them reaches code_written() (self-modifying code).
      if (!code_page[page >> 12]) e.write_tag = tag;
      break;
  }
  return {};
}

Fault Core::read_lin_slow(uint32_t lin, unsigned size, uint32_t& out, bool user) {
  if ((lin & 0xFFF) + size > 4096) {  // page-crossing: byte by byte, both pages checked first
    uint32_t p0, p1;
    if (auto f = translate(lin, Access::Read, user, p0)) return f;
    if (auto f = translate(lin + size - 1, Access::Read, user, p1)) return f;
    out = 0;
    for (unsigned i = 0; i < size; ++i) {
      uint32_t b;
      if (auto f = read_lin_slow(lin + i, 1, b, user)) return f;
      out |= b << (8 * i);
    }
    return {};
  }
  uint32_t phys;
  if (auto f = translate(lin, Access::Read, user, phys)) return f;
  if (uint8_t* page = mem.host_page(phys, false)) {
    const uint8_t* p = page + (phys & 0xFFF);
    out = size == 1 ? load_host<8>(p) : size == 2 ? load_host<16>(p) : load_host<32>(p);
  } else {
    out = mem.read(phys, size);
  }
  return {};
}

Fault Core::write_lin_slow(uint32_t lin, unsigned size, uint32_t v, bool user) {
  if ((lin & 0xFFF) + size > 4096) {
    uint32_t p0, p1;
    if (auto f = translate(lin, Access::Write, user, p0)) return f;
    if (auto f = translate(lin + size - 1, Access::Write, user, p1)) return f;
    for (unsigned i = 0; i < size; ++i)
      if (auto f = write_lin_slow(lin + i, 1, (v >> (8 * i)) & 0xFF, user)) return f;
    return {};
  }
  uint32_t phys;
  if (auto f = translate(lin, Access::Write, user, phys)) return f;
  if (code_page[phys >> 12]) code_written(phys);
  if (uint8_t* page = mem.host_page(phys, true)) {
    uint8_t* p = page + (phys & 0xFFF);
    if (size == 1) store_host<8>(p, v);
    else if (size == 2) store_host<16>(p, v);
    else store_host<32>(p, v);
  } else {
    mem.write(phys, size, v);
  }
  return {};
}

Fault Core::ref_lin(uint32_t lin, unsigned size, MemRef& r) {
  const bool user = user_access();
  r.user = user;
  r.lin = lin;
  r.host = nullptr;
  const TlbEntry& e = tlb[user][(lin >> 12) & (kTlbSize - 1)];
  if (e.write_tag == (lin & ~0xFFFu) && (lin & 0xFFF) + size <= 4096) {
    r.host = reinterpret_cast<uint8_t*>(intptr_t(lin) + e.addend);
    return {};
  }
  // Probe write permission on every page the operand touches.
  uint32_t phys;
  if (auto f = translate(lin, Access::Write, user, phys)) return f;
  if ((lin & 0xFFF) + size > 4096) {
    uint32_t p1;
    return translate(lin + size - 1, Access::Write, user, p1);
  }
  if (code_page[phys >> 12]) return {};  // stay on the slow path: it notices the code write
  if (uint8_t* page = mem.host_page(phys, true)) r.host = page + (phys & 0xFFF);
  return {};
}

void Core::flush_tlb() {
  ++lookup_epoch;
  for (auto& bank : tlb)
    for (auto& e : bank) e = TlbEntry{};
}

void Core::flush_tlb_page(uint32_t lin) {
  ++lookup_epoch;
  for (auto& bank : tlb) bank[(lin >> 12) & (kTlbSize - 1)] = TlbEntry{};
}

// A page starts holding decoded code: take it off the write fast path.
void Core::note_code_page(uint32_t phys_page) {
  if (code_page[phys_page]) return;
  code_page[phys_page] = 1;
  for (auto& bank : tlb)
    for (auto& e : bank)
      if ((e.phys_page >> 12) == phys_page) e.write_tag = TlbEntry::kInvalid;
}

// Code on this page was written: blocks decoded from it are stale. The page
// generation makes every cached block of the page miss; the page returns to
// the write fast path until code is decoded from it again.
void Core::code_written(uint32_t phys) {
  const uint32_t page = phys >> 12;
  ++page_gen[page];
  code_page[page] = 0;
  ++lookup_epoch;    // shortcuts may lead to the stale blocks
  attention = true;  // the running block may contain the modified bytes
}

}  // namespace vs::cpu

// System instructions: interrupt flag and EFLAGS transfer, HLT, port I/O,
// CPUID/RDTSC/MSRs, control and debug registers, descriptor-table registers,
// LDTR/TR, the protection queries (LAR LSL VERR VERW ARPL), cache control.
// Intel SDM Vol. 2 (each instruction) and Vol. 3 Chapters 2, 5, 16, 17.
#pragma once

#include "common.inl"

namespace vs::cpu {

// #GP(0) unless CPL = 0 (which also excludes virtual-8086 mode, CPL 3).
inline Fault require_cpl0(const Core& c) { return c.cpl() == 0 ? Fault{} : gp(0); }

// CLI/STI: IOPL-sensitive in protected mode (SDM Vol. 2 "CLI"; no VME/PVI).
inline Fault require_iopl(const Core& c) {
  if (!c.protected_mode()) return {};
  if (c.v86() ? c.iopl() < 3 : c.cpl() > c.iopl()) return gp(0);
  return {};
}

template <unsigned W, Mnemonic M>
Fault CLI(Core& c, const Insn&) {
  if (auto f = require_iopl(c)) return f;
  c.s.eflags &= ~flag::IF;
  return {};
}

// STI: interrupts stay held off until after the next instruction.
template <unsigned W, Mnemonic M>
Fault STI(Core& c, const Insn& in) {
  if (auto f = require_iopl(c)) return f;
  if (!(c.s.eflags & flag::IF)) {
    c.s.interrupt_shadow = true;
    c.attention = true;
  }
  c.s.eflags |= flag::IF;
  return {};
}

// PUSHF/PUSHFD: VM and RF read as 0 in the pushed image (SDM Vol. 2 "PUSHF").
template <unsigned W, Mnemonic M>
Fault PUSHF(Core& c, const Insn&) {
  if (c.v86() && c.iopl() < 3) return gp(0);
  uint32_t f = c.eflags() & ~(flag::VM | flag::RF);
  if (c.config.model == CpuModel::I286 && !c.protected_mode()) f &= 0x0FFF;
  return c.push<W>(f & mask<W>());
}

// POPF/POPFD: which bits change depends on CPL and IOPL (SDM Vol. 2 "POPF",
// Table 4-16). At CPL > 0 IOPL is silently kept; at CPL > IOPL so is IF — no
// fault: the classic sensitive-but-unprivileged instruction (SEMANTICS.md §6).
inline uint32_t popf_changeable(const Core& c, unsigned width) {
  uint32_t m = flag::kArith | flag::TF | flag::DF | flag::NT;
  if (c.config.model != CpuModel::I286) m |= flag::AC | flag::ID;
  if (c.cpl() == 0) m |= flag::IOPL;
  if (c.cpl() <= c.iopl() || c.v86()) m |= flag::IF;
  return width == 16 ? m & 0xFFFF : m;
}

template <unsigned W, Mnemonic M>
Fault POPF(Core& c, const Insn& in) {
  if (c.v86() && c.iopl() < 3) return gp(0);
  uint32_t v;
  if (auto f = c.pop<W>(v)) return f;
  c.write_eflags(v, popf_changeable(c, W));
  return {};
}

template <unsigned W, Mnemonic M>
Fault HLT(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  c.s.halted = true;
  c.attention = true;
  c.emit(trace::EventKind::Halt, c.s.eip, c.s.seg[CS].selector);
  return {};
}

// --------------------------------------------------------------- port I/O ----
template <unsigned W, Mnemonic M>
Fault port_in(Core& c, const Insn& in) {
  const uint16_t port = in.op == 0xE4 || in.op == 0xE5 ? uint16_t(in.imm & 0xFF) : uint16_t(c.gpr(EDX));
  if (auto f = c.check_io(port, W / 8)) return f;
  c.set_reg<W>(EAX, c.port_in(port, W / 8));
  return {};
}

template <unsigned W, Mnemonic M>
Fault port_out(Core& c, const Insn& in) {
  const uint16_t port = in.op == 0xE6 || in.op == 0xE7 ? uint16_t(in.imm & 0xFF) : uint16_t(c.gpr(EDX));
  if (auto f = c.check_io(port, W / 8)) return f;
  c.port_out(port, W / 8, c.reg<W>(EAX));
  return {};
}

// ------------------------------------------------ identification and time ----
template <unsigned W, Mnemonic M>
Fault CPUID(Core& c, const Insn&) {
  const CpuidResult r = c.cpuid(c.gpr(EAX), c.gpr(ECX));
  c.gpr(EAX) = r.eax;
  c.gpr(EBX) = r.ebx;
  c.gpr(ECX) = r.ecx;
  c.gpr(EDX) = r.edx;
  return {};
}

// RDTSC reads virtual time: instructions retired plus the TSC offset.
template <unsigned W, Mnemonic M>
Fault RDTSC(Core& c, const Insn&) {
  if ((c.s.cr4 & cr4::TSD) && c.cpl() > 0) return gp(0);
  const uint64_t t = c.icount + c.s.tsc_offset;
  c.gpr(EAX) = uint32_t(t);
  c.gpr(EDX) = uint32_t(t >> 32);
  return {};
}

// No performance counters are modelled: RDPMC is #GP(0) for every counter.
template <unsigned W, Mnemonic M>
Fault RDPMC(Core& c, const Insn&) { return gp(0); }

template <unsigned W, Mnemonic M>
Fault RDMSR(Core& c, const Insn&) {
  if (auto f = require_cpl0(c)) return f;
  uint64_t v;
  if (!c.read_msr(c.gpr(ECX), v)) return gp(0);
  c.gpr(EAX) = uint32_t(v);
  c.gpr(EDX) = uint32_t(v >> 32);
  return {};
}

template <unsigned W, Mnemonic M>
Fault WRMSR(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  if (!c.write_msr(c.gpr(ECX), uint64_t(c.gpr(EDX)) << 32 | c.gpr(EAX))) return gp(0);
  return {};
}

// ------------------------------------------------ control/debug registers ----
template <unsigned W, Mnemonic M>
Fault mov_R_cr(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  uint32_t v;
  switch (in.reg) {
    case 0: v = c.s.cr0; break;
    case 2: v = c.s.cr2; break;
    case 3: v = c.s.cr3; break;
    case 4: v = c.s.cr4; break;
    default: return ud();
  }
  c.gpr(in.rm) = v;
  return {};
}

template <unsigned W, Mnemonic M>
Fault mov_cr_R(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  if (auto f = c.write_cr(in.reg, c.gpr(in.rm))) return f;
  return {};
}

// DR4/DR5 alias DR6/DR7 unless CR4.DE makes them #UD (SDM Vol. 3 §17.2.2).
inline int debug_register_index(const Core& c, unsigned n) {
  if (n == 4 || n == 5) return (c.s.cr4 & cr4::DE) ? -1 : int(n + 2);
  return int(n);
}

template <unsigned W, Mnemonic M>
Fault mov_R_dr(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  const int n = debug_register_index(c, in.reg);
  if (n < 0) return ud();
  c.gpr(in.rm) = c.s.dr[n];
  return {};
}

template <unsigned W, Mnemonic M>
Fault mov_dr_R(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  const int n = debug_register_index(c, in.reg);
  if (n < 0) return ud();
  uint32_t v = c.gpr(in.rm);
  if (n == 6) v = (v & 0x0000E00F) | 0xFFFF0FF0;   // reserved bits read as 1 (P6)
  if (n == 7) v = (v & 0xFFFF2BFF) | 0x00000400;
  c.s.dr[n] = v;
  return {};
}

template <unsigned W, Mnemonic M>
Fault CLTS(Core& c, const Insn&) {
  if (auto f = require_cpl0(c)) return f;
  c.s.cr0 &= ~cr0::TS;
  return {};
}

// LMSW loads PE MP EM TS; it can set PE but never clear it (SDM Vol. 2 "LMSW").
template <unsigned W, Mnemonic M>
Fault LMSW(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  uint32_t v;
  if (auto f = read_E<16>(c, in, v)) return f;
  const uint32_t cr0 = (c.s.cr0 & ~0xEu) | (v & 0xF) | (c.s.cr0 & cr0::PE);
  if (auto f = c.write_cr(0, cr0)) return f;
  return {};
}

// SMSW: the low 16 bits of CR0 to memory; a 32-bit register gets all of CR0 (P6).
template <unsigned W, Mnemonic M>
Fault SMSW(Core& c, const Insn& in) {
  if (in.mod == 3) {
    c.set_reg<W>(in.rm, c.s.cr0 & mask<W>());
    return {};
  }
  return c.write<16>(in.seg, c.ea(in), c.s.cr0 & 0xFFFF);
}

template <unsigned W, Mnemonic M>
Fault cache_op(Core& c, const Insn&) { return require_cpl0(c); }  // INVD, WBINVD: no caches modelled

template <unsigned W, Mnemonic M>
Fault INVLPG(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  const uint32_t lin = c.win[in.seg].base + c.ea(in);
  c.flush_tlb_page(lin);
  if (c.translator) c.translator->invalidate_page(lin);
  return {};
}

// ------------------------------------------------ descriptor-table registers ----
// LGDT/LIDT: 16-bit limit then base; a 16-bit operand size keeps 24 base bits.
template <unsigned W, Mnemonic M>
Fault load_table_reg(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  const uint32_t addr = c.ea(in);
  uint32_t limit, base;
  if (auto f = c.read<16>(in.seg, addr, limit)) return f;
  if (auto f = c.read<32>(in.seg, (addr + 2) & in.addr_mask, base)) return f;
  if constexpr (W == 16) base &= 0x00FFFFFF;
  TableReg& t = M == Mnemonic::LGDT ? c.s.gdtr : c.s.idtr;
  t.limit = uint16_t(limit);
  t.base = base;
  return {};
}

// SGDT/SIDT store the REAL register at any CPL: a VMM's table leaks to a
// deprivileged guest (SEMANTICS.md §6). 16-bit operand size stores 0 in the top byte.
template <unsigned W, Mnemonic M>
Fault store_table_reg(Core& c, const Insn& in) {
  const TableReg& t = M == Mnemonic::SGDT ? c.s.gdtr : c.s.idtr;
  const uint32_t addr = c.ea(in);
  if (auto f = c.check_segment(in.seg, addr, 6, true)) return f;
  if (auto f = c.write<16>(in.seg, addr, t.limit)) return f;
  return c.write<32>(in.seg, (addr + 2) & in.addr_mask, W == 16 ? t.base & 0x00FFFFFF : t.base);
}

template <unsigned W, Mnemonic M>
Fault SLDT(Core& c, const Insn& in) {
  if (in.mod == 3) {
    c.set_reg<32>(in.rm, c.s.ldtr.selector);  // zero-extended into the register
    return {};
  }
  return c.write<16>(in.seg, c.ea(in), c.s.ldtr.selector);
}

template <unsigned W, Mnemonic M>
Fault STR(Core& c, const Insn& in) {
  if (in.mod == 3) {
    c.set_reg<32>(in.rm, c.s.tr.selector);
    return {};
  }
  return c.write<16>(in.seg, c.ea(in), c.s.tr.selector);
}

template <unsigned W, Mnemonic M>
Fault LLDT(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  uint32_t sel;
  if (auto f = read_E<16>(c, in, sel)) return f;
  return c.load_ldtr(uint16_t(sel));
}

template <unsigned W, Mnemonic M>
Fault LTR(Core& c, const Insn& in) {
  if (auto f = require_cpl0(c)) return f;
  uint32_t sel;
  if (auto f = read_E<16>(c, in, sel)) return f;
  return c.load_tr(uint16_t(sel));
}

// ---------------------------------------------------- protection queries ----
// VERR/VERW/LAR/LSL never fault on a bad selector: they report through ZF
// (SDM Vol. 2 "LAR", "LSL", "VERR/VERW"). Checks use the REAL CPL: a guest
// kernel at ring 1 gets different answers (SEMANTICS.md §6).
template <unsigned W, Mnemonic M>
Fault verify(Core& c, const Insn& in) {
  uint32_t sel;
  if (auto f = read_E<16>(c, in, sel)) return f;
  bool ok = false;
  if (auto f = c.query_selector(uint16_t(sel), M == Mnemonic::VERR ? Core::Query::Read : Core::Query::Write, ok))
    return f;
  c.set_flag(flag::ZF, ok);
  return {};
}

template <unsigned W, Mnemonic M>
Fault load_access(Core& c, const Insn& in) {
  uint32_t sel;
  if (auto f = read_E<16>(c, in, sel)) return f;
  bool ok = false;
  uint64_t desc = 0;
  const auto q = M == Mnemonic::LAR ? Core::Query::AccessRights : Core::Query::Limit;
  if (auto f = c.query_selector(uint16_t(sel), q, ok, &desc)) return f;
  c.set_flag(flag::ZF, ok);
  if (!ok) return {};
  if constexpr (M == Mnemonic::LAR) {
    c.set_reg<W>(in.reg, uint32_t(desc >> 32) & 0x00F0FF00 & mask<W>());
  } else {
    uint32_t limit = uint32_t(desc & 0xFFFF) | (uint32_t(desc >> 32) & 0x000F0000);
    if (desc & (uint64_t(1) << 55)) limit = (limit << 12) | 0xFFF;
    c.set_reg<W>(in.reg, limit & mask<W>());
  }
  return {};
}

template <unsigned W, Mnemonic M>
Fault ARPL(Core& c, const Insn& in) {
  const uint32_t src_rpl = c.reg<16>(in.reg) & 3;
  bool adjusted = false;
  if (auto f = modify_E<16>(c, in, [&](uint32_t d) {
        if ((d & 3) < src_rpl) {
          adjusted = true;
          return (d & ~3u) | src_rpl;
        }
        return d;
      }))
    return f;
  c.set_flag(flag::ZF, adjusted);
  return {};
}

template <unsigned W, Mnemonic M>
Fault UD2(Core&, const Insn&) { return ud(); }

// VMCALL (0F 01 C1): outside VMX non-root operation there is no VMM to call
// and this CPU has no VMX root operation either, so #UD (SDM Vol. 2
// "VMCALL": #UD when not in VMX operation). In non-root mode the decoder
// replaces it with the VM exit it always causes (vmx.cpp).
template <unsigned W, Mnemonic M>
Fault VMCALL(Core&, const Insn&) { return ud(); }

}  // namespace vs::cpu

// Control transfer: Jcc, JMP, CALL, RET, LOOP/JCXZ, far forms, INT n / INT3 /
// INTO / INT1 and IRET. Near forms are here; the protected-mode far forms
// (descriptors, call gates, privilege changes) live in transfer.cpp.
// Intel SDM Vol. 2 (JMP, CALL, RET, INT n, IRET) and Vol. 3 §5.8, §6.12.
#pragma once

#include "common.inl"

namespace vs::cpu {

template <unsigned W, Mnemonic M>
Fault jcc(Core& c, const Insn& in) {
  if (c.condition<condition_code<M>()>()) return jump_near(c, branch_target<W>(c, in));
  return {};
}

template <unsigned W, Mnemonic M>
Fault jmp_near(Core& c, const Insn& in) { return jump_near(c, branch_target<W>(c, in)); }

template <unsigned W, Mnemonic M>
Fault jmp_near_E(Core& c, const Insn& in) {
  uint32_t t;
  if (auto f = read_E<W>(c, in, t)) return f;
  return jump_near(c, t);
}

template <unsigned W>
Fault call_to(Core& c, const Insn& in, uint32_t target) {
  if (target > c.s.seg[CS].limit) return gp(0);
  if (auto f = c.push<W>(c.s.eip & mask<W>())) return f;
  c.s.eip = target;
  return {};
}

template <unsigned W, Mnemonic M>
Fault call_near(Core& c, const Insn& in) { return call_to<W>(c, in, branch_target<W>(c, in)); }

template <unsigned W, Mnemonic M>
Fault call_near_E(Core& c, const Insn& in) {
  uint32_t t;
  if (auto f = read_E<W>(c, in, t)) return f;
  return call_to<W>(c, in, t);
}

// RET / RET imm16: the immediate releases stack bytes after the pop.
template <unsigned W, Mnemonic M>
Fault ret_near(Core& c, const Insn& in) {
  uint32_t t;
  if (auto f = c.read<W>(SS, c.sp(), t)) return f;
  if (t > c.s.seg[CS].limit) return gp(0);
  c.set_sp(c.sp() + W / 8 + (in.op == 0xC2 ? (in.imm & 0xFFFF) : 0));
  c.s.eip = t;
  return {};
}

// LOOP/LOOPE/LOOPNE/JCXZ: the counter is CX or ECX by ADDRESS size.
template <unsigned W, Mnemonic M>
Fault loop(Core& c, const Insn& in) {
  using enum Mnemonic;
  uint32_t count = c.gpr(ECX) & in.addr_mask;
  bool take;
  if constexpr (M == JCXZ) {
    take = count == 0;
  } else {
    count = (count - 1) & in.addr_mask;
    c.gpr(ECX) = (c.gpr(ECX) & ~in.addr_mask) | count;
    take = count != 0;
    if constexpr (M == LOOPE) take = take && c.zf();
    if constexpr (M == LOOPNE) take = take && !c.zf();
  }
  if (take) return jump_near(c, branch_target<W>(c, in));
  return {};
}

// ------------------------------------------------------------ far forms ----
template <unsigned W, Mnemonic M>
Fault jmp_far_A(Core& c, const Insn& in) { return c.far_jump(in.imm2, in.imm, W); }

template <unsigned W, Mnemonic M>
Fault call_far_A(Core& c, const Insn& in) { return c.far_call(in.imm2, in.imm, W); }

template <unsigned W>
Fault read_far_pointer(Core& c, const Insn& in, uint32_t& off, uint16_t& sel) {
  const uint32_t addr = c.ea(in);
  uint32_t s;
  if (auto f = c.read<W>(in.seg, addr, off)) return f;
  if (auto f = c.read<16>(in.seg, (addr + W / 8) & in.addr_mask, s)) return f;
  sel = uint16_t(s);
  return {};
}

template <unsigned W, Mnemonic M>
Fault jmp_far_M(Core& c, const Insn& in) {
  uint32_t off;
  uint16_t sel;
  if (auto f = read_far_pointer<W>(c, in, off, sel)) return f;
  return c.far_jump(sel, off, W);
}

template <unsigned W, Mnemonic M>
Fault call_far_M(Core& c, const Insn& in) {
  uint32_t off;
  uint16_t sel;
  if (auto f = read_far_pointer<W>(c, in, off, sel)) return f;
  return c.far_call(sel, off, W);
}

template <unsigned W, Mnemonic M>
Fault ret_far(Core& c, const Insn& in) {
  return c.far_return(W, in.op == 0xCA ? (in.imm & 0xFFFF) : 0);
}

// ----------------------------------------------------- software interrupts ----
template <unsigned W, Mnemonic M>
Fault INT(Core& c, const Insn& in) {
  // In virtual-8086 mode INT n with IOPL < 3 is #GP(0) (SDM Vol. 3 §20.2.7, without VME).
  if (c.v86() && c.iopl() < 3) return gp(0);
  return c.software_interrupt(uint8_t(in.imm), in.len, Core::kOriginIntN);
}

template <unsigned W, Mnemonic M>
Fault INT3(Core& c, const Insn& in) { return c.software_interrupt(vec::BP, in.len, Core::kOriginInt3); }

template <unsigned W, Mnemonic M>
Fault INTO(Core& c, const Insn& in) {
  if (!c.of()) return {};
  return c.software_interrupt(vec::OF, in.len, Core::kOriginInt3);
}

// INT1 / ICEBP (F1): a #DB trap delivered like a hardware event, no gate DPL check.
template <unsigned W, Mnemonic M>
Fault INT1(Core& c, const Insn& in) { return c.software_interrupt(vec::DB, in.len, Core::kOriginIcebp); }

template <unsigned W, Mnemonic M>
Fault IRET(Core& c, const Insn&) { return c.interrupt_return(W); }

}  // namespace vs::cpu

// Data movement: MOV in all its forms, LEA, the stack (PUSH/POP, PUSHA/POPA,
// ENTER/LEAVE), segment-register moves and far-pointer loads, XLAT, BOUND,
// and the do-nothing instructions (NOP, WAIT, x87 escapes without an FPU).
// Intel SDM Vol. 2, each instruction's Operation section.
#pragma once

#include "common.inl"

namespace vs::cpu {

template <unsigned W, Mnemonic M>
Fault mov_EG(Core& c, const Insn& in) { return write_E<W>(c, in, c.reg<W>(in.reg)); }

template <unsigned W, Mnemonic M>
Fault mov_GE(Core& c, const Insn& in) {
  uint32_t v;
  if (auto f = read_E<W>(c, in, v)) return f;
  c.set_reg<W>(in.reg, v);
  return {};
}

template <unsigned W, Mnemonic M>
Fault mov_EI(Core& c, const Insn& in) { return write_E<W>(c, in, in.imm & mask<W>()); }

template <unsigned W, Mnemonic M>
Fault mov_ZI(Core& c, const Insn& in) {
  c.set_reg<W>(in.op & 7, in.imm & mask<W>());
  return {};
}

template <unsigned W, Mnemonic M>
Fault mov_AO(Core& c, const Insn& in) {  // MOV AL/eAX, moffs
  uint32_t v;
  if (auto f = c.read<W>(in.seg, in.disp & in.addr_mask, v)) return f;
  c.set_reg<W>(EAX, v);
  return {};
}

template <unsigned W, Mnemonic M>
Fault mov_OA(Core& c, const Insn& in) { return c.write<W>(in.seg, in.disp & in.addr_mask, c.reg<W>(EAX)); }

// LEA computes the offset only; the operand size truncates it (SDM Vol. 2 "LEA").
template <unsigned W, Mnemonic M>
Fault LEA(Core& c, const Insn& in) {
  c.set_reg<W>(in.reg, c.ea(in) & mask<W>());
  return {};
}

template <unsigned W, Mnemonic M>
Fault NOP(Core&, const Insn&) { return {}; }

// WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set; otherwise nothing to
// wait for, there is no FPU (SDM Vol. 2 "WAIT").
template <unsigned W, Mnemonic M>
Fault WAIT(Core& c, const Insn&) {
  if ((c.s.cr0 & (cr0::MP | cr0::TS)) == (cr0::MP | cr0::TS)) return fault(vec::NM);
  return {};
}

// x87 escape D8-DF. virtscope has no FPU yet and CPUID says so: #NM when
// CR0.EM or CR0.TS is set (the OS's "emulate the FPU" contract, SDM Vol. 3
// §2.5); with EM clear the instruction raises #UD, the documented choice for a
// processor without x87 (the SDM leaves it undefined). The I286 model instead
// lets ESC run as a no-op bus cycle, as the 80286 without an 80287 does.
// Bytes of an x87 memory operand by escape opcode and ModRM.reg (SDM Vol. 1
// §8.1 data types; environment and state images in 16-bit real-mode format).
inline unsigned x87_operand_bytes(uint8_t op, unsigned reg) {
  switch (op) {
    case 0xD8: case 0xDA: return 4;
    case 0xD9: return reg == 4 || reg == 6 ? 14 : reg == 5 || reg == 7 ? 2 : 4;
    case 0xDB: return reg == 5 || reg == 7 ? 10 : 4;
    case 0xDC: return 8;
    case 0xDD: return reg == 4 || reg == 6 ? 94 : reg == 7 ? 2 : 8;
    case 0xDE: return 2;
    default: return reg == 4 || reg == 6 ? 10 : reg == 5 || reg == 7 ? 8 : 2;  // DF
  }
}

template <unsigned W, Mnemonic M>
Fault ESC(Core& c, const Insn& in) {
  if (c.s.cr0 & (cr0::EM | cr0::TS)) return fault(vec::NM);
  if (c.config.model != CpuModel::I286) return ud();
  // The 80286 runs the operand's bus cycles for the (absent) 80287, so a
  // memory operand past the segment limit still faults.
  if (in.mod != 3) return c.check_segment(in.seg, c.ea(in), x87_operand_bytes(in.op, in.reg), false);
  return {};
}

// ---------------------------------------------------------------- stack ----
template <unsigned W, Mnemonic M>
Fault push_Z(Core& c, const Insn& in) {
  // PUSH ESP pushes the value before the push (SDM Vol. 2 "PUSH").
  return c.push<W>(c.reg<W>(in.op & 7));
}

template <unsigned W, Mnemonic M>
Fault pop_Z(Core& c, const Insn& in) {
  uint32_t v;
  if (auto f = c.pop<W>(v)) return f;
  c.set_reg<W>(in.op & 7, v);  // POP ESP: the popped value wins over the increment
  return {};
}

template <unsigned W, Mnemonic M>
Fault push_I(Core& c, const Insn& in) { return c.push<W>(in.imm & mask<W>()); }

template <unsigned W, Mnemonic M>
Fault push_E(Core& c, const Insn& in) {
  uint32_t v;
  if (auto f = read_E<W>(c, in, v)) return f;
  return c.push<W>(v);
}

// POP Ev: ESP is incremented before the destination address is computed
// (SDM Vol. 2 "POP": "If the ESP register is used as a base register...").
template <unsigned W, Mnemonic M>
Fault pop_E(Core& c, const Insn& in) {
  uint32_t v;
  if (auto f = c.read<W>(SS, c.sp(), v)) return f;
  const uint32_t old_esp = c.gpr(ESP);
  c.set_sp(c.sp() + W / 8);
  if (auto f = write_E<W>(c, in, v)) {
    // P6: the instruction restarts cleanly. The 80286 in real mode keeps the
    // incremented SP (SingleStepTests 80286, docs/cpu.md).
    if (!(c.config.model == CpuModel::I286 && !c.protected_mode())) c.gpr(ESP) = old_esp;
    return f;
  }
  return {};
}

template <unsigned W, Mnemonic M>
Fault PUSHA(Core& c, const Insn&) {
  const uint32_t sp = c.sp(), m = c.sp_mask();
  // Check the whole frame first so a fault leaves ESP unchanged.
  for (unsigned i = 0; i < 8; ++i)
    if (auto f = c.check_segment(SS, (sp - (i + 1) * (W / 8)) & m, W / 8, true)) return f;
  for (unsigned i = 0; i < 8; ++i) {
    const uint32_t v = i == ESP ? sp : c.reg<W>(i);
    if (auto f = c.write<W>(SS, (sp - (i + 1) * (W / 8)) & m, v)) return f;
  }
  c.set_sp(sp - 8 * (W / 8));
  return {};
}

template <unsigned W, Mnemonic M>
Fault POPA(Core& c, const Insn&) {
  const uint32_t sp = c.sp(), m = c.sp_mask();
  uint32_t v[8];
  for (unsigned i = 0; i < 8; ++i)
    if (auto f = c.read<W>(SS, (sp + i * (W / 8)) & m, v[7 - i])) return f;
  for (unsigned i = 0; i < 8; ++i)
    if (i != ESP) c.set_reg<W>(i, v[i]);  // the saved ESP is discarded
  c.set_sp(sp + 8 * (W / 8));
  return {};
}

// ENTER size, level (SDM Vol. 2 "ENTER"): level is taken modulo 32.
template <unsigned W, Mnemonic M>
Fault ENTER(Core& c, const Insn& in) {
  const uint32_t size = in.imm & 0xFFFF;
  const unsigned level = in.imm2 & 31;
  const uint32_t m = c.sp_mask();
  const uint32_t frame_temp = (c.sp() - W / 8) & m;
  uint32_t sp = c.sp();
  const uint32_t ebp = c.stack32() ? c.gpr(EBP) : c.gpr(EBP) & 0xFFFF;
  sp = (sp - W / 8) & m;
  if (auto f = c.write<W>(SS, sp, c.reg<W>(EBP))) return f;
  uint32_t bp = ebp;
  for (unsigned i = 1; i < level; ++i) {
    bp = (bp - W / 8) & m;
    uint32_t v;
    if (auto f = c.read<W>(SS, bp, v)) return f;
    sp = (sp - W / 8) & m;
    if (auto f = c.write<W>(SS, sp, v)) return f;
  }
  if (level > 0) {
    sp = (sp - W / 8) & m;
    if (auto f = c.write<W>(SS, sp, frame_temp)) return f;
  }
  const uint32_t new_sp = (sp - size) & m;
  // The new stack top must be addressable (#SS if the allocation exceeds the limit).
  if (auto f = c.check_segment(SS, new_sp, 1, true)) return f;
  c.set_reg<W>(EBP, frame_temp);
  c.set_sp(new_sp);
  return {};
}

template <unsigned W, Mnemonic M>
Fault LEAVE(Core& c, const Insn&) {
  const uint32_t bp = c.stack32() ? c.gpr(EBP) : c.gpr(EBP) & 0xFFFF;
  uint32_t v;
  if (auto f = c.read<W>(SS, bp, v)) return f;
  c.set_sp(bp + W / 8);
  c.set_reg<W>(EBP, v);
  return {};
}

template <unsigned W, Mnemonic M>
Fault XLAT(Core& c, const Insn& in) {
  const uint32_t addr = (c.gpr(EBX) + c.reg<8>(EAX)) & in.addr_mask;
  uint32_t v;
  if (auto f = c.read<8>(in.seg, addr, v)) return f;
  c.set_reg<8>(EAX, v);
  return {};
}

// BOUND: #BR when the index lies outside [lower, upper] (signed).
template <unsigned W, Mnemonic M>
Fault BOUND(Core& c, const Insn& in) {
  const uint32_t addr = c.ea(in);
  uint32_t lo, hi;
  if (auto f = c.read<W>(in.seg, addr, lo)) return f;
  if (auto f = c.read<W>(in.seg, (addr + W / 8) & in.addr_mask, hi)) return f;
  const int64_t idx = sign_extend<W>(c.reg<W>(in.reg));
  if (idx < sign_extend<W>(lo) || idx > sign_extend<W>(hi)) return fault(vec::BR);
  return {};
}

// ------------------------------------------------------ segment registers ----
// PUSH/POP of ES CS SS DS (06/0E/16/1E, 07/17/1F) and FS GS (0F A0/A8, A1/A9).
inline unsigned sreg_of_push_pop(uint8_t op) {
  switch (op) {
    case 0xA0: case 0xA1: return FS;
    case 0xA8: case 0xA9: return GS;
    default: return (op >> 3) & 3;
  }
}

template <unsigned W, Mnemonic M>
Fault push_sreg(Core& c, const Insn& in) {
  // A 32-bit push of a segment register writes only the low 16 bits on P6
  // (SDM Vol. 2 "PUSH"); the upper half of the slot keeps its old contents.
  const uint16_t sel = c.s.seg[sreg_of_push_pop(in.op)].selector;
  if constexpr (W == 32) {
    const uint32_t nsp = (c.sp() - 4) & c.sp_mask();
    if (auto f = c.check_segment(SS, nsp, 4, true)) return f;
    if (auto f = c.write<16>(SS, nsp, sel)) return f;
    c.set_sp(nsp);
    return {};
  } else {
    return c.push<16>(sel);
  }
}

template <unsigned W, Mnemonic M>
Fault pop_sreg(Core& c, const Insn& in) {
  const unsigned seg = sreg_of_push_pop(in.op);
  uint32_t v;
  if (auto f = c.read<W>(SS, c.sp(), v)) return f;
  if (auto f = c.load_segment(seg, uint16_t(v))) return f;
  c.set_sp(c.sp() + W / 8);
  if (seg == SS) {  // POP SS holds off interrupts for one instruction
    c.s.interrupt_shadow = true;
    c.attention = true;
  }
  return {};
}

template <unsigned W, Mnemonic M>
Fault mov_E_sreg(Core& c, const Insn& in) {
  if (in.reg >= kSegCount) return ud();
  const uint16_t sel = c.s.seg[in.reg].selector;
  // To memory: always 16 bits. To a register with 32-bit operand size: zero-extended on P6.
  if (in.mod == 3) {
    c.set_reg<W>(in.rm, sel);
    return {};
  }
  return c.write<16>(in.seg, c.ea(in), sel);
}

template <unsigned W, Mnemonic M>
Fault mov_sreg_E(Core& c, const Insn& in) {
  if (in.reg >= kSegCount || in.reg == CS) return ud();  // MOV CS is #UD
  uint32_t v;
  if (auto f = read_E<16>(c, in, v)) return f;
  if (auto f = c.load_segment(in.reg, uint16_t(v))) return f;
  if (in.reg == SS) {
    c.s.interrupt_shadow = true;
    c.attention = true;
  }
  return {};
}

// LES/LDS/LSS/LFS/LGS: offset then selector from memory.
template <unsigned W, Mnemonic M>
Fault load_far_ptr(Core& c, const Insn& in) {
  using enum Mnemonic;
  constexpr unsigned seg = M == LES ? ES : M == LDS ? DS : M == LSS ? SS : M == LFS ? FS : GS;
  const uint32_t addr = c.ea(in);
  uint32_t off, sel;
  if (auto f = c.read<W>(in.seg, addr, off)) return f;
  if (auto f = c.read<16>(in.seg, (addr + W / 8) & in.addr_mask, sel)) return f;
  if (auto f = c.load_segment(seg, uint16_t(sel))) return f;
  c.set_reg<W>(in.reg, off);
  if constexpr (seg == SS) {
    c.s.interrupt_shadow = true;
    c.attention = true;
  }
  return {};
}

}  // namespace vs::cpu

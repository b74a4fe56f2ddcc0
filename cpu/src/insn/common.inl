// Operand access shared by every handler: the E operand (register or memory
// per ModRM), read-modify-write, masks and sign extension by operand width.
#pragma once

#include "../flags.h"

namespace vs::cpu {

template <unsigned W>
constexpr uint32_t mask() { return W >= 32 ? 0xFFFFFFFFu : (1u << W) - 1; }

template <unsigned W>
constexpr int64_t sign_extend(uint32_t v) {
  if constexpr (W >= 64) return int64_t(v);
  else if constexpr (W == 32) return int64_t(int32_t(v));
  else return int64_t((int64_t(v) & ((int64_t(1) << W) - 1)) ^ (int64_t(1) << (W - 1))) - (int64_t(1) << (W - 1));
}

// Memory halves of the E-operand accessors. Handlers are instantiated per
// ModRM form (run_chained), so inlining these costs register-form handlers
// nothing: the compiler drops the memory path from them.
#define VS_MEMORY_PATH VS_HOT

template <unsigned W>
VS_MEMORY_PATH Fault read_E_memory(Core& c, const Insn& in, uint32_t& v) {
  return c.read<W>(in.seg, c.ea(in), v);
}

template <unsigned W>
VS_MEMORY_PATH Fault write_E_memory(Core& c, const Insn& in, uint32_t v) {
  return c.write<W>(in.seg, c.ea(in), v);
}

template <unsigned W>
VS_HOT Fault read_E(Core& c, const Insn& in, uint32_t& v) {
  if (in.mod == 3) [[likely]] {
    v = c.reg<W>(in.rm);
    return {};
  }
  return read_E_memory<W>(c, in, v);
}

template <unsigned W>
VS_HOT Fault write_E(Core& c, const Insn& in, uint32_t v) {
  if (in.mod == 3) [[likely]] {
    c.set_reg<W>(in.rm, v);
    return {};
  }
  return write_E_memory<W>(c, in, v);
}

// Read-modify-write of the E operand: write permission is checked before
// anything changes, so a fault leaves the machine as it was.
template <unsigned W, class Fn>
VS_HOT Fault modify_E(Core& c, const Insn& in, Fn&& fn) {
  if (in.mod == 3) {
    c.set_reg<W>(in.rm, fn(c.reg<W>(in.rm)));
    return {};
  }
  MemRef m;
  if (auto f = c.ref<W>(in.seg, c.ea(in), m)) return f;
  c.store<W>(m, fn(c.load<W>(m)));
  return {};
}

// Target of a near branch, relative to the next instruction (EIP has already
// been advanced past this one by the run loop). EIP wraps to 16 bits with a
// 16-bit operand size (SDM Vol. 2 "Jcc": "IF OperandSize = 16 THEN EIP <- EIP AND 0000FFFFH").
template <unsigned W>
VS_HOT uint32_t branch_target(const Core& c, const Insn& in) {
  const uint32_t t = c.s.eip + in.imm;
  return W == 16 ? t & 0xFFFF : t;
}

// A near control transfer checks the target against the CS limit (#GP(0)).
VS_HOT Fault jump_near(Core& c, uint32_t target) {
  if (target > c.s.seg[CS].limit) return gp(0);
  c.s.eip = target;
  return {};
}

// Threaded execution of a decoded block (cpu.cpp, Core::run): each
// instruction does the run loop's per-instruction work itself and jumps
// straight to the next instruction's handler (a tail call), so a block runs
// without returning to the loop. A fault puts EIP back on the instruction
// and returns the fault; `attention` or the block's sentinel end the chain.
//
// The decoder knows whether an E operand is a register or memory (ModRM.mod),
// so rows with an E operand get one chained handler per form: with the form
// stated here the compiler drops the other form's path from the handler, and
// a register-form handler runs without a stack frame.
enum class Form : uint8_t { Any, Reg, Mem };
template <Handler H, Form F = Form::Any>
Fault run_chained(Core& c, const Insn& in) {
  if constexpr (F == Form::Reg) {
    if (in.mod != 3) __builtin_unreachable();
  } else if constexpr (F == Form::Mem) {
    if (in.mod == 3) __builtin_unreachable();
  }
  const uint32_t at = c.s.eip;
  c.s.eip = at + in.len;
  if (Fault f = H(c, in)) [[unlikely]] {
    c.s.eip = at;
    return f;
  }
  ++c.icount;
  if (c.attention) [[unlikely]] return {};
  const Insn& next = (&in)[1];
  return next.chained(c, next);
}

}  // namespace vs::cpu

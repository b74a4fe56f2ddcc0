// Integer arithmetic and logic: ADD..CMP, INC/DEC, NOT/NEG, MUL/IMUL/DIV/IDIV,
// shifts and rotates, SHLD/SHRD, bit tests and scans, BCD adjusts, sign
// extensions, exchanges, SETcc/CMOVcc and the flag instructions.
// Intel SDM Vol. 2 (each instruction's Operation and Flags Affected sections).
#pragma once

#include "common.inl"

namespace vs::cpu {

// ---------------------------------------------------------- ALU kernel ----
template <Mnemonic M>
constexpr bool alu_writes_back = M != Mnemonic::CMP && M != Mnemonic::TEST;

// The eight ALU operations plus TEST: compute, record the flags lazily.
template <unsigned W, Mnemonic M>
VS_HOT uint32_t alu(Core& c, uint32_t a, uint32_t b) {
  constexpr uint32_t m = mask<W>();
  using enum Mnemonic;
  if constexpr (M == ADD) {
    uint32_t r = (a + b) & m;
    c.set_lazy<W>(LazyOp::Add, a, b, r);
    return r;
  } else if constexpr (M == ADC) {
    const bool carry = c.cf();
    uint32_t r = (a + b + carry) & m;
    c.set_lazy<W>(carry ? LazyOp::AddCarry : LazyOp::Add, a, b, r);
    return r;
  } else if constexpr (M == SUB || M == CMP) {
    uint32_t r = (a - b) & m;
    c.set_lazy<W>(LazyOp::Sub, a, b, r);
    return r;
  } else if constexpr (M == SBB) {
    const bool borrow = c.cf();
    uint32_t r = (a - b - borrow) & m;
    c.set_lazy<W>(borrow ? LazyOp::SubBorrow : LazyOp::Sub, a, b, r);
    return r;
  } else if constexpr (M == AND || M == TEST) {
    uint32_t r = a & b;
    c.set_lazy<W>(LazyOp::Logic, a, b, r);
    return r;
  } else if constexpr (M == OR) {
    uint32_t r = a | b;
    c.set_lazy<W>(LazyOp::Logic, a, b, r);
    return r;
  } else {
    static_assert(M == XOR);
    uint32_t r = a ^ b;
    c.set_lazy<W>(LazyOp::Logic, a, b, r);
    return r;
  }
}

// ALU with destination E (register or memory) and a source value; the memory
// half is out of line (see VS_MEMORY_PATH).
template <unsigned W, Mnemonic M>
VS_MEMORY_PATH Fault alu_to_E_memory(Core& c, const Insn& in, uint32_t b);

template <unsigned W, Mnemonic M>
VS_HOT Fault alu_to_E(Core& c, const Insn& in, uint32_t b) {
  if (in.mod == 3) [[likely]] {
    uint32_t r = alu<W, M>(c, c.reg<W>(in.rm), b);
    if constexpr (alu_writes_back<M>) c.set_reg<W>(in.rm, r);
    return {};
  }
  return alu_to_E_memory<W, M>(c, in, b);
}

template <unsigned W, Mnemonic M>
VS_MEMORY_PATH Fault alu_to_E_memory(Core& c, const Insn& in, uint32_t b) {
  if constexpr (!alu_writes_back<M>) {
    uint32_t a;
    if (auto f = c.read<W>(in.seg, c.ea(in), a)) return f;
    alu<W, M>(c, a, b);
    return {};
  } else {
    MemRef m;
    if (auto f = c.ref<W>(in.seg, c.ea(in), m)) return f;
    c.store<W>(m, alu<W, M>(c, c.load<W>(m), b));
    return {};
  }
}

template <unsigned W, Mnemonic M>
Fault alu_EG(Core& c, const Insn& in) { return alu_to_E<W, M>(c, in, c.reg<W>(in.reg)); }

template <unsigned W, Mnemonic M>
Fault alu_EI(Core& c, const Insn& in) { return alu_to_E<W, M>(c, in, in.imm & mask<W>()); }

template <unsigned W, Mnemonic M>
Fault alu_GE(Core& c, const Insn& in) {
  uint32_t b;
  if (auto f = read_E<W>(c, in, b)) return f;
  uint32_t r = alu<W, M>(c, c.reg<W>(in.reg), b);
  if constexpr (alu_writes_back<M>) c.set_reg<W>(in.reg, r);
  return {};
}

template <unsigned W, Mnemonic M>
Fault alu_AI(Core& c, const Insn& in) {
  uint32_t r = alu<W, M>(c, c.reg<W>(EAX), in.imm & mask<W>());
  if constexpr (alu_writes_back<M>) c.set_reg<W>(EAX, r);
  return {};
}

// ------------------------------------------------------------ INC, DEC ----
// INC and DEC leave CF alone (SDM Vol. 2 "INC"): CF is pinned in EFLAGS first.
template <unsigned W, Mnemonic M>
VS_HOT uint32_t incdec(Core& c, uint32_t a) {
  c.pin_cf();
  constexpr uint32_t kNoCf = flag::kArith & ~flag::CF;
  if constexpr (M == Mnemonic::INC) {
    uint32_t r = (a + 1) & mask<W>();
    c.set_lazy<W>(LazyOp::Add, a, 1, r, kNoCf);
    return r;
  } else {
    uint32_t r = (a - 1) & mask<W>();
    c.set_lazy<W>(LazyOp::Sub, a, 1, r, kNoCf);
    return r;
  }
}

template <unsigned W, Mnemonic M>
Fault incdec_Z(Core& c, const Insn& in) {
  const unsigned r = in.op & 7;
  c.set_reg<W>(r, incdec<W, M>(c, c.reg<W>(r)));
  return {};
}

template <unsigned W, Mnemonic M>
Fault incdec_E(Core& c, const Insn& in) {
  return modify_E<W>(c, in, [&](uint32_t a) { return incdec<W, M>(c, a); });
}

// ------------------------------------------------------------ NOT, NEG ----
template <unsigned W, Mnemonic M>
Fault unary_E(Core& c, const Insn& in) {
  return modify_E<W>(c, in, [&](uint32_t a) -> uint32_t {
    if constexpr (M == Mnemonic::NOT) {
      return ~a & mask<W>();
    } else {
      uint32_t r = (0 - a) & mask<W>();
      c.set_lazy<W>(LazyOp::Sub, 0, a, r);
      return r;
    }
  });
}

// ------------------------------------------- MUL, IMUL, DIV, IDIV (F6/F7) ----
// Accumulator forms: AL/AX/EAX times E into AX, DX:AX or EDX:EAX; division of
// that double-width accumulator with #DE on a zero divisor or a quotient that
// does not fit (SDM Vol. 2 "DIV", "IDIV"). SF/ZF/AF/PF are undefined after
// MUL/IMUL; virtscope sets SF/ZF/PF from the low half and clears AF.
template <unsigned W>
uint64_t accumulator_pair(Core& c) {
  if constexpr (W == 8) return c.reg<16>(EAX);
  else return (uint64_t(c.reg<W>(EDX)) << W) | c.reg<W>(EAX);
}
template <unsigned W>
void set_accumulator_pair(Core& c, uint32_t lo, uint32_t hi) {
  if constexpr (W == 8) {
    c.set_reg<16>(EAX, (lo & 0xFF) | (hi & 0xFF) << 8);
  } else {
    c.set_reg<W>(EAX, lo);
    c.set_reg<W>(EDX, hi);
  }
}

template <unsigned W>
void set_mul_flags(Core& c, uint32_t lo, bool overflow) {
  uint32_t f = Core::szp<W>(lo);
  if (overflow) f |= flag::CF | flag::OF;
  c.set_flags(flag::kArith, f);
}

template <unsigned W, Mnemonic M>
Fault muldiv_E(Core& c, const Insn& in) {
  using enum Mnemonic;
  constexpr uint32_t m = mask<W>();
  uint32_t src;
  if (auto f = read_E<W>(c, in, src)) return f;
  if constexpr (M == MUL) {
    uint64_t p = uint64_t(c.reg<W>(EAX)) * src;
    uint32_t lo = uint32_t(p) & m, hi = uint32_t(p >> W) & m;
    set_accumulator_pair<W>(c, lo, hi);
    set_mul_flags<W>(c, lo, hi != 0);
  } else if constexpr (M == IMUL) {
    int64_t p = int64_t(sign_extend<W>(c.reg<W>(EAX))) * sign_extend<W>(src);
    uint32_t lo = uint32_t(p) & m, hi = uint32_t(uint64_t(p) >> W) & m;
    set_accumulator_pair<W>(c, lo, hi);
    set_mul_flags<W>(c, lo, p != int64_t(sign_extend<W>(lo)));
  } else if constexpr (M == DIV) {
    if (src == 0) return fault(vec::DE);
    uint64_t n = accumulator_pair<W>(c);
    uint64_t q = n / src;
    if (q > m) return fault(vec::DE);
    set_accumulator_pair<W>(c, uint32_t(q), uint32_t(n % src));
  } else {
    static_assert(M == IDIV);
    if (src == 0) return fault(vec::DE);
    int64_t n;
    if constexpr (W == 32) n = int64_t(accumulator_pair<W>(c));
    else n = sign_extend<2 * W>(uint32_t(accumulator_pair<W>(c)));
    int64_t d = sign_extend<W>(src);
    if (n == INT64_MIN && d == -1) return fault(vec::DE);
    int64_t q = n / d, r = n % d;
    constexpr int64_t lo = -(int64_t(1) << (W - 1)), hi = (int64_t(1) << (W - 1)) - 1;
    if (q < lo || q > hi) return fault(vec::DE);
    set_accumulator_pair<W>(c, uint32_t(q) & m, uint32_t(r) & m);
  }
  return {};
}

// IMUL Gv, Ev, imm and IMUL Gv, Ev: truncated signed product; CF = OF = it did not fit.
template <unsigned W>
uint32_t imul_truncating(Core& c, uint32_t a, uint32_t b) {
  int64_t p = int64_t(sign_extend<W>(a)) * sign_extend<W>(b);
  uint32_t lo = uint32_t(p) & mask<W>();
  set_mul_flags<W>(c, lo, p != int64_t(sign_extend<W>(lo)));
  return lo;
}
template <unsigned W, Mnemonic M>
Fault imul_GEI(Core& c, const Insn& in) {
  uint32_t a;
  if (auto f = read_E<W>(c, in, a)) return f;
  c.set_reg<W>(in.reg, imul_truncating<W>(c, a, in.imm & mask<W>()));
  return {};
}
template <unsigned W, Mnemonic M>
Fault imul_GE(Core& c, const Insn& in) {
  uint32_t a;
  if (auto f = read_E<W>(c, in, a)) return f;
  c.set_reg<W>(in.reg, imul_truncating<W>(c, c.reg<W>(in.reg), a));
  return {};
}

// ----------------------------------------------------- shifts, rotates ----
// The count is masked to 5 bits (SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR");
// a masked count of 0 changes nothing, flags included. OF is defined only for
// 1-bit shifts; for larger counts virtscope computes it by the 1-bit formula
// applied to the final result, as P6-family processors do.
template <unsigned W, Mnemonic M>
VS_HOT uint32_t shift_value(Core& c, uint32_t a, unsigned count) {
  using enum Mnemonic;
  constexpr uint32_t m = mask<W>();
  constexpr uint32_t top = 1u << (W - 1);
  count &= 31;
  if (count == 0) return a;
  uint32_t r = 0;
  bool cf = false, of = false;
  if constexpr (M == ROL || M == ROR) {
    const unsigned n = count % W;
    if constexpr (M == ROL) {
      r = n ? ((a << n) | (a >> (W - n))) & m : a;
      cf = r & 1;
      of = bool(r & top) != cf;
    } else {
      r = n ? ((a >> n) | (a << (W - n))) & m : a;
      cf = r & top;
      of = bool(r & top) != bool(r & (top >> 1));
    }
    c.set_flags(flag::CF | flag::OF, (cf ? flag::CF : 0) | (of ? flag::OF : 0));
    return r;
  } else if constexpr (M == RCL || M == RCR) {
    const unsigned n = count % (W + 1);
    uint64_t wide = (uint64_t(c.cf()) << W) | a;  // W+1 bit quantity, carry on top
    if (n) {
      if constexpr (M == RCL) wide = ((wide << n) | (wide >> (W + 1 - n)));
      else wide = ((wide >> n) | (wide << (W + 1 - n)));
    }
    r = uint32_t(wide) & m;
    cf = (wide >> W) & 1;
    if constexpr (M == RCL) of = bool(r & top) != cf;
    else of = bool(r & top) != bool(r & (top >> 1));
    c.set_flags(flag::CF | flag::OF, (cf ? flag::CF : 0) | (of ? flag::OF : 0));
    return r;
  } else {
    if constexpr (M == SHL || M == SAL) {
      r = count < 32 ? (a << count) & m : 0;
      cf = count <= W ? (a >> (W - count)) & 1 : 0;
      of = bool(r & top) != cf;
    } else if constexpr (M == SHR) {
      r = count < 32 ? a >> count : 0;
      cf = count <= W ? (a >> (count - 1)) & 1 : 0;
      of = count == 1 ? bool(a & top) : false;
    } else {
      static_assert(M == SAR);
      const int32_t sa = sign_extend<W>(a);
      r = uint32_t(sa >> (count < W ? count : W - 1)) & m;
      cf = (sa >> (count - 1 < W ? count - 1 : W - 1)) & 1;
      of = false;
    }
    c.set_lazy<W>(LazyOp::Shift, cf, of, r);  // AF undefined: cleared
    return r;
  }
}

template <unsigned W, Mnemonic M>
Fault shift(Core& c, const Insn& in) {
  // Count source by opcode: C0/C1 imm8, D0/D1 one, D2/D3 CL.
  const unsigned count = in.op <= 0xC1 ? (in.imm & 0xFF) : in.op <= 0xD1 ? 1 : (c.reg<8>(ECX));
  if ((count & 31) == 0) {
    // Nothing changes, but a memory operand is still checked for access.
    uint32_t unused;
    return read_E<W>(c, in, unused);
  }
  return modify_E<W>(c, in, [&](uint32_t a) { return shift_value<W, M>(c, a, count); });
}

// SHLD/SHRD: shift E, filling from G (SDM Vol. 2 "SHLD", "SHRD"). Counts
// above the operand size leave the result undefined; virtscope shifts through
// a double-width value.
template <unsigned W, Mnemonic M>
Fault double_shift(Core& c, const Insn& in) {
  const bool by_cl = in.op == 0xA5 || in.op == 0xAD;
  const unsigned count = (by_cl ? c.reg<8>(ECX) : in.imm) & 31;
  const uint32_t fill = c.reg<W>(in.reg);
  if (count == 0) {
    uint32_t unused;
    return read_E<W>(c, in, unused);
  }
  return modify_E<W>(c, in, [&](uint32_t a) -> uint32_t {
    constexpr uint32_t top = 1u << (W - 1);
    uint32_t r;
    bool cf;
    if constexpr (M == Mnemonic::SHLD) {
      // a:fill left-aligned in 64 bits (16-bit: a:fill:a, so counts above 16
      // shift a back in, as P6 processors do).
      uint64_t wide = (uint64_t(a) << (64 - W)) | (uint64_t(fill) << (64 - 2 * W));
      if constexpr (W == 16) wide |= uint64_t(a) << (64 - 3 * W);
      r = uint32_t((wide << count) >> (64 - W));
      cf = (wide >> (64 - count)) & 1;
    } else {
      uint64_t wide = (uint64_t(fill) << W) | a;
      if constexpr (W == 16) wide |= uint64_t(a) << (2 * W);
      r = uint32_t(wide >> count) & mask<W>();
      cf = (wide >> (count - 1)) & 1;
    }
    const bool of = bool((r ^ a) & top);
    c.set_flags(flag::kArith, Core::szp<W>(r) | (cf ? flag::CF : 0) | (of ? flag::OF : 0));
    return r;
  });
}

// ------------------------------------------------- bit tests and scans ----
// BT/BTS/BTR/BTC (SDM Vol. 2 "BT"): with a register bit offset and a memory
// operand the offset is signed and selects any bit relative to the address.
template <unsigned W, Mnemonic M>
uint32_t bit_apply(Core& c, uint32_t v, unsigned bit) {
  using enum Mnemonic;
  const uint32_t b = 1u << bit;
  c.set_flag(flag::CF, v & b);
  if constexpr (M == BTS) return v | b;
  else if constexpr (M == BTR) return v & ~b;
  else if constexpr (M == BTC) return v ^ b;
  else return v;
}

template <unsigned W, Mnemonic M>
Fault bit_test(Core& c, const Insn& in) {
  const bool imm_form = in.op == 0xBA;
  uint32_t offset = imm_form ? (in.imm & 0xFF) : c.reg<W>(in.reg);
  if (in.mod == 3) {
    uint32_t r = bit_apply<W, M>(c, c.reg<W>(in.rm), offset & (W - 1));
    if constexpr (M != Mnemonic::BT) c.set_reg<W>(in.rm, r);
    return {};
  }
  uint32_t addr = c.ea(in);
  if (!imm_form) addr = (addr + uint32_t(int32_t(sign_extend<W>(offset)) >> (W == 16 ? 4 : 5)) * (W / 8)) & in.addr_mask;
  const unsigned bit = offset & (W - 1);
  if constexpr (M == Mnemonic::BT) {
    uint32_t v;
    if (auto f = c.read<W>(in.seg, addr, v)) return f;
    bit_apply<W, M>(c, v, bit);
    return {};
  } else {
    MemRef m;
    if (auto f = c.ref<W>(in.seg, addr, m)) return f;
    c.store<W>(m, bit_apply<W, M>(c, c.load<W>(m), bit));
    return {};
  }
}

// BSF/BSR: a zero source sets ZF and leaves the destination unchanged (as
// P6-family processors do; the SDM calls it undefined).
template <unsigned W, Mnemonic M>
Fault bit_scan(Core& c, const Insn& in) {
  uint32_t v;
  if (auto f = read_E<W>(c, in, v)) return f;
  if (v == 0) {
    c.set_flags(flag::kArith, flag::ZF);
    return {};
  }
  const uint32_t idx = M == Mnemonic::BSF ? __builtin_ctz(v) : 31 - __builtin_clz(v);
  c.set_reg<W>(in.reg, idx);
  c.set_flags(flag::kArith, Core::szp<W>(idx) & ~flag::ZF);
  return {};
}

// ------------------------------------------------------------- BCD adjust ----
template <unsigned W, Mnemonic M>
Fault bcd(Core& c, const Insn& in) {
  using enum Mnemonic;
  uint32_t al = c.reg<8>(EAX), ah = (c.gpr(EAX) >> 8) & 0xFF;
  const bool af = c.af(), cf = c.cf();
  if constexpr (M == DAA || M == DAS) {
    // SDM Vol. 2 "DAA"/"DAS" Operation; OF is undefined.
    const uint32_t old_al = al;
    bool new_cf = false, new_af = false;
    if ((al & 0xF) > 9 || af) {
      new_cf = cf || (M == DAA ? al + 6 > 0xFF : al < 6);
      al = (M == DAA ? al + 6 : al - 6) & 0xFF;
      new_af = true;
    }
    if (old_al > 0x99 || cf) {
      al = (M == DAA ? al + 0x60 : al - 0x60) & 0xFF;
      new_cf = true;
    }
    c.set_reg<8>(EAX, al);
    c.set_flags(flag::kArith, Core::szp<8>(al) | (new_cf ? flag::CF : 0) | (new_af ? flag::AF : 0));
  } else if constexpr (M == AAA || M == AAS) {
    // SDM Vol. 2 "AAA"/"AAS": OF, SF, ZF, PF are undefined.
    if ((al & 0xF) > 9 || af) {
      uint32_t ax = c.reg<16>(EAX);
      ax = M == AAA ? ax + 0x106 : ax - 0x106;
      c.set_reg<16>(EAX, (ax & 0xFF00) | (ax & 0x0F));
      c.set_flags(flag::kArith, Core::szp<8>(ax & 0x0F) | flag::AF | flag::CF);
    } else {
      c.set_reg<8>(EAX, al & 0x0F);
      c.set_flags(flag::kArith, Core::szp<8>(al & 0x0F));
    }
  } else if constexpr (M == AAM) {
    const uint32_t base = in.imm & 0xFF;
    if (base == 0) return fault(vec::DE);
    ah = al / base;
    al = al % base;
    c.set_reg<16>(EAX, ah << 8 | al);
    c.set_flags(flag::kArith, Core::szp<8>(al));
  } else {
    static_assert(M == AAD);
    al = (al + ah * (in.imm & 0xFF)) & 0xFF;
    c.set_reg<16>(EAX, al);
    c.set_flags(flag::kArith, Core::szp<8>(al));
  }
  return {};
}

// ----------------------------------------------------- sign extensions ----
template <unsigned W, Mnemonic M>
Fault CBW(Core& c, const Insn&) {  // CBW / CWDE
  if constexpr (W == 16) c.set_reg<16>(EAX, uint32_t(int32_t(int8_t(c.reg<8>(EAX)))));
  else c.set_reg<32>(EAX, uint32_t(int32_t(int16_t(c.reg<16>(EAX)))));
  return {};
}
template <unsigned W, Mnemonic M>
Fault CWD(Core& c, const Insn&) {  // CWD / CDQ
  c.set_reg<W>(EDX, (c.reg<W>(EAX) & (1u << (W - 1))) ? mask<W>() : 0);
  return {};
}
template <unsigned W, Mnemonic M>
Fault movx(Core& c, const Insn& in) {  // MOVZX / MOVSX
  uint32_t v;
  if (in.op & 1) {
    if (auto f = read_E<16>(c, in, v)) return f;
    if constexpr (M == Mnemonic::MOVSX) v = uint32_t(int32_t(int16_t(v)));
  } else {
    if (auto f = read_E<8>(c, in, v)) return f;
    if constexpr (M == Mnemonic::MOVSX) v = uint32_t(int32_t(int8_t(v)));
  }
  c.set_reg<W>(in.reg, v & mask<W>());
  return {};
}

// ------------------------------------------------------------ exchanges ----
template <unsigned W, Mnemonic M>
Fault xchg_EG(Core& c, const Insn& in) {  // always locked on a memory operand
  const uint32_t g = c.reg<W>(in.reg);
  uint32_t old;
  if (auto f = modify_E<W>(c, in, [&](uint32_t a) { old = a; return g; })) return f;
  c.set_reg<W>(in.reg, old);
  return {};
}
template <unsigned W, Mnemonic M>
Fault xchg_ZA(Core& c, const Insn& in) {
  const unsigned r = in.op & 7;
  const uint32_t t = c.reg<W>(r);
  c.set_reg<W>(r, c.reg<W>(EAX));
  c.set_reg<W>(EAX, t);
  return {};
}
// XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP, in that order, so with
// the same register as both operands the sum wins (SDM Vol. 2 "XADD").
template <unsigned W, Mnemonic M>
Fault XADD(Core& c, const Insn& in) {
  const uint32_t g = c.reg<W>(in.reg);
  if (in.mod == 3) {
    const uint32_t d = c.reg<W>(in.rm);
    const uint32_t sum = alu<W, Mnemonic::ADD>(c, d, g);
    c.set_reg<W>(in.reg, d);
    c.set_reg<W>(in.rm, sum);
    return {};
  }
  uint32_t old;
  if (auto f = modify_E<W>(c, in, [&](uint32_t a) { old = a; return alu<W, Mnemonic::ADD>(c, a, g); })) return f;
  c.set_reg<W>(in.reg, old);
  return {};
}
// CMPXCHG: the destination is written in both cases (with itself on a
// mismatch), so a read-only destination always faults (SDM Vol. 2 "CMPXCHG").
template <unsigned W, Mnemonic M>
Fault CMPXCHG(Core& c, const Insn& in) {
  const uint32_t acc = c.reg<W>(EAX), src = c.reg<W>(in.reg);
  uint32_t old;
  if (auto f = modify_E<W>(c, in, [&](uint32_t a) {
        old = a;
        alu<W, Mnemonic::CMP>(c, acc, a);
        return acc == a ? src : a;
      }))
    return f;
  if (acc != old) c.set_reg<W>(EAX, old);
  return {};
}
template <unsigned W, Mnemonic M>
Fault CMPXCHG8B(Core& c, const Insn& in) {
  const uint32_t addr = c.ea(in);
  MemRef lo, hi;
  if (auto f = c.ref<32>(in.seg, addr, lo)) return f;
  if (auto f = c.ref<32>(in.seg, (addr + 4) & in.addr_mask, hi)) return f;
  const uint32_t vlo = c.load<32>(lo), vhi = c.load<32>(hi);
  const bool equal = vlo == c.gpr(EAX) && vhi == c.gpr(EDX);
  if (equal) {
    c.store<32>(lo, c.gpr(EBX));
    c.store<32>(hi, c.gpr(ECX));
  } else {
    c.store<32>(lo, vlo);
    c.store<32>(hi, vhi);
    c.gpr(EAX) = vlo;
    c.gpr(EDX) = vhi;
  }
  c.set_flag(flag::ZF, equal);
  return {};
}
template <unsigned W, Mnemonic M>
Fault BSWAP(Core& c, const Insn& in) {
  uint32_t& r = c.gpr(in.op & 7);
  r = __builtin_bswap32(r);
  return {};
}

// ------------------------------------------------ conditions: SETcc, CMOVcc ----
template <unsigned W, Mnemonic M>
Fault setcc(Core& c, const Insn& in) { return write_E<8>(c, in, c.condition<condition_code<M>()>() ? 1 : 0); }

// CMOVcc reads its source even when the condition is false (it may fault).
template <unsigned W, Mnemonic M>
Fault cmovcc(Core& c, const Insn& in) {
  uint32_t v;
  if (auto f = read_E<W>(c, in, v)) return f;
  if (c.condition<condition_code<M>()>()) c.set_reg<W>(in.reg, v);
  return {};
}

// ----------------------------------------------------- flag instructions ----
template <unsigned W, Mnemonic M>
Fault flag_op(Core& c, const Insn&) {
  using enum Mnemonic;
  if constexpr (M == CLC) c.set_flag(flag::CF, false);
  else if constexpr (M == STC) c.set_flag(flag::CF, true);
  else if constexpr (M == CMC) c.set_flag(flag::CF, !c.cf());
  else if constexpr (M == CLD) c.s.eflags &= ~flag::DF;
  else c.s.eflags |= flag::DF;
  return {};
}
template <unsigned W, Mnemonic M>
Fault LAHF(Core& c, const Insn&) {
  c.set_reg<8>(4, (c.eflags() & (flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF)) | flag::kFixed1);
  return {};
}
template <unsigned W, Mnemonic M>
Fault SAHF(Core& c, const Insn&) {
  c.set_flags(flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF, c.reg<8>(4));
  return {};
}
template <unsigned W, Mnemonic M>
Fault SALC(Core& c, const Insn&) {  // undocumented: AL = CF ? FF : 00
  c.set_reg<8>(EAX, c.cf() ? 0xFF : 0);
  return {};
}

}  // namespace vs::cpu

// The six status flags, computed on demand from the last arithmetic
// operation (Intel SDM Vol. 1 §3.4.3.1 and Appendix A, "EFLAGS Cross-Reference"),
// and the condition codes built from them (Vol. 1 Appendix B). Inline: every
// conditional branch and carry-using instruction reads them.
#pragma once

#include <string_view>

#include "core.h"

namespace vs::cpu {

VS_HOT bool Core::cf() const {
  if (!(lazy_mask & flag::CF)) return s.eflags & flag::CF;
  return lazy_cf;  // recorded by set_lazy
}

VS_HOT bool Core::pf() const {
  if (!(lazy_mask & flag::PF)) return s.eflags & flag::PF;
  return !__builtin_parity(lazy_res & 0xFF);
}

VS_HOT bool Core::af() const {
  if (!(lazy_mask & flag::AF)) return s.eflags & flag::AF;
  // Carry out of bit 3 (add) or borrow into bit 3 (sub); logic ops leave AF
  // undefined and virtscope clears it, as the P6 does.
  if (lazy_op == LazyOp::Logic || lazy_op == LazyOp::Shift) return false;
  return ((lazy_a ^ lazy_b ^ lazy_res) >> 4) & 1;
}

VS_HOT bool Core::zf() const {
  if (!(lazy_mask & flag::ZF)) return s.eflags & flag::ZF;
  return lazy_res == 0;  // already masked to the width
}

VS_HOT bool Core::sf() const {
  if (!(lazy_mask & flag::SF)) return s.eflags & flag::SF;
  return (lazy_res >> (lazy_bits - 1)) & 1;
}

VS_HOT bool Core::of() const {
  if (!(lazy_mask & flag::OF)) return s.eflags & flag::OF;
  const unsigned top = lazy_bits - 1;
  switch (lazy_op) {
    case LazyOp::Add:
    case LazyOp::AddCarry: return (((lazy_a ^ lazy_res) & (lazy_b ^ lazy_res)) >> top) & 1;
    case LazyOp::Sub:
    case LazyOp::SubBorrow: return (((lazy_a ^ lazy_b) & (lazy_a ^ lazy_res)) >> top) & 1;
    case LazyOp::Logic: return false;
    case LazyOp::Shift: return lazy_b;
    case LazyOp::None: break;
  }
  return s.eflags & flag::OF;
}

template <unsigned cc>
VS_HOT bool Core::condition() const {
  static_assert(cc < 16, "not a condition mnemonic");
  bool r;
  if constexpr (cc >> 1 == 0) r = of();                        // O
  else if constexpr (cc >> 1 == 1) r = cf();                   // B / C / NAE
  else if constexpr (cc >> 1 == 2) r = zf();                   // E / Z
  else if constexpr (cc >> 1 == 3) r = cf() || zf();           // BE / NA
  else if constexpr (cc >> 1 == 4) r = sf();                   // S
  else if constexpr (cc >> 1 == 5) r = pf();                   // P / PE
  else if constexpr (cc >> 1 == 6) r = sf() != of();           // L / NGE
  else r = zf() || (sf() != of());                             // LE / NG
  return (cc & 1) ? !r : r;
}

// The condition code (the low nibble of the opcode) a Jcc/SETcc/CMOVcc
// mnemonic tests, worked out from its name at compile time; 16 for any
// other mnemonic.
constexpr std::string_view kMnemonicText[] = {
#define VS_MNEMONIC(name, text) text,
#include "virtscope/cpu/mnemonics.def"
#undef VS_MNEMONIC
};
template <Mnemonic M>
constexpr unsigned condition_code() {
  constexpr std::string_view kSuffix[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                            "s", "ns", "p", "np", "l", "ge", "le", "g"};
  const std::string_view text = kMnemonicText[size_t(M)];
  for (std::string_view prefix : {"j", "set", "cmov"}) {
    if (!text.starts_with(prefix)) continue;
    for (unsigned cc = 0; cc < 16; ++cc)
      if (text.substr(prefix.size()) == kSuffix[cc]) return cc;
  }
  return 16;
}
static_assert(condition_code<Mnemonic::JO>() == 0x0 && condition_code<Mnemonic::JAE>() == 0x3 &&
              condition_code<Mnemonic::SETNE>() == 0x5 && condition_code<Mnemonic::CMOVBE>() == 0x6 &&
              condition_code<Mnemonic::JG>() == 0xF && condition_code<Mnemonic::JMP>() == 16);

}  // namespace vs::cpu

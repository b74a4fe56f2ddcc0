// The six status flags, computed on demand from the last arithmetic
// operation (Intel SDM Vol. 1 §3.4.3.1 and Appendix A, "EFLAGS Cross-Reference"),
// and the condition codes built from them (Vol. 1 Appendix B). Inline: every
// conditional branch and carry-using instruction reads them.
#pragma once

#include "core.h"

namespace vs::cpu {

inline uint32_t width_mask(unsigned bits) { return bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1; }

VS_HOT bool Core::cf() const {
  if (!(lazy_mask & flag::CF)) return s.eflags & flag::CF;
  const uint32_t m = width_mask(lazy_bits);
  const uint32_t a = lazy_a & m, b = lazy_b & m, r = lazy_res & m;
  switch (lazy_op) {
    case LazyOp::Add: return r < a;
    case LazyOp::AddCarry: return r <= a;
    case LazyOp::Sub: return a < b;
    case LazyOp::SubBorrow: return a <= b;
    case LazyOp::Logic: return false;
    case LazyOp::None: break;
  }
  return s.eflags & flag::CF;
}

VS_HOT bool Core::pf() const {
  if (!(lazy_mask & flag::PF)) return s.eflags & flag::PF;
  return !__builtin_parity(lazy_res & 0xFF);
}

VS_HOT bool Core::af() const {
  if (!(lazy_mask & flag::AF)) return s.eflags & flag::AF;
  // Carry out of bit 3 (add) or borrow into bit 3 (sub); logic ops leave AF
  // undefined and virtscope clears it, as the P6 does.
  if (lazy_op == LazyOp::Logic) return false;
  return ((lazy_a ^ lazy_b ^ lazy_res) >> 4) & 1;
}

VS_HOT bool Core::zf() const {
  if (!(lazy_mask & flag::ZF)) return s.eflags & flag::ZF;
  return (lazy_res & width_mask(lazy_bits)) == 0;
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
    case LazyOp::None: break;
  }
  return s.eflags & flag::OF;
}

VS_HOT bool Core::condition(unsigned cc) const {
  bool r;
  switch (cc >> 1) {
    case 0: r = of(); break;                      // O
    case 1: r = cf(); break;                      // B / C / NAE
    case 2: r = zf(); break;                      // E / Z
    case 3: r = cf() || zf(); break;              // BE / NA
    case 4: r = sf(); break;                      // S
    case 5: r = pf(); break;                      // P / PE
    case 6: r = sf() != of(); break;              // L / NGE
    default: r = zf() || (sf() != of()); break;   // LE / NG
  }
  return (cc & 1) ? !r : r;
}

}  // namespace vs::cpu

// String instructions MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE
// (Intel SDM Vol. 2 "REP/REPE/REPZ/REPNE/REPNZ", Vol. 1 §7.3.9). The address
// size picks CX/ECX and SI/DI vs ESI/EDI; only the source segment can be
// overridden, the destination is always ES. If an iteration faults, the
// registers record the iterations already done and EIP stays on the
// instruction, so it restarts correctly.
//
// A REP instruction runs at most kRepChunk iterations per step. If more
// remain, EIP goes back to the instruction and the run loop gets control:
// interrupts are taken between chunks (as hardware takes them between
// iterations) and a guest cannot stall the host with a 4-billion-iteration
// REP. Each chunk counts as one instruction of virtual time.
#pragma once

#include "common.inl"

namespace vs::cpu {

constexpr uint32_t kRepChunk = 4096;

template <unsigned W, Mnemonic M>
Fault string_iteration(Core& c, const Insn& in, uint32_t si, uint32_t di) {
  using enum Mnemonic;
  if constexpr (M == MOVS) {
    uint32_t v;
    if (auto f = c.read<W>(in.seg, si, v)) return f;
    return c.write<W>(ES, di, v);
  } else if constexpr (M == CMPS) {
    uint32_t a, b;
    if (auto f = c.read<W>(in.seg, si, a)) return f;
    if (auto f = c.read<W>(ES, di, b)) return f;
    alu<W, CMP>(c, a, b);
    return {};
  } else if constexpr (M == STOS) {
    return c.write<W>(ES, di, c.reg<W>(EAX));
  } else if constexpr (M == LODS) {
    uint32_t v;
    if (auto f = c.read<W>(in.seg, si, v)) return f;
    c.set_reg<W>(EAX, v);
    return {};
  } else if constexpr (M == SCAS) {
    uint32_t b;
    if (auto f = c.read<W>(ES, di, b)) return f;
    alu<W, CMP>(c, c.reg<W>(EAX), b);
    return {};
  } else if constexpr (M == INS) {
    const uint16_t port = uint16_t(c.gpr(EDX));
    if (auto f = c.check_io(port, W / 8)) return f;
    if (auto f = c.check_segment(ES, di, W / 8, true)) return f;  // before the port read's side effects
    return c.write<W>(ES, di, c.port_in(port, W / 8));
  } else {
    static_assert(M == OUTS);
    const uint16_t port = uint16_t(c.gpr(EDX));
    if (auto f = c.check_io(port, W / 8)) return f;
    uint32_t v;
    if (auto f = c.read<W>(in.seg, si, v)) return f;
    c.port_out(port, W / 8, v);
    return {};
  }
}

// The 80286 in real mode advances SI/DI for each access it attempted before a
// segment overrun (#GP) stops the instruction, so the fault is not restartable
// (SingleStepTests 80286; docs/cpu.md). CMPS reads ES:DI before DS:SI there.
// Returns which index registers had an access attempted: bit 0 SI, bit 1 DI.
template <unsigned W, Mnemonic M>
unsigned attempted_286(Core& c, const Insn& in, uint32_t si, uint32_t di) {
  using enum Mnemonic;
  const bool si_ok = !c.check_segment(in.seg, si, W / 8, false);
  const bool di_ok = !c.check_segment(ES, di, W / 8, M == MOVS || M == STOS || M == INS);
  if constexpr (M == MOVS) return si_ok ? 3 : 1;  // reads DS:SI, then writes ES:DI
  if constexpr (M == CMPS) return di_ok ? 3 : 2;
  if constexpr (M == LODS || M == OUTS) return 1;
  return 2;  // STOS, SCAS, INS
}

// With REP, the 80286 has also counted CX down past the faulting iteration:
// by 2 when the overrunning access was a write, by 1 when it was a read, and
// not at all when CMPS's first read (ES:DI) overran. An empirical rule that
// matches every REP case in SingleStepTests 80286 (docs/cpu.md).
template <unsigned W, Mnemonic M>
uint32_t rep_count_consumed_286(unsigned attempted) {
  using enum Mnemonic;
  if constexpr (M == MOVS) return attempted == 3 ? 2 : 1;
  if constexpr (M == CMPS) return attempted == 3 ? 1 : 0;
  if constexpr (M == STOS || M == INS) return 2;
  return 1;  // LODS, SCAS, OUTS
}

template <unsigned W, Mnemonic M>
Fault string_op(Core& c, const Insn& in) {
  using enum Mnemonic;
  constexpr bool uses_si = M == MOVS || M == CMPS || M == LODS || M == OUTS;
  constexpr bool uses_di = M == MOVS || M == CMPS || M == STOS || M == SCAS || M == INS;
  constexpr bool compares = M == CMPS || M == SCAS;
  const uint32_t am = in.addr_mask;
  const uint32_t delta = c.df() ? uint32_t(-int32_t(W / 8)) : W / 8;
  uint32_t si = c.gpr(ESI) & am, di = c.gpr(EDI) & am;
  auto commit = [&] {
    if constexpr (uses_si) c.gpr(ESI) = (c.gpr(ESI) & ~am) | (si & am);
    if constexpr (uses_di) c.gpr(EDI) = (c.gpr(EDI) & ~am) | (di & am);
  };
  if (!in.rep) {
    if (auto f = string_iteration<W, M>(c, in, si, di)) {
      if (c.config.model == CpuModel::I286 && !c.protected_mode() && f.vector == vec::GP) {
        const unsigned adv = attempted_286<W, M>(c, in, si, di);
        if (adv & 1) si += delta;
        if (adv & 2) di += delta;
        commit();
      }
      return f;
    }
    si += delta;
    di += delta;
    commit();
    return {};
  }
  uint32_t count = c.gpr(ECX) & am;
  for (uint32_t chunk = 0; count != 0; ++chunk) {
    if (chunk == kRepChunk) {
      commit();
      c.gpr(ECX) = (c.gpr(ECX) & ~am) | count;
      c.s.eip -= in.len;    // run the rest of the REP from the top
      c.attention = true;   // and leave the block here
      return {};
    }
    if (auto f = string_iteration<W, M>(c, in, si, di)) {
      if (c.config.model == CpuModel::I286 && !c.protected_mode() && f.vector == vec::GP) {
        const unsigned adv = attempted_286<W, M>(c, in, si, di);
        if (adv & 1) si += delta;
        if (adv & 2) di += delta;
        count -= rep_count_consumed_286<W, M>(adv);
      }
      commit();
      c.gpr(ECX) = (c.gpr(ECX) & ~am) | (count & am);
      return f;
    }
    si = (si + delta) & am;
    di = (di + delta) & am;
    --count;
    if constexpr (compares) {
      // REPE stops when ZF = 0, REPNE when ZF = 1 (checked after each iteration).
      if ((in.rep == 0xF3) != c.zf()) break;
    }
  }
  commit();
  c.gpr(ECX) = (c.gpr(ECX) & ~am) | count;
  return {};
}

}  // namespace vs::cpu

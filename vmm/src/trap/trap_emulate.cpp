// The trap VMM's instruction emulation: the privileged instructions a ring-0
// kernel executes fault with #GP at ring 1 (SDM Vol. 3A §5.9: CLI/STI and
// IN/OUT when CPL > IOPL, HLT, MOV CRn, LGDT/LIDT/LTR, INVLPG at CPL > 0; a
// stack-segment load whose RPL differs from CPL) and are carried out here on
// the virtual CPU, then EIP moves past them.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <span>

#include "trap_monitor.h"
#include "virtscope/cpu/opcode_table.h"
#include "virtscope/cpu/state.h"
#include "virtscope/trace/event.h"

namespace vs::vmm {

using cpu::CpuState;

// Prefixes, opcode, ModRM with SIB and displacement, 32-bit addressing only
// (the teaching kernel's code; anything else is reported, not guessed).
bool TrapMonitor::decode(const CpuState& s, Decoded& d) {
  const uint32_t at = s.seg[cpu::CS].base + s.eip;
  // Up to 15 bytes; past the end of this page only if the next one is
  // mapped (an instruction near an unmapped page is read as far as it goes).
  const unsigned in_page = std::min(15u, 0x1000 - (at & 0xFFF));
  unsigned have = linear_.read(at, d.bytes, in_page, vcpu_.paging) ? in_page : 0;
  if (have == in_page && have < 15 && linear_.read(at + have, d.bytes + have, 15 - have, vcpu_.paging)) have = 15;
  d.available = have;
  return parse(s, d);
}

// Decodes d.bytes[0 .. d.available).
bool TrapMonitor::parse(const CpuState& s, Decoded& d) {
  const uint8_t* b = d.bytes;
  const unsigned have = d.available;
  if (have == 0) return false;
  unsigned i = 0;
  int segment = -1;
  for (;; ++i) {
    if (i >= have) return false;
    const uint8_t p = b[i];
    if (p == 0x66) d.operand16 = true;
    else if (p == 0x26) segment = cpu::ES;
    else if (p == 0x2E) segment = cpu::CS;
    else if (p == 0x36) segment = cpu::SS;
    else if (p == 0x3E) segment = cpu::DS;
    else if (p == 0x64) segment = cpu::FS;
    else if (p == 0x65) segment = cpu::GS;
    else break;
  }
  d.opcode = b[i++];
  if (d.opcode == 0x0F) d.opcode2 = b[i++];
  const bool modrm = (d.opcode == 0x0F && (d.opcode2 == 0x00 || d.opcode2 == 0x01 || d.opcode2 == 0x20 ||
                                           d.opcode2 == 0x22)) ||
                     d.opcode == 0x8E;
  if (modrm) {
    const uint8_t m = b[i++];
    d.mod = m >> 6, d.reg = (m >> 3) & 7, d.rm = m & 7;
    if (d.mod != 3) {
      uint32_t ea = 0;
      int base = d.rm;
      if (d.rm == 4) {  // SIB
        const uint8_t sib = b[i++];
        const unsigned index = (sib >> 3) & 7;
        base = sib & 7;
        if (index != 4) ea += s.gpr[index] << (sib >> 6);
      }
      if (base == 5 && d.mod == 0) {
        uint32_t disp;
        std::memcpy(&disp, b + i, 4);
        i += 4;
        ea += disp;
        base = -1;
      } else {
        ea += s.gpr[base];
      }
      if (d.mod == 1) ea += uint32_t(int32_t(int8_t(b[i++])));
      if (d.mod == 2) {
        uint32_t disp;
        std::memcpy(&disp, b + i, 4);
        i += 4;
        ea += disp;
      }
      if (segment < 0) segment = (base == cpu::ESP || base == cpu::EBP) ? cpu::SS : cpu::DS;
      d.ea = s.seg[segment].base + ea;
    }
  }
  if (d.opcode == 0xE4 || d.opcode == 0xE5 || d.opcode == 0xE6 || d.opcode == 0xE7) d.imm8 = b[i++];
  d.length = i;
  return i <= have;
}

bool TrapMonitor::emulate(CpuState& s, const Decoded& d) {
  const uint32_t at = s.eip;
  bool done = true;
  switch (d.opcode) {
    case 0xFA:  // CLI
      exit(ExitReason::Cli, 0, s);
      vcpu_.interrupts_enabled = false;
      break;
    case 0xFB:  // STI: interrupts wait one more instruction (SDM Vol. 2 "STI")
      exit(ExitReason::Sti, 0, s);
      vcpu_.interrupts_enabled = true;
      s.interrupt_shadow = true;
      break;
    case 0xF4:  // HLT: the virtual CPU sleeps until a virtual interrupt
      exit(ExitReason::Hlt, 0, s);
      if (!(pic_intr_ && vcpu_.interrupts_enabled)) {
        vcpu_.halted = true;
        s.halted = true;
      }
      break;
    case 0xE4: case 0xE5: case 0xE6: case 0xE7: case 0xEC: case 0xED: case 0xEE: case 0xEF:
      done = emulate_io(s, d);
      break;
    case 0x8E:  // MOV Sreg, r/m16: only SS traps (its RPL must equal CPL)
      if (d.reg != cpu::SS || d.mod != 3) {
        done = false;
        break;
      }
      done = load_ss(s, uint16_t(s.gpr[d.rm]));
      break;
    case 0x17: {  // POP SS
      uint32_t selector = 0;
      if (!linear_.read(s.seg[cpu::SS].base + s.gpr[cpu::ESP], &selector, 4, vcpu_.paging)) return false;
      s.gpr[cpu::ESP] += 4;
      done = load_ss(s, uint16_t(selector));
      break;
    }
    case 0x0F:
      if (d.opcode2 == 0x01) done = emulate_0f01(s, d);
      else if (d.opcode2 == 0x20 || d.opcode2 == 0x22) done = emulate_cr(s, d);
      else if (d.opcode2 == 0x00 && d.reg == 3) {  // LTR r/m16
        exit(ExitReason::LdtrTrAccess, 0, s);
        uint16_t selector = 0;
        if (d.mod == 3) selector = uint16_t(s.gpr[d.rm]);
        else if (!linear_.read(d.ea, &selector, 2, vcpu_.paging)) return false;
        vcpu_.tr = selector;
        // LTR marks the TSS busy in the guest's GDT (SDM Vol. 2 "LTR").
        uint8_t type = 0;
        const uint32_t at_type = vcpu_.gdtr.base + (selector & ~7u) + 5;
        if (linear_.read(at_type, &type, 1, vcpu_.paging)) {
          type |= 0x02;
          linear_.write(at_type, &type, 1, vcpu_.paging);
        }
      } else {
        done = false;
      }
      break;
    default:
      done = false;
  }
  if (!done) {
    // A privileged instruction the VMM does not emulate stops the machine
    // with its name; anything else was a real #GP and is the guest's.
    const auto info = cpu::describe_instruction(std::span<const uint8_t>(d.bytes, d.available), true);
    const bool privileged = info && info->row &&
                            (info->row->privilege == cpu::Privilege::Privileged ||
                             info->row->privilege == cpu::Privilege::Iopl);
    if (privileged && failure_.empty()) {
      char what[128];
      std::snprintf(what, sizeof what, "cannot emulate %.*s at eip 0x%08x",
                    int(cpu::mnemonic_name(info->row->mnemonic).size()), cpu::mnemonic_name(info->row->mnemonic).data(),
                    at);
      fail(what);
    }
    return false;
  }
  s.eip = at + d.length;
  return true;
}

bool TrapMonitor::emulate_io(CpuState& s, const Decoded& d) {
  const bool in = d.opcode == 0xE4 || d.opcode == 0xE5 || d.opcode == 0xEC || d.opcode == 0xED;
  const bool byte = d.opcode == 0xE4 || d.opcode == 0xE6 || d.opcode == 0xEC || d.opcode == 0xEE;
  const uint16_t port = d.opcode <= 0xE7 ? d.imm8 : uint16_t(s.gpr[cpu::EDX]);
  const unsigned size = byte ? 1 : d.operand16 ? 2 : 4;
  exit(ExitReason::IoInstruction, port, s);
  serve_port_io(host_, stats_, devices_.ports, port, size, in, s.gpr[cpu::EAX]);
  return true;
}

// 0F 01: LGDT (/2), LIDT (/3), INVLPG (/7) trap at ring 1; SGDT/SIDT/SMSW
// (/0, /1, /4) do not, and show the VMM's values (SEMANTICS.md §6).
bool TrapMonitor::emulate_0f01(CpuState& s, const Decoded& d) {
  if (d.mod == 3) return false;
  if (d.reg == 2 || d.reg == 3) {
    exit(ExitReason::GdtrIdtrAccess, d.reg, s);
    uint8_t raw[6];
    if (!linear_.read(d.ea, raw, 6, vcpu_.paging)) return false;
    cpu::TableReg t;
    std::memcpy(&t.limit, raw, 2);
    std::memcpy(&t.base, raw + 2, 4);
    if (d.operand16) t.base &= 0x00FFFFFF;
    if (d.reg == 2) {
      vcpu_.gdtr = t;
      if (!rebuild_real_gdt()) return false;
    } else {
      vcpu_.idtr = t;
    }
    return true;
  }
  if (d.reg == 7) {
    exit(ExitReason::Invlpg, 0, s);
    shadow_.invlpg(d.ea);
    return true;
  }
  return false;
}

// MOV from/to CR0, CR2, CR3, CR4: the virtual registers. A guest CR3 load
// or paging-mode change empties the shadow, as it would a real TLB.
bool TrapMonitor::emulate_cr(CpuState& s, const Decoded& d) {
  if (d.mod != 3) return false;
  const unsigned cr = d.reg;
  exit(ExitReason::CrAccess, cr, s);
  uint32_t& gpr = s.gpr[d.rm];
  const GuestPaging& p = vcpu_.paging;
  if (d.opcode2 == 0x20) {  // MOV r32, CRn
    switch (cr) {
      case 0: gpr = p.cr0; return true;
      case 2: gpr = vcpu_.cr2; return true;
      case 3: gpr = p.cr3; return true;
      case 4: gpr = p.cr4; return true;
      default: return false;
    }
  }
  if (cr == 2) {
    vcpu_.cr2 = gpr;
    return true;
  }
  return shadow_.write_cr(cr, gpr);
}

// MOV SS / POP SS with the guest's ring-0 selector: loaded at ring 1.
bool TrapMonitor::load_ss(CpuState& s, uint16_t selector) {
  exit(ExitReason::SegmentLoad, selector, s);
  cpu::Segment ss;
  if (!real_segment(uint16_t(selector | 1), ss)) return false;
  s.seg[cpu::SS] = ss;
  s.interrupt_shadow = true;  // as after any SS load (SDM Vol. 2 "MOV")
  return true;
}

}  // namespace vs::vmm

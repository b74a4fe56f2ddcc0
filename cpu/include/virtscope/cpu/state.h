// The architectural state of an IA-32 processor: general registers, EFLAGS,
// segment registers with their hidden descriptor caches, system-table
// registers, control and debug registers (Intel SDM Vol. 1 §3.4, Vol. 3 §2.1-2.5).
#pragma once

#include <cstdint>

namespace vs::cpu {

// General-purpose registers in ModRM encoding order (SDM Vol. 2 Table 2-1).
enum Reg : uint8_t { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
// Segment registers in Sreg encoding order (SDM Vol. 2 §3.1.1.3).
enum SegReg : uint8_t { ES, CS, SS, DS, FS, GS, kSegCount };

// EFLAGS bits (SDM Vol. 1 §3.4.3, Figure 3-8).
namespace flag {
constexpr uint32_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6, SF = 1u << 7;
constexpr uint32_t TF = 1u << 8, IF = 1u << 9, DF = 1u << 10, OF = 1u << 11;
constexpr uint32_t IOPL = 3u << 12, NT = 1u << 14, RF = 1u << 16, VM = 1u << 17;
constexpr uint32_t AC = 1u << 18, VIF = 1u << 19, VIP = 1u << 20, ID = 1u << 21;
constexpr uint32_t kArith = CF | PF | AF | ZF | SF | OF;  // the six status flags
constexpr uint32_t kFixed1 = 1u << 1;                     // bit 1 always reads 1
}  // namespace flag

// CR0 and CR4 bits (SDM Vol. 3 §2.5).
namespace cr0 {
constexpr uint32_t PE = 1u << 0, MP = 1u << 1, EM = 1u << 2, TS = 1u << 3, ET = 1u << 4;
constexpr uint32_t NE = 1u << 5, WP = 1u << 16, AM = 1u << 18, NW = 1u << 29, CD = 1u << 30, PG = 1u << 31;
}  // namespace cr0
namespace cr4 {
constexpr uint32_t VME = 1u << 0, PVI = 1u << 1, TSD = 1u << 2, DE = 1u << 3, PSE = 1u << 4;
constexpr uint32_t PAE = 1u << 5, MCE = 1u << 6, PGE = 1u << 7, PCE = 1u << 8;
}  // namespace cr4

// A segment register: the visible selector plus the descriptor cache the CPU
// loaded with it (SDM Vol. 3 §3.4.3). In real mode the cache holds base =
// selector << 4; limit and attributes stay as last loaded ("unreal mode").
struct Segment {
  uint16_t selector = 0;
  uint32_t base = 0;
  uint32_t limit = 0xFFFF;  // byte-granular effective limit (G already applied)
  // Access-rights byte and flags as in descriptor bytes 5-6 (type, S, DPL, P, AVL, D/B, G).
  uint16_t attr = 0x0093;   // present, read/write data, accessed
  bool present() const { return attr & 0x80; }
  unsigned dpl() const { return (attr >> 5) & 3; }
  unsigned type() const { return attr & 0x0F; }
  bool is_system() const { return !(attr & 0x10); }
  bool is_code() const { return (attr & 0x18) == 0x18; }
  bool big() const { return attr & 0x4000; }        // D/B flag: 32-bit default size
  bool expand_down() const { return (attr & 0x1C) == 0x14; }
  bool writable() const { return (attr & 0x1A) == 0x12; }  // data, writable
  bool readable() const { return !is_code() || (attr & 0x02); }
};

// The cache a segment register gets from an 8-byte segment descriptor
// (SDM Vol. 3 §3.4.5, Figure 3-8): base, limit with the G bit applied, and
// the access-rights bytes. The loads' checks are the caller's.
Segment segment_from_descriptor(uint16_t selector, uint64_t descriptor);

// GDTR/IDTR (SDM Vol. 3 §2.4.1).
struct TableReg {
  uint32_t base = 0;
  uint16_t limit = 0xFFFF;
};

// LDTR and TR: a selector with a cached system descriptor (SDM Vol. 3 §2.4.2-2.4.4).
using SystemSegment = Segment;

// Everything a snapshot of the CPU needs. Plain data: copyable, comparable.
struct CpuState {
  uint32_t gpr[8] = {};
  uint32_t eip = 0xFFF0;
  uint32_t eflags = flag::kFixed1;  // materialised EFLAGS (see Cpu::eflags())
  Segment seg[kSegCount];
  TableReg gdtr, idtr;
  SystemSegment ldtr, tr;
  uint32_t cr0 = cr0::ET | cr0::CD | cr0::NW;  // power-on value (SDM Vol. 3 Table 10-1)
  uint32_t cr2 = 0, cr3 = 0, cr4 = 0;
  uint32_t dr[8] = {0, 0, 0, 0, 0, 0, 0xFFFF0FF0, 0x00000400};
  uint64_t tsc_offset = 0;       // RDTSC = virtual time + offset (IA32_TIME_STAMP_COUNTER writes)
  uint64_t msr_sysenter_cs = 0, msr_sysenter_esp = 0, msr_sysenter_eip = 0;
  uint64_t msr_apic_base = 0xFEE00900;  // BSP, enabled, default base (SDM Vol. 3 §10.4.4)
  bool halted = false;           // HLT executed, waiting for an interrupt
  bool interrupt_shadow = false; // STI / MOV SS: interrupts held off for one instruction
  uint8_t cpl = 0;               // current privilege level (= CS.RPL in protected mode)
};

// The state boot loaders and test harnesses start 32-bit code in: protected
// mode with paging off, ring 0, interrupts off, every segment flat over 4 GiB
// (code selector 0x08, data 0x10, as the usual GDT has them; SDM Vol. 3
// §3.2.1 "basic flat model"). The descriptor caches are loaded directly, so
// no GDT need exist in memory. Registers other than EIP are left as they are.
inline void enter_flat_protected_mode(CpuState& s, uint32_t eip) {
  s.cr0 = (s.cr0 & ~(cr0::PG | cr0::CD | cr0::NW)) | cr0::PE;
  for (Segment& seg : s.seg) seg = Segment{0x10, 0, 0xFFFFFFFF, 0xC093};  // G, D/B, P, DPL 0, data r/w
  s.seg[CS] = Segment{0x08, 0, 0xFFFFFFFF, 0xC09B};                      // G, D, P, DPL 0, code e/r
  s.eip = eip;
  s.eflags = flag::kFixed1;
  s.cpl = 0;
  s.halted = false;
}

}  // namespace vs::cpu

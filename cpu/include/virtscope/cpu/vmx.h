// Simulated VT-x hardware: VMX non-root operation of the software CPU (Intel
// SDM Vol. 3C ch. 25 "VMX Non-Root Operation", ch. 27 "VM Exits", Appendix C
// "VMX Basic Exit Reasons"). The guest runs unmodified at ring 0; only what
// the VMM enables in VmxControls (plus the unconditional exits of §25.1.2)
// stops the run loop with RunStop::VmExit. docs/hvm-hardware.md explains it.
//
// Simplified on purpose: there is no VMCS in memory (VmxControls and VmExit
// are plain structs), no VMLAUNCH/VMRESUME (Cpu::run() is the VM entry), no
// MSR or I/O bitmaps, no CR0/CR4 guest/host masks (one bool), no preemption
// timer, no NMI exiting, no "acknowledge interrupt on exit".
#pragma once

#include <cstdint>

namespace vs::cpu {

// Basic exit reasons, numbered as SDM Vol. 3C Appendix C (Table C-1).
enum class VmxExitReason : uint16_t {
  ExceptionOrNmi = 0,
  ExternalInterrupt = 1,
  TripleFault = 2,
  InterruptWindow = 7,
  Cpuid = 10,
  Hlt = 12,
  Invd = 13,
  Invlpg = 14,
  Rdtsc = 16,
  Vmcall = 18,
  CrAccess = 28,
  DrAccess = 29,
  IoInstruction = 30,
  Rdmsr = 31,
  Wrmsr = 32,
  GdtrIdtrAccess = 46,
  LdtrTrAccess = 47,
  EptViolation = 48,
};
// The SDM's name ("EXCEPTION_NMI", "CPUID", "EPT_VIOLATION", ...).
const char* vmx_exit_reason_name(VmxExitReason);

// VM-execution controls (SDM Vol. 3C §24.6), reduced to what virtscope models.
// All false: only the unconditional exits happen (CPUID, INVD, VMCALL,
// triple fault; §25.1.2) and EPT violations when nested paging is on.
struct VmxControls {
  bool hlt_exiting = false;                 // HLT exits (primary control bit 7)
  bool invlpg_exiting = false;              // INVLPG exits (bit 9)
  bool rdtsc_exiting = false;               // RDTSC exits (bit 12)
  bool cr3_load_exiting = false;            // MOV to CR3 exits (bit 15; no CR3-target list)
  bool cr3_store_exiting = false;           // MOV from CR3 exits (bit 16)
  bool cr0_cr4_write_exiting = false;       // MOV to CR0/CR4, CLTS, LMSW exit (guest/host masks all ones)
  bool mov_dr_exiting = false;              // MOV to/from DRn exits (bit 23)
  bool unconditional_io_exiting = false;    // IN/OUT/INS/OUTS exit (bit 24; no I/O bitmaps)
  bool msr_exiting = false;                 // RDMSR/WRMSR exit (as "use MSR bitmaps" = 0); false: as bitmaps all clear
  bool external_interrupt_exiting = false;  // INTR exits instead of being delivered, whatever IF says (pin-based bit 0)
  bool interrupt_window_exiting = false;    // exit at the first boundary with IF = 1 and no STI/MOV SS blocking (bit 2)
  bool descriptor_table_exiting = false;    // LGDT LIDT SGDT SIDT LLDT LTR SLDT STR exit (secondary bit 2)
  uint32_t exception_bitmap = 0;            // bit v: exception v exits instead of going through the guest IDT
  bool nested_paging = false;               // EPT-like second stage: guest-physical is translated too (Mmu::set_nested)
};

// Exit qualification layouts (SDM Vol. 3C §27.2.1).
namespace exit_qual {
// Control-register accesses (Table 27-3).
constexpr uint32_t kCrNumberMask = 0xF;        // bits 3:0
constexpr unsigned kCrAccessTypeShift = 4;     // bits 5:4: 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW
constexpr uint32_t kCrLmswMemory = 1u << 6;    // LMSW operand was memory
constexpr unsigned kCrGprShift = 8;            // bits 11:8: the general-purpose register
constexpr unsigned kCrLmswDataShift = 16;      // bits 31:16: LMSW source data
// MOV DR (Table 27-4): bits 2:0 DR number, bit 4 direction (1 = MOV from DR), bits 11:8 GPR.
constexpr uint32_t kDrFromDr = 1u << 4;
// I/O instructions (Table 27-5).
constexpr uint32_t kIoSizeMask = 0x7;          // bits 2:0: size - 1 (0, 1 or 3)
constexpr uint32_t kIoIn = 1u << 3;            // direction: 1 = IN
constexpr uint32_t kIoString = 1u << 4;        // INS/OUTS
constexpr uint32_t kIoRep = 1u << 5;           // REP prefix
constexpr uint32_t kIoImmediate = 1u << 6;     // port given as imm8 (else DX)
constexpr unsigned kIoPortShift = 16;          // bits 31:16: port
// EPT violations (Table 27-7).
constexpr uint32_t kEptRead = 1u << 0, kEptWrite = 1u << 1, kEptFetch = 1u << 2;
constexpr uint32_t kEptReadable = 1u << 3, kEptWritable = 1u << 4, kEptExecutable = 1u << 5;
constexpr uint32_t kEptLinearValid = 1u << 7;  // guest_linear is valid
constexpr uint32_t kEptFinalPage = 1u << 8;    // 1: the access's own page; 0: a guest paging-structure entry
}  // namespace exit_qual

// VM-exit interruption information (SDM Vol. 3C §24.9.2, Table 24-15).
namespace intr_info {
constexpr uint32_t kTypeExternal = 0, kTypeNmi = 2, kTypeHardwareException = 3, kTypeSoftwareException = 6;
constexpr uint32_t kErrorCodeValid = 1u << 11;
constexpr uint32_t kValid = 1u << 31;
}  // namespace intr_info

// What the VMM learns from one VM exit (the VMCS exit-information fields,
// SDM Vol. 3C §24.9). The guest state is left AT the exiting instruction
// (not executed) for instruction exits, exceptions and EPT violations.
struct VmExit {
  VmxExitReason reason = VmxExitReason::ExceptionOrNmi;
  uint32_t qualification = 0;       // §27.2.1: CR/DR/I/O layouts above; #PF: the linear address; INVLPG: its operand
  uint32_t instruction_length = 0;  // instruction exits and software exceptions (#BP/#OF from INT3/INTO)
  uint32_t instruction_info = 0;    // descriptor-table exits: bits 29:28 identity (SGDT/SIDT/LGDT/LIDT, SLDT/STR/LLDT/LTR), bit 10 register form
  uint32_t guest_linear = 0;        // memory operand of INVLPG/descriptor/LMSW/string I/O exits; EPT violation's linear address
  uint64_t guest_physical = 0;      // EPT violation
  uint32_t interruption_info = 0;   // exception exits: vector bits 7:0, type bits 10:8, bit 11 error code valid, bit 31 valid
  uint8_t vector = 0;               // the same vector, for convenience
  bool has_error_code = false;
  uint32_t error_code = 0;          // the exception's error code
  uint32_t idt_vectoring_info = 0;  // §27.2.4: the exception being delivered when the exit happened (bit 31 valid)
};

}  // namespace vs::cpu

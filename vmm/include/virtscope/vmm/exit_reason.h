// Why the guest left guest mode for the VMM: the `reason` of a VmExit event
// and the rows of compare's "exits by reason". Where Intel VT-x has an exit
// for it, the code and the name are VT-x's basic exit reason, as the CPU's
// simulated non-root mode numbers them (cpu/include/virtscope/cpu/vmx.h, SDM
// Vol. 3C Appendix C); the traps only a software VMM sees (VT-x runs CLI,
// STI and segment loads of a ring-0 guest without exiting) take codes from
// 256 up.
#pragma once

#include <cstdint>

#include "virtscope/cpu/vmx.h"

namespace vs::vmm {

using cpu::VmxExitReason;

enum class ExitReason : uint16_t {
  ExceptionOrNmi = uint16_t(VmxExitReason::ExceptionOrNmi),        // qualification: the vector
  ExternalInterrupt = uint16_t(VmxExitReason::ExternalInterrupt),  // qualification: the vector
  TripleFault = uint16_t(VmxExitReason::TripleFault),
  InterruptWindow = uint16_t(VmxExitReason::InterruptWindow),
  Cpuid = uint16_t(VmxExitReason::Cpuid),
  Hlt = uint16_t(VmxExitReason::Hlt),
  Invlpg = uint16_t(VmxExitReason::Invlpg),
  Vmcall = uint16_t(VmxExitReason::Vmcall),                 // a hypercall
  CrAccess = uint16_t(VmxExitReason::CrAccess),             // qualification: the CR number
  IoInstruction = uint16_t(VmxExitReason::IoInstruction),   // qualification: the port
  GdtrIdtrAccess = uint16_t(VmxExitReason::GdtrIdtrAccess), // LGDT/LIDT
  LdtrTrAccess = uint16_t(VmxExitReason::LdtrTrAccess),     // LLDT/LTR
  EptViolation = uint16_t(VmxExitReason::EptViolation),
  // Software VMM only.
  Cli = 256,
  Sti = 257,
  SegmentLoad = 258,        // MOV/POP SS with the guest's ring-0 selector (qualification: the selector)
  SoftwareInterrupt = 259,  // INT n (qualification: the vector)
  // Binary translation's call-outs for sensitive instructions that do not trap.
  Popf = 260,
  Pushf = 261,
  Iret = 262,
  SensitiveRead = 263,      // PUSH CS, SGDT, SIDT, SLDT, STR, SMSW: the guest's values
};

// VT-x's name for a VT-x code (every hvm exit is one), else the software
// VMM's own.
inline const char* exit_reason_name(ExitReason r) {
  switch (r) {
    case ExitReason::Cli: return "CLI";
    case ExitReason::Sti: return "STI";
    case ExitReason::SegmentLoad: return "SEGMENT_LOAD";
    case ExitReason::SoftwareInterrupt: return "SOFTWARE_INTERRUPT";
    case ExitReason::Popf: return "POPF";
    case ExitReason::Pushf: return "PUSHF";
    case ExitReason::Iret: return "IRET";
    case ExitReason::SensitiveRead: return "SENSITIVE_READ";
    default: return cpu::vmx_exit_reason_name(VmxExitReason(uint16_t(r)));
  }
}

}  // namespace vs::vmm

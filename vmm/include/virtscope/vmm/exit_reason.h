// Why the guest left guest mode for the VMM: the `reason` of a VmExit event
// and the rows of compare's "exits by reason". Where Intel VT-x has an exit
// for it, the code and the name are VT-x's basic exit reason (SDM Vol. 3C
// Appendix C); the traps only a software VMM sees (VT-x runs CLI, STI and
// segment loads of a ring-0 guest without exiting) take codes from 256 up.
#pragma once

#include <cstdint>

namespace vs::vmm {

enum class ExitReason : uint16_t {
  ExceptionOrNmi = 0,       // an exception the VMM intercepted (qualification: the vector)
  ExternalInterrupt = 1,    // a device interrupt (qualification: the vector)
  TripleFault = 2,
  InterruptWindow = 7,
  Cpuid = 10,
  Hlt = 12,
  Invlpg = 14,
  Vmcall = 18,              // a hypercall
  CrAccess = 28,            // MOV to/from CR0/CR2/CR3/CR4 (qualification: the CR number)
  IoInstruction = 30,       // IN/OUT (qualification: the port)
  GdtrIdtrAccess = 46,      // LGDT/LIDT
  LdtrTrAccess = 47,        // LLDT/LTR
  EptViolation = 48,
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

inline const char* exit_reason_name(ExitReason r) {
  switch (r) {
    case ExitReason::ExceptionOrNmi: return "EXCEPTION_NMI";
    case ExitReason::ExternalInterrupt: return "EXTERNAL_INTERRUPT";
    case ExitReason::TripleFault: return "TRIPLE_FAULT";
    case ExitReason::InterruptWindow: return "INTERRUPT_WINDOW";
    case ExitReason::Cpuid: return "CPUID";
    case ExitReason::Hlt: return "HLT";
    case ExitReason::Invlpg: return "INVLPG";
    case ExitReason::Vmcall: return "VMCALL";
    case ExitReason::CrAccess: return "CR_ACCESS";
    case ExitReason::IoInstruction: return "IO_INSTRUCTION";
    case ExitReason::GdtrIdtrAccess: return "GDTR_IDTR_ACCESS";
    case ExitReason::LdtrTrAccess: return "LDTR_TR_ACCESS";
    case ExitReason::EptViolation: return "EPT_VIOLATION";
    case ExitReason::Cli: return "CLI";
    case ExitReason::Sti: return "STI";
    case ExitReason::SegmentLoad: return "SEGMENT_LOAD";
    case ExitReason::SoftwareInterrupt: return "SOFTWARE_INTERRUPT";
    case ExitReason::Popf: return "POPF";
    case ExitReason::Pushf: return "PUSHF";
    case ExitReason::Iret: return "IRET";
    case ExitReason::SensitiveRead: return "SENSITIVE_READ";
  }
  return "UNKNOWN";
}

}  // namespace vs::vmm

// Simulated VT-x: VMX non-root operation (Intel SDM Vol. 3C ch. 25), the VM
// exits instructions cause (ch. 27, §25.1.2-25.1.3) with their exit
// qualifications (§27.2.1), VM-entry event injection (§26.6) and the public
// Cpu API around them. Exceptions, interrupts and EPT violations turn into
// exits in interrupts.cpp and memory.cpp; this file has the instruction side.
//
// How it stays free in root mode: whether an instruction exits is decided by
// the decoder (Core::decode) when a block is decoded in non-root mode; it
// then runs vmx_exit_insn() instead of its handler. Entering or leaving
// non-root mode, or changing the controls, flushes the decoded blocks, so
// root mode never sees an exit handler and the run loop has no extra test.
#include "core.h"
#include "insn/common.inl"

namespace vs::cpu {

const char* vmx_exit_reason_name(VmxExitReason r) {
  switch (r) {
    case VmxExitReason::ExceptionOrNmi: return "EXCEPTION_NMI";
    case VmxExitReason::ExternalInterrupt: return "EXTERNAL_INTERRUPT";
    case VmxExitReason::TripleFault: return "TRIPLE_FAULT";
    case VmxExitReason::InterruptWindow: return "INTERRUPT_WINDOW";
    case VmxExitReason::Cpuid: return "CPUID";
    case VmxExitReason::Hlt: return "HLT";
    case VmxExitReason::Invd: return "INVD";
    case VmxExitReason::Invlpg: return "INVLPG";
    case VmxExitReason::Rdtsc: return "RDTSC";
    case VmxExitReason::Vmcall: return "VMCALL";
    case VmxExitReason::CrAccess: return "CR_ACCESS";
    case VmxExitReason::DrAccess: return "DR_ACCESS";
    case VmxExitReason::IoInstruction: return "IO_INSTRUCTION";
    case VmxExitReason::Rdmsr: return "RDMSR";
    case VmxExitReason::Wrmsr: return "WRMSR";
    case VmxExitReason::GdtrIdtrAccess: return "GDTR_IDTR_ACCESS";
    case VmxExitReason::LdtrTrAccess: return "LDTR_TR_ACCESS";
    case VmxExitReason::EptViolation: return "EPT_VIOLATION";
  }
  return "?";
}

// Which instructions exit under which controls (SDM Vol. 3C §25.1.2
// unconditional, §25.1.3 conditional). The opcode row's ExitClass says what
// an instruction CAN cause; the controls say whether it does.
bool Core::instruction_exits(const OpcodeInfo& row, const Insn& in) const {
  switch (row.exit) {
    case ExitClass::NO_EXIT: return false;
    case ExitClass::CPUID:
    case ExitClass::INVD:
    case ExitClass::VMCALL: return true;  // unconditional (§25.1.2)
    case ExitClass::HLT: return vmx.hlt_exiting;
    case ExitClass::INVLPG: return vmx.invlpg_exiting;
    case ExitClass::RDTSC: return vmx.rdtsc_exiting;
    case ExitClass::RDMSR:
    case ExitClass::WRMSR: return vmx.msr_exiting;
    case ExitClass::DR_ACCESS: return vmx.mov_dr_exiting;
    case ExitClass::IO_INSTRUCTION: return vmx.unconditional_io_exiting;
    case ExitClass::GDTR_IDTR_ACCESS:
    case ExitClass::LDTR_TR_ACCESS: return vmx.descriptor_table_exiting;
    case ExitClass::CR_ACCESS:
      if (row.opcode == 0x122) {  // MOV to CRn
        if (in.reg == 3) return vmx.cr3_load_exiting;
        return (in.reg == 0 || in.reg == 4) && vmx.cr0_cr4_write_exiting;
      }
      if (row.opcode == 0x120) return in.reg == 3 && vmx.cr3_store_exiting;  // MOV from CRn
      return vmx.cr0_cr4_write_exiting;  // CLTS, LMSW
    case ExitClass::RDPMC:   // RDPMC is always #GP(0) here (no counters)
    case ExitClass::WBINVD:  // WBINVD exiting (secondary control) is not modelled
      return false;
  }
  return false;
}

namespace {

// Descriptor-table exits: instruction identity in bits 29:28 of the
// VM-exit instruction-information field, bit 10 set for a register
// operand (SDM Vol. 3C Tables 27-10, 27-11).
uint32_t table_identity(Mnemonic m) {
  switch (m) {
    case Mnemonic::SGDT: case Mnemonic::SLDT: return 0u << 28;
    case Mnemonic::SIDT: case Mnemonic::STR: return 1u << 28;
    case Mnemonic::LGDT: case Mnemonic::LLDT: return 2u << 28;
    default: return 3u << 28;  // LIDT, LTR
  }
}

// Faults based on privilege level and the I/O permission checks have
// priority over the VM exit (SDM Vol. 3C §25.1.1); faults fetching the
// operands do not (the exit happens first), except LMSW's source data,
// which the exit qualification carries.
Fault privilege_check(Core& c, const OpcodeInfo& row, const Insn& in) {
  switch (row.privilege) {
    case Privilege::Privileged: return c.cpl() == 0 ? Fault{} : gp(0);
    case Privilege::Config:
      if (row.mnemonic == Mnemonic::RDTSC && (c.s.cr4 & cr4::TSD) && c.cpl() > 0) return gp(0);
      return {};
    default: return {};
  }
}

}  // namespace

// The instruction at CS:EIP exits to the VMM before it executes. EIP has been
// advanced past it by the run loop; returning the kVmExit fault puts it back.
Fault vmx_exit_insn(Core& c, const Insn& in) {
  const OpcodeInfo& row = opcode_table()[in.row];
  if (auto f = privilege_check(c, row, in)) return f;
  VmExit e;
  e.instruction_length = in.len;
  switch (row.exit) {
    case ExitClass::CPUID: e.reason = VmxExitReason::Cpuid; break;
    case ExitClass::INVD: e.reason = VmxExitReason::Invd; break;
    case ExitClass::VMCALL: e.reason = VmxExitReason::Vmcall; break;
    case ExitClass::HLT: e.reason = VmxExitReason::Hlt; break;
    case ExitClass::RDTSC: e.reason = VmxExitReason::Rdtsc; break;
    case ExitClass::RDMSR: e.reason = VmxExitReason::Rdmsr; break;
    case ExitClass::WRMSR: e.reason = VmxExitReason::Wrmsr; break;
    case ExitClass::INVLPG:
      // The qualification is the linear-address operand (§27.2.1).
      e.reason = VmxExitReason::Invlpg;
      e.qualification = e.guest_linear = c.win[in.seg].base + c.ea(in);
      break;
    case ExitClass::CR_ACCESS: {
      using namespace exit_qual;
      e.reason = VmxExitReason::CrAccess;
      if (row.opcode == 0x122 || row.opcode == 0x120) {
        const uint32_t type = row.opcode == 0x122 ? 0 : 1;  // MOV to CR / MOV from CR
        e.qualification = in.reg | type << kCrAccessTypeShift | uint32_t(in.rm) << kCrGprShift;
      } else if (row.mnemonic == Mnemonic::CLTS) {
        e.qualification = 0 | 2u << kCrAccessTypeShift;
      } else {  // LMSW: the source operand travels in the qualification
        uint32_t v;
        if (auto f = read_E<16>(c, in, v)) return f;
        e.qualification = 0 | 3u << kCrAccessTypeShift | (in.mod != 3 ? kCrLmswMemory : 0) | v << kCrLmswDataShift;
        if (in.mod != 3) e.guest_linear = c.win[in.seg].base + c.ea(in);
      }
      break;
    }
    case ExitClass::DR_ACCESS:
      e.reason = VmxExitReason::DrAccess;
      e.qualification = in.reg | (row.opcode == 0x121 ? exit_qual::kDrFromDr : 0) | uint32_t(in.rm) << 8;
      break;
    case ExitClass::IO_INSTRUCTION: {
      using namespace exit_qual;
      const bool string = row.mnemonic == Mnemonic::INS || row.mnemonic == Mnemonic::OUTS;
      const bool in_dir = row.mnemonic == Mnemonic::IN || row.mnemonic == Mnemonic::INS;
      const bool imm = !string && (in.op & 0x08) == 0;  // E4-E7 take imm8; EC-EF and strings use DX
      const unsigned size = (in.op & 1) == 0 ? 1 : in.o32 ? 4 : 2;
      const uint16_t port = imm ? uint16_t(in.imm & 0xFF) : uint16_t(c.gpr(EDX));
      if (auto f = c.check_io(port, size)) return f;  // IOPL / TSS bitmap first (§25.1.1)
      e.reason = VmxExitReason::IoInstruction;
      e.qualification = (size - 1) | (in_dir ? kIoIn : 0) | (string ? kIoString : 0) |
                        (string && in.rep ? kIoRep : 0) | (imm ? kIoImmediate : 0) | uint32_t(port) << kIoPortShift;
      if (string) {
        // The linear address of the string operand (§27.2.5 guest-linear address).
        const uint32_t off = in_dir ? c.gpr(EDI) & in.addr_mask : c.gpr(ESI) & in.addr_mask;
        e.guest_linear = (in_dir ? c.win[ES].base : c.win[in.seg].base) + off;
      }
      break;
    }
    case ExitClass::GDTR_IDTR_ACCESS:
    case ExitClass::LDTR_TR_ACCESS:
      e.reason = row.exit == ExitClass::GDTR_IDTR_ACCESS ? VmxExitReason::GdtrIdtrAccess : VmxExitReason::LdtrTrAccess;
      e.instruction_info = table_identity(row.mnemonic) | (in.mod == 3 ? 1u << 10 : 0);
      if (in.mod != 3) {
        e.qualification = in.disp;  // the displacement field (§27.2.1)
        e.guest_linear = c.win[in.seg].base + c.ea(in);
      }
      break;
    case ExitClass::NO_EXIT:
    case ExitClass::RDPMC:
    case ExitClass::WBINVD:
      return ud();  // never chosen by instruction_exits()
  }
  return c.exit_to_vmm(e);
}

Fault vmx_exit_insn_chained(Core& c, const Insn& in) { return run_chained<vmx_exit_insn>(c, in); }

// A kVmExit fault reached the run loop: stop it with RunStop::VmExit. The
// VmExit event is the VMM's to emit (vmm/ owns its reason codes).
void Core::stop_for_vm_exit() {
  stop_reason = RunStop::VmExit;
  stop_requested = true;
  attention = true;
}

// VM-entry event injection (§26.6.1): delivered before the first guest
// instruction, through the guest IDT, whatever IF says.
bool Core::deliver_injected_event() {
  if (!inject_pending) return false;
  inject_pending = false;
  s.halted = false;
  ++icount;  // delivery takes virtual time (see raise())
  const bool exception = inject_vector < 32;
  emit(trace::EventKind::Interrupt, inject_vector, exception ? 2 : 0, s.eip, s.seg[CS].selector);
  if (auto f = deliver(inject_vector, false, exception && inject_has_error, inject_error, s.eip,
                       exception ? kOriginException : kOriginExternal))
    raise(f);
  return true;
}

// ------------------------------------------------------------ public API ----

void Cpu::enter_non_root(const VmxControls& controls) {
  Core& c = *core_;
  c.vmx_active = true;
  set_vmx_controls(controls);
}

void Cpu::leave_non_root() {
  Core& c = *core_;
  c.vmx_active = c.vmx_decoded = false;
  c.vmx_window = c.vmx_irq_exits = c.vmx_nested = false;
  c.vmx = VmxControls{};
  c.flush_tlb();
  c.flush_blocks();  // blocks decoded with exit handlers must go
  c.attention = true;
}

bool Cpu::in_non_root() const { return core_->vmx_active; }

namespace {
// The controls the decoder bakes into decoded blocks (Core::instruction_exits).
bool same_instruction_exits(const VmxControls& a, const VmxControls& b) {
  return a.hlt_exiting == b.hlt_exiting && a.invlpg_exiting == b.invlpg_exiting &&
         a.rdtsc_exiting == b.rdtsc_exiting && a.cr3_load_exiting == b.cr3_load_exiting &&
         a.cr3_store_exiting == b.cr3_store_exiting && a.cr0_cr4_write_exiting == b.cr0_cr4_write_exiting &&
         a.mov_dr_exiting == b.mov_dr_exiting && a.unconditional_io_exiting == b.unconditional_io_exiting &&
         a.msr_exiting == b.msr_exiting && a.descriptor_table_exiting == b.descriptor_table_exiting;
}
}  // namespace

// Cheap when only the event controls change (interrupt-window exiting is
// toggled around nearly every injection): decoded blocks and translations
// are dropped only when what they depend on changed.
void Cpu::set_vmx_controls(const VmxControls& controls) {
  Core& c = *core_;
  const bool blocks_stale = !same_instruction_exits(c.vmx, controls) || c.vmx_active != c.vmx_decoded;
  const bool nested = c.vmx_active && controls.nested_paging;
  if (nested != c.vmx_nested) c.flush_tlb();  // what a translation means changed
  if (blocks_stale) c.flush_blocks();         // which instructions exit is baked into decoded blocks
  c.vmx = controls;
  c.vmx_decoded = c.vmx_active;
  c.vmx_window = c.vmx_active && controls.interrupt_window_exiting;
  c.vmx_irq_exits = c.vmx_active && controls.external_interrupt_exiting;
  c.vmx_nested = nested;
  c.attention = true;
}

const VmxControls& Cpu::vmx_controls() const { return core_->vmx; }
const VmExit& Cpu::last_vm_exit() const { return core_->vm_exit; }

bool Cpu::injection_pending() const { return core_->inject_pending; }

void Cpu::inject_event(uint8_t vector, bool has_error, uint32_t error_code) {
  Core& c = *core_;
  c.inject_pending = true;
  c.inject_vector = vector;
  c.inject_has_error = has_error;
  c.inject_error = error_code;
  c.attention = true;
}

}  // namespace vs::cpu

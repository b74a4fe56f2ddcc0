// The IA-32 processor: an interpreter of the P6 integer instruction set in
// real, protected and (partly) virtual-8086 mode, with exceptions, interrupts
// and the hooks a hypervisor needs. Intel SDM Vols. 1-3.
//
// Virtual time is the count of retired instructions; nothing here reads the
// wall clock. The same state and inputs give the same execution and events.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "virtscope/cpu/bus.h"
#include "virtscope/cpu/state.h"
#include "virtscope/cpu/vmx.h"

namespace vs::trace {
class EventLog;
}

namespace vs::cpu {

// Which processor's observable quirks to reproduce where models differ.
enum class CpuModel : uint8_t {
  P6,    // Pentium Pro/II class (the default)
  I286,  // 80286 real mode: FLAGS bits 12-15 read as 0 (SingleStepTests 80286)
};

// CPUID feature bits virtscope reports in leaf 1 EDX (SDM Vol. 2 "CPUID",
// Table 3-11). No FPU: x87 instructions raise #NM/#UD until x87 lands.
namespace cpuid_edx {
constexpr uint32_t FPU = 1u << 0, VME = 1u << 1, DE = 1u << 2, PSE = 1u << 3, TSC = 1u << 4;
constexpr uint32_t MSR = 1u << 5, PAE = 1u << 6, CX8 = 1u << 8, APIC = 1u << 9, SEP = 1u << 11;
constexpr uint32_t PGE = 1u << 13, CMOV = 1u << 15;
}  // namespace cpuid_edx

struct CpuConfig {
  CpuModel model = CpuModel::P6;
  // What CPUID leaf 1 claims; the platform adds PSE/PGE/APIC when it has them.
  uint32_t cpuid_features = cpuid_edx::TSC | cpuid_edx::MSR | cpuid_edx::CX8 | cpuid_edx::CMOV;
};

struct CpuidResult {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};
// virtscope's CPUID signature: vendor "VirtScopeX86", family 6 model 1.
constexpr char kCpuidVendor[] = "VirtScopeX86";

// The interrupt controller the INTR pin comes from (the 8259 PIC, issue 3).
class InterruptController {
 public:
  virtual ~InterruptController() = default;
  // INTA cycle: returns the vector of the highest-priority pending request.
  virtual uint8_t acknowledge() = 0;
};

// What a hook decided about an exception or interrupt about to be delivered.
enum class HookAction : uint8_t {
  Deliver,  // deliver it through the guest's IDT/IVT as usual
  Handled,  // the hook handled it (e.g. a VMM emulated the instruction); skip delivery
  Stop,     // stop the run loop (RunStop::Hook) before delivering anything
};

// Hooks for the virtualization layer (vmm/): see every exception and
// interrupt before the CPU delivers it. Called only when installed.
class CpuHooks {
 public:
  virtual ~CpuHooks() = default;
  // An exception raised by the instruction at CS:EIP (state still at the fault).
  virtual HookAction on_exception(uint8_t vector, bool has_error, uint32_t error_code) {
    return HookAction::Deliver;
  }
  // An external (hardware) interrupt about to be delivered.
  virtual HookAction on_interrupt(uint8_t vector) { return HookAction::Deliver; }
};

// Why run() returned.
enum class RunStop : uint8_t {
  Budget,       // the instruction budget ran out
  Halted,       // HLT with interrupts disabled or no interrupt pending
  Shutdown,     // triple fault (a Reset event was emitted)
  Unsupported,  // the guest used a feature virtscope does not model yet (see unsupported_feature())
  Requested,    // request_stop() was called (e.g. from a hook)
  Hook,         // a hook answered HookAction::Stop
  VmExit,       // non-root mode: a VM exit happened (see last_vm_exit(), vmx.h)
};
const char* run_stop_name(RunStop);

class Core;

class Cpu {
 public:
  Cpu(MemoryBus& memory, IoBus& io, trace::EventLog& log, CpuConfig config = {});
  ~Cpu();
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;

  // Power-on state (SDM Vol. 3 §9.1.1): real mode, CS:IP = F000:FFF0. A
  // power-on starts virtual time at 0; a requested reset (the 8042's reset
  // line, port 0x92) keeps the clock running. Emits one Reset event.
  enum class ResetCause : uint8_t { PowerOn = 0, Requested = 2 };  // 1: triple fault (the CPU's own)
  void reset(ResetCause cause = ResetCause::PowerOn);

  // Execute until `max_instructions` more have retired or something stops it.
  RunStop run(uint64_t max_instructions);
  // Exactly one instruction (or one interrupt/exception delivery).
  RunStop step();

  // --- state ---
  CpuState state() const;                // EFLAGS materialised
  void set_state(const CpuState& state); // descriptor caches taken as given
  // For a VMM between traps or exits: set_state() that keeps the decoded
  // code (memory did not change behind the CPU's back) and the TLB unless
  // CR0/CR3/CR4 changed.
  void resume_with(const CpuState& state);
  uint64_t instructions() const;         // virtual time
  void set_instructions(uint64_t icount);
  const char* unsupported_feature() const;

  // --- platform wiring ---
  void set_translator(Translator* translator);  // nullptr: paging is not available
  void set_interrupt_controller(InterruptController* pic);
  void set_irq(bool asserted);                  // INTR pin level
  void raise_nmi();
  void set_hooks(CpuHooks* hooks);
  void set_a20_mask(uint32_t mask);             // 0xFFEFFFFF when the A20 gate is closed
  // Physical memory changed behind the CPU's back (DMA, debugger pokes):
  // drop decoded code and cached translations covering it.
  void invalidate_code(uint32_t phys, uint32_t length);
  void flush_tlb();
  void request_stop();

  // --- simulated VT-x (vmx.h, docs/hvm-hardware.md) ---
  // VMX non-root operation: the current state becomes the guest state and
  // run() is the VM entry. A VM exit stops run() with RunStop::VmExit; the
  // guest state (state()/set_state()) is then the VMM's to read and change
  // (e.g. emulate the instruction and advance EIP) before calling run() again.
  void enter_non_root(const VmxControls& controls);
  void leave_non_root();
  bool in_non_root() const;
  void set_vmx_controls(const VmxControls& controls);  // change controls between exits
  const VmxControls& vmx_controls() const;
  const VmExit& last_vm_exit() const;
  // VM-entry event injection (SDM Vol. 3C §26.6): deliver `vector` through
  // the guest IDT at the start of the next run()/step(), before any
  // instruction, whatever IF says. Vectors 0-31 are delivered as hardware
  // exceptions (with the error code if has_error), 32-255 as external interrupts.
  void inject_event(uint8_t vector, bool has_error = false, uint32_t error_code = 0);
  // An injected event not delivered yet: it belongs to the current guest
  // state (a VMM switching VMs waits until it is gone).
  bool injection_pending() const;

 private:
  void load_state(const CpuState& state);
  std::unique_ptr<Core> core_;
};

}  // namespace vs::cpu

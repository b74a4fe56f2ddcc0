// The trap-and-emulate VMM (DESIGN.md §4 "trap"; ../shared/SEMANTICS.md §5,
// §6): the unmodified teaching kernel runs deprivileged at ring 1 on the
// real (emulated) CPU. Every exception and interrupt reaches the VMM first
// (CpuHooks): privileged instructions fault with #GP and are emulated on the
// virtual CPU; page faults either fill the shadow page tables (hidden from
// the guest) or are the guest's own and are reflected to it through its
// virtual IDT, as are its system calls and its devices' interrupts. The
// VM's devices (PIC, PIT, COM1, isa-debug-exit) are its own.
//
// Sensitive but unprivileged instructions run unchanged at ring 1 and show
// the deprivileging (POPF keeps the real IF, PUSH CS shows RPL 1, IRET does
// not restore the virtual IF): that is the lesson of this mode, not a bug.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../shadow/guest_memory.h"
#include "../shadow/shadow_mmu.h"
#include "../vm_devices.h"
#include "../vm_host.h"
#include "../vm_monitor.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/devices/bus.h"
#include "virtscope/devices/debug_ports.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/devices/pic.h"
#include "virtscope/devices/pit.h"
#include "virtscope/devices/scheduler.h"
#include "virtscope/devices/uart.h"
#include "virtscope/trace/event.h"
#include "virtscope/vmm/exit_reason.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::vmm {

class TrapMonitor final : public VmMonitor, public cpu::CpuHooks, public cpu::InterruptController {
 public:
  // Host-physical layout: the VMM's own pages below kGuestBase, the VM's RAM
  // from kGuestBase (guest-physical 0).
  static constexpr uint32_t kHoleTable = 0x100000;  // page table of the VMM's 4 MiB hole
  static constexpr uint32_t kRealGdt = 0x101000;    // 2 pages: the real GDT (8 KiB)
  static constexpr uint32_t kPoolFirst = 0x110000;  // shadow page tables, up to kGuestBase

  using Host = VmmHost;
  // With `binary_translation` the guest kernel's code is scanned before it
  // runs and its sensitive instructions call the VMM (the bt mode).
  TrapMonitor(Host host, uint32_t guest_ram_bytes, bool binary_translation = false);
  ~TrapMonitor() override;

  // VmMonitor. boot() places the Multiboot kernel in the VM's RAM; the
  // virtual CPU enters it at ring 1 with the state Multiboot promises (EAX
  // magic, EBX info).
  bool boot(const devices::MultibootImage& image, cpu::CpuState& initial, std::string& error) override;
  void attach() override;
  void detach() override;
  bool wants_cpu() const override { return pic_intr_; }
  const TrapStats& stats() const override { return stats_; }
  VirtualCpu vcpu(const cpu::CpuState&) const override {
    VirtualCpu v = vcpu_;
    v.interrupt_pending = pic_intr_;
    return v;
  }
  // Why the VMM stopped the machine (an instruction it cannot emulate), or null.
  const char* failure() const override { return failure_.empty() ? nullptr : failure_.c_str(); }
  bool console_ready() const override { return devices_.console_ready(); }
  void console_receive(uint8_t byte) override { devices_.console_receive(byte); }

  // cpu::CpuHooks
  cpu::HookAction on_exception(uint8_t vector, bool has_error, uint32_t error_code) override;
  cpu::HookAction on_interrupt(uint8_t vector) override;
  // cpu::InterruptController: the INTA cycle reaches the VM's PIC.
  uint8_t acknowledge() override;

 private:
  // The instruction at the guest's EIP, as far as emulating it needs.
  struct Decoded {
    unsigned length = 0;
    bool operand16 = false;  // 66h prefix
    uint8_t opcode = 0;      // the first byte after the prefixes
    uint8_t opcode2 = 0;     // the second byte of a 0Fh opcode
    uint8_t mod = 0, reg = 0, rm = 0;
    uint32_t ea = 0;         // linear address of the memory operand (mod != 3)
    uint8_t imm8 = 0;
    uint8_t bytes[16] = {};  // as read from the guest
    unsigned available = 0;
  };
  bool decode(const cpu::CpuState& s, Decoded& d);
  bool parse(const cpu::CpuState& s, Decoded& d);
  bool emulate(cpu::CpuState& s, const Decoded& d);
  bool emulate_io(cpu::CpuState& s, const Decoded& d);
  bool emulate_0f01(cpu::CpuState& s, const Decoded& d);
  bool emulate_cr(cpu::CpuState& s, const Decoded& d);
  bool load_ss(cpu::CpuState& s, uint16_t selector);
  cpu::HookAction page_fault(cpu::CpuState& s, uint32_t linear, uint32_t error);
  // Binary translation (binary_translation.cpp).
  void translate_kernel(const std::vector<uint8_t>& elf);
  bool callout(cpu::CpuState& s);
  bool emulate_sensitive(cpu::CpuState& s, const Decoded& d, bool& handled);
  void drop_translations(uint32_t page);
  bool reflect(cpu::CpuState& s, uint8_t vector, bool has_error, uint32_t error, unsigned source);
  bool rebuild_real_gdt();
  bool real_segment(uint16_t selector, cpu::Segment& out) const;
  void exit(ExitReason reason, uint32_t qualification, const cpu::CpuState& s);
  cpu::HookAction fail(const std::string& why);
  bool guest_if(const cpu::CpuState& s) const;
  trace::VirtualTime now() const {
    const uint64_t t = host_.cpu.instructions();
    return {t, t};
  }
  void update_intr();

  Host host_;
  GuestPhysical guest_;
  GuestLinear linear_;
  VirtualCpu vcpu_;
  TrapStats stats_;
  ShadowMmu shadow_;  // follows vcpu_.paging, counts into stats_
  std::string failure_;
  VmDevices devices_;
  bool attached_ = false;          // the VM is on the real CPU
  bool pic_intr_ = false;          // the VM's PIC INTR output
  bool acknowledging_ = false;     // acknowledge() ran: the next on_interrupt is external
  devices::Scheduler::Id window_;  // re-checks a pending interrupt the guest had masked
  // Binary translation: call-out sites (guest-linear = guest-physical in the
  // kernel's identity map) with the original bytes, and the pages they are on.
  struct Site {
    uint8_t bytes[15];
    uint8_t length;
  };
  bool bt_ = false;
  std::map<uint32_t, Site> sites_;
  std::map<uint32_t, unsigned> translated_pages_;  // guest-physical page -> sites on it
};

}  // namespace vs::vmm

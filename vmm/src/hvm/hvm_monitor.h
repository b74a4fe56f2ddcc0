// The hardware-assisted VMM (DESIGN.md §4 "hvm"; SEMANTICS.md §9-10): the
// unmodified teaching kernel runs at ring 0 in the CPU's simulated VMX
// non-root mode (cpu/include/virtscope/cpu/vmx.h, docs/hvm-hardware.md) with
// its own GDT, IDT and page tables. Only what the VMM asks for exits: I/O
// (to the VM's own devices), HLT, CPUID (always), external interrupts
// (injected back through VM entry when the guest can take them) and EPT
// violations. Memory is virtualized by nested paging: an EPT-like table maps
// guest-physical to host-physical, so guest page faults, CR3 loads and PTE
// writes cause no exit at all.
//
// With shadow paging instead (hvm-shadow, hvm_shadow.cpp), as VT-x VMMs
// worked before EPT: the real CR3 is the VMM's shadow page directory
// (ShadowMmu, shared with the trap VMM), the guest's CR0/CR3/CR4 are virtual,
// and CR3 loads and stores, CR0/CR4 writes, INVLPG, #PF and #DB exit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "../shadow/guest_memory.h"
#include "../shadow/shadow_mmu.h"
#include "../vm_devices.h"
#include "../vm_host.h"
#include "../vm_monitor.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/cpu/vmx.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::vmm {

class HvmMonitor final : public VmMonitor, public cpu::InterruptController {
 public:
  static constexpr uint32_t kNestedTables = 0x100000;  // host-physical: the nested tables from here
  using Host = VmmHost;
  // With `shadow_paging` (hvm-shadow) the VMM keeps shadow page tables
  // instead of nested paging: CR3 loads, INVLPG and page faults exit.
  HvmMonitor(Host host, uint32_t guest_ram_bytes, bool shadow_paging = false);
  ~HvmMonitor();

  // VmMonitor. The guest starts as Multiboot says, at ring 0 in non-root
  // mode; handle_exit() serves a VM exit.
  bool boot(const devices::MultibootImage& image, cpu::CpuState& initial, std::string& error) override;
  void attach() override;
  void detach() override;
  bool handle_exit() override;
  bool wants_cpu() const override { return pic_intr_; }
  VirtualCpu vcpu(const cpu::CpuState& real) const override;
  bool console_ready() const override { return devices_.console_ready(); }
  void console_receive(uint8_t byte) override { devices_.console_receive(byte); }

  const TrapStats& stats() const override { return stats_; }
  // hvm-shadow: the guest's virtual CR0/CR3/CR4 (under nested paging the
  // real ones are the guest's).
  const GuestPaging& virtual_paging() const { return paging_; }
  const char* failure() const override { return failure_.empty() ? nullptr : failure_.c_str(); }
  uint8_t acknowledge() override { return devices_.pic.acknowledge(); }

 private:
  void build_nested_tables();
  // Shadow paging (hvm_shadow.cpp).
  void start_shadow(cpu::CpuState& s);
  // `lost`: the event injected at the last entry was not delivered;
  // `int80`: the guest's INT 0x80 since then was not delivered either.
  bool exception(const cpu::VmExit& e, cpu::CpuState& s, bool lost, bool int80);
  bool page_fault(const cpu::VmExit& e, cpu::CpuState& s, bool lost, bool int80);
  bool cr_access(const cpu::VmExit& e, cpu::CpuState& s);
  bool write_cr0(cpu::CpuState& s, uint32_t value);
  void inject(cpu::CpuState& s, uint8_t vector, bool has_error = false, uint32_t error = 0);
  bool injection_lost(const cpu::CpuState& s) const;
  void count_syscall(const trace::Event& e);
  void end_of_step();
  bool io(const cpu::VmExit& e, cpu::CpuState& s);
  void intr_changed(bool level);
  void count(ExitReason reason, uint32_t qualification, const cpu::CpuState& s);
  bool fail(const std::string& why);
  trace::VirtualTime now() const {
    const uint64_t t = host_.cpu.instructions();
    return {t, t};
  }

  Host host_;
  uint32_t guest_ram_;
  // Shadow paging only: the guest's memory as the VMM walks it, its virtual
  // paging registers and the shadow built from them.
  GuestPhysical guest_;
  GuestLinear linear_;
  GuestPaging paging_;
  std::unique_ptr<ShadowMmu> shadow_;
  VmDevices devices_;
  cpu::VmxControls controls_;
  TrapStats stats_;
  std::string failure_;
  uint32_t nested_root_ = 0;  // host-physical: the nested PML4 (nested paging only)
  bool attached_ = false;     // the VM is on the real CPU
  bool pic_intr_ = false;
  bool waiting_for_window_ = false;  // an interrupt is held until the guest sets IF
  // The event last injected, and the guest state it was injected into: under
  // shadow paging its delivery can hit a hidden #PF (the guest's IDT or
  // kernel stack not in the shadow yet), after which it is injected again.
  struct Injection {
    bool pending = false;
    uint8_t vector = 0;
    bool has_error = false;
    uint32_t error = 0;
    uint64_t at = 0;  // virtual time of the injection
    uint32_t eip = 0, esp = 0;
    uint16_t cs = 0;
  } injected_;
  // The guest's last INT 0x80 from user mode, until the next exit: a
  // delivery that hits a hidden #PF is retried and must count once.
  struct Syscall {
    bool pending = false;
    uint32_t eip = 0;
  } syscall_;
  trace::EventLog::SubscriberId syscalls_ = 0;
};

}  // namespace vs::vmm

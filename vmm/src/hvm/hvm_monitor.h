// The hardware-assisted VMM (DESIGN.md §4 "hvm"; SEMANTICS.md §9-10): the
// unmodified teaching kernel runs at ring 0 in the CPU's simulated VMX
// non-root mode (cpu/include/virtscope/cpu/vmx.h, docs/hvm-hardware.md) with
// its own GDT, IDT and page tables. Only what the VMM asks for exits: I/O
// (to the VM's own devices), HLT, CPUID (always), external interrupts
// (injected back through VM entry when the guest can take them) and EPT
// violations. Memory is virtualized by nested paging: an EPT-like table maps
// guest-physical to host-physical, so guest page faults, CR3 loads and PTE
// writes cause no exit at all.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "../vm_devices.h"
#include "../vm_host.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/cpu/vmx.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::vmm {

class HvmMonitor final : public cpu::InterruptController {
 public:
  static constexpr uint32_t kNestedTables = 0x100000;  // host-physical: the nested tables from here
  using Host = VmmHost;
  // With `shadow_paging` (hvm-shadow) the VMM keeps shadow page tables
  // instead of nested paging: CR3 loads, INVLPG and page faults exit.
  HvmMonitor(Host host, uint32_t guest_ram_bytes, bool shadow_paging = false);

  bool boot(const devices::MultibootImage& image, std::string& error);
  // The CPU stopped with RunStop::VmExit: handle the exit; false when the VMM
  // cannot (failure() says why).
  bool handle_exit();

  const TrapStats& stats() const { return stats_; }
  devices::Uart& com1() { return devices_.com1; }  // the guest's console
  const char* failure() const { return failure_.empty() ? nullptr : failure_.c_str(); }
  uint8_t acknowledge() override { return devices_.pic.acknowledge(); }

 private:
  void build_nested_tables();
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
  bool shadow_paging_ = false;
  VmDevices devices_;
  cpu::VmxControls controls_;
  TrapStats stats_;
  std::string failure_;
  bool pic_intr_ = false;
  bool waiting_for_window_ = false;  // an interrupt is held until the guest sets IF
};

}  // namespace vs::vmm

// What the Machine needs of every VMM that runs its VM on the emulated CPU
// (trap, bt, pv, hvm, hvm-shadow): booting the VM, and putting it on and
// taking it off the one real CPU, so that several VMs can share it
// (MachineConfig::vms; DESIGN.md §4: the VMM time-slices the VMs' virtual
// CPUs). The Machine keeps each detached VM's CPU state.
#pragma once

#include <cstdint>
#include <string>

#include "virtscope/cpu/state.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::vmm {

class VmMonitor {
 public:
  virtual ~VmMonitor() = default;
  // Places the Multiboot kernel in the VM and says in `initial` how its
  // virtual CPU starts. Touches no CPU state: the VM may not be attached.
  virtual bool boot(const devices::MultibootImage& image, cpu::CpuState& initial, std::string& error) = 0;
  // Puts the VM's hooks, interrupt controller, VMX mode and interrupt line
  // on the real CPU, whose state the Machine has just loaded with the VM's;
  // detach() takes them off before another VM's state is loaded.
  virtual void attach() = 0;
  virtual void detach() = 0;
  // The CPU stopped with RunStop::VmExit (the hardware-assisted VMM): false
  // when the VMM cannot handle it (failure() says why).
  virtual bool handle_exit() { return true; }
  // Something waits for the VM's CPU (an interrupt, an event): a halted VM
  // should be scheduled again.
  virtual bool wants_cpu() const = 0;
  virtual const char* failure() const = 0;
  virtual const TrapStats& stats() const = 0;
  // The virtual CPU as the guest believes it is, given the VM's real CPU
  // state (the CPU's while attached, the Machine's copy otherwise).
  virtual VirtualCpu vcpu(const cpu::CpuState& real) const = 0;
  // The guest's console input: it can take a byte now / here it is.
  virtual bool console_ready() const = 0;
  virtual void console_receive(uint8_t byte) = 0;
};

}  // namespace vs::vmm

// What the Machine hands every VMM mode (trap, bt, hvm), and the layout they
// share: the VM's RAM lies in host RAM from kGuestBase, below it the VMM's
// own pages (GDT and shadow tables, or nested tables).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "virtscope/cpu/cpu.h"
#include "virtscope/devices/bus.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/devices/scheduler.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::vmm {

// Host-physical address of guest-physical 0.
constexpr uint32_t kGuestBase = 0x1000000;

struct VmmHost {
  cpu::Cpu& cpu;
  devices::PhysicalMemory& memory;  // at least kGuestBase + the guest's RAM
  devices::Scheduler& scheduler;
  trace::EventLog& log;
  mmu::Mmu& mmu;                    // the real MMU
  std::function<void(int status)> guest_exit;
  std::function<void(uint8_t)> serial_out;
  // A hosted (type-2) VMM: its device models live in a user-space process
  // of the host OS, so every I/O request takes the extra hop through the
  // host kernel (MachineConfig::hosted).
  bool hosted = false;
  // Where this VM's part of host RAM starts: the VMM's own pages for it
  // from `base`, the VM's RAM from base + kGuestBase. Several VMs on one
  // machine get consecutive parts (MachineConfig::vms).
  uint32_t base = 0;
  unsigned vm = 1;  // the VM's number in events (trace::Event's vm field)
  // The VM's disk image (read-only here; each VM's device keeps its own
  // writes), or null: no disk.
  std::shared_ptr<const std::vector<uint8_t>> disk;

  uint32_t guest_base() const { return base + kGuestBase; }  // host-physical of guest-physical 0
  uint32_t at(uint32_t offset) const { return base + offset; }  // host-physical of a VMM page
  uint8_t* host(uint32_t offset) const { return memory.ram() + base + offset; }
};

// One I/O request reaching the VM's device model: an IoRequest event that
// records the path (docs/events.md) and the VMM's count of them.
inline void record_io_request(const VmmHost& host, TrapStats& stats, uint32_t port, uint32_t value, bool in) {
  ++stats.io_requests;
  const uint64_t t = host.cpu.instructions();
  host.log.emit(trace::EventKind::IoRequest, trace::VirtualTime{t, t}, port, value, in ? 1 : 0, host.hosted ? 2 : 1);
}

// One IN or OUT of the guest served by its VM's devices on `ports`: the
// PortIn/PortOut event, the I/O request with its path, and for IN the value
// merged into EAX (the low `size` bytes).
void serve_port_io(const VmmHost& host, TrapStats& stats, devices::PortBus& ports, uint16_t port, unsigned size,
                   bool in, uint32_t& eax);

// Places a Multiboot kernel in the VM's RAM (`guest_ram` bytes from
// kGuestBase): the loader fills a guest-physical memory of its own, whose
// bytes then become the VM's RAM.
devices::MultibootResult load_into_vm(const devices::MultibootImage& image, const VmmHost& host,
                                      uint32_t guest_ram);

}  // namespace vs::vmm

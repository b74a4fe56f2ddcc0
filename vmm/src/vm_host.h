// What the Machine hands every VMM mode (trap, bt, hvm), and the layout they
// share: the VM's RAM lies in host RAM from kGuestBase, below it the VMM's
// own pages (GDT and shadow tables, or nested tables).
#pragma once

#include <cstdint>
#include <functional>

#include "virtscope/cpu/cpu.h"
#include "virtscope/devices/bus.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/devices/scheduler.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"

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
};

// Places a Multiboot kernel in the VM's RAM (`guest_ram` bytes from
// kGuestBase): the loader fills a guest-physical memory of its own, whose
// bytes then become the VM's RAM.
devices::MultibootResult load_into_vm(const devices::MultibootImage& image, devices::PhysicalMemory& host,
                                      uint32_t guest_ram);

}  // namespace vs::vmm

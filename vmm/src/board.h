// The PC board the Machine owns: memory and port maps, the scheduler, and
// every device, wired the way a PC wires them. Private to vmm/.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "virtscope/devices/apic.h"
#include "virtscope/devices/ata.h"
#include "virtscope/devices/bus.h"
#include "virtscope/devices/cmos.h"
#include "virtscope/devices/debug_ports.h"
#include "virtscope/devices/i8042.h"
#include "virtscope/devices/mptable.h"
#include "virtscope/devices/pic.h"
#include "virtscope/devices/pit.h"
#include "virtscope/devices/scheduler.h"
#include "virtscope/devices/uart.h"
#include "virtscope/devices/vga.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/vmm/machine.h"

namespace vs::vmm {

// What the board tells the machine about (bound to Machine members).
struct BoardWiring {
  std::function<uint64_t()> clock;      // virtual time
  std::function<void(bool)> intr;       // the CPU's INTR pin
  std::function<void(bool)> a20;        // the A20 gate changed
  std::function<void()> reset;          // 8042 / port 0x92 reset request
  std::function<void(int)> guest_exit;  // isa-debug-exit
};

class Board final : public devices::IrqSink {
 public:
  Board(const MachineConfig& config, trace::EventLog& log, BoardWiring wiring);

  // An ISA interrupt line reaches both the 8259 pair and the IOAPIC (IRQ 0
  // on pin 2, as the MP table says); the guest masks the one it does not use.
  void set_irq(unsigned irq, bool level) override {
    pic.set_irq(irq, level);
    ioapic.set_irq(devices::isa_irq_pin(irq), level);
  }

  devices::PhysicalMemory memory;
  devices::PortBus ports;
  devices::Scheduler scheduler;
  devices::A20Gate a20;
  devices::Pic pic;
  devices::LocalApic lapic;
  devices::IoApic ioapic;
  devices::InterruptRouter router;  // the CPU's INTR/INTA: the LAPIC, or the PIC through LINT0
  devices::Pit pit;
  devices::Cmos cmos;
  devices::Uart com1, com2;
  devices::I8042 keyboard;
  devices::FastA20 fast_a20;
  devices::VgaText vga;
  devices::AtaController ata;
  devices::DebugCon debugcon;
  std::unique_ptr<devices::DebugExit> debug_exit;  // only with -device isa-debug-exit
  mmu::Mmu mmu;

  // Every device in a fixed order: snapshots save and load them so.
  std::vector<devices::Device*> devices;
  // False, with a reason, if a mapping collides (a wiring bug or a
  // debug-exit iobase over another device).
  bool wire(std::string& error);
  // Attach the -drive images (raw, written through to the file).
  bool attach_drives(const MachineConfig& config, std::string& error);
  // The configuration bytes a PC BIOS reads from CMOS: boot order, hard-disk
  // types and geometry, equipment, processor count (after attach_drives).
  void configure_cmos();
  // The MP floating pointer and configuration table (MP spec 1.4 §4), in the
  // first KiB of the EBDA where operating systems look for them.
  // The EBDA is 1 KiB at 0x9FC00; its first byte says so (in KiB).
  static constexpr uint32_t kEbdaAddress = 0x9FC00;
  static constexpr uint32_t kMpTablesAddress = kEbdaAddress + 16;
  bool place_mp_tables(std::string& error);
};

}  // namespace vs::vmm

// A VM's own devices (DESIGN.md §4: each VM gets its virtual PIC, PIT,
// COM1, isa-debug-exit and an ATA disk), on its own port bus, timed by the
// host's scheduler. Every VMM mode but pv gives its guest one set (pv's
// guest has rings instead of ports).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "virtscope/devices/ata.h"
#include "virtscope/devices/bus.h"
#include "virtscope/devices/debug_ports.h"
#include "virtscope/devices/pic.h"
#include "virtscope/devices/pit.h"
#include "virtscope/devices/scheduler.h"
#include "virtscope/devices/uart.h"
#include "serial_input.h"

namespace vs::vmm {

struct VmDevices {
  // `intr` follows the VM's PIC INTR output.
  // `disk`: the image the VM's disk starts from (its writes stay its own), or null.
  VmDevices(devices::Scheduler& scheduler, trace::EventLog& log, std::function<void(bool)> intr,
            std::function<void(int)> guest_exit, std::function<void(uint8_t)> serial_out,
            const std::vector<uint8_t>* disk = nullptr)
      : pic(std::move(intr), &log, &scheduler),
        pit(scheduler, pic),
        com1("vm-com1", 0x3F8, 4, pic, scheduler, std::move(serial_out)),
        debug_exit(std::move(guest_exit), &log, &scheduler),
        ata("vm-ide0", pic, scheduler) {
    if (disk) ata.attach(0, std::make_unique<devices::MemoryDisk>(*disk));
    ports.map(devices::AtaController::kPrimaryCommand, devices::AtaController::kPrimaryCommand + 7, ata);
    ports.map(devices::AtaController::kPrimaryControl, devices::AtaController::kPrimaryControl, ata);
    com1.set_out2_gates_irq(false);
    ports.map(0x20, 0x21, pic);
    ports.map(0xA0, 0xA1, pic);
    ports.map(0x4D0, 0x4D1, pic);
    ports.map(0x40, 0x43, pit);
    ports.map(0x61, 0x61, pit);
    ports.map(0x3F8, 0x3FF, com1);
    ports.map(debug_exit.first_port(), debug_exit.last_port(), debug_exit);
  }

  devices::PortBus ports;
  devices::Pic pic;
  devices::Pit pit;
  devices::Uart com1;
  devices::DebugExit debug_exit;
  devices::AtaController ata;
  SerialInputGate input;  // host input into com1

  bool console_ready() const { return input.ready(com1); }
  void console_receive(uint8_t byte) { input.deliver(com1, byte); }
};

}  // namespace vs::vmm

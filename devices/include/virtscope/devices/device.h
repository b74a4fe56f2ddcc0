// The one device shape (DESIGN.md §2 devices/): every PC device is a Device,
// registered on the port bus and/or the physical memory map by address range
// under a readable name. Accesses arrive with their absolute address (the port
// number, or the physical address), so one device may own several ranges (the
// 8042 at 0x60 and 0x64, the PIC pair at 0x20 and 0xA0).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "virtscope/devices/state.h"

namespace vs::devices {

class Device {
 public:
  explicit Device(std::string_view name) : name_(name) {}
  virtual ~Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // The name the UI, the trace and error messages use ("pic-master", "com1").
  const std::string& name() const { return name_; }

  // A guest access of `size` bytes (1, 2 or 4) at `addr`. Reads may have
  // side effects (acknowledging an interrupt, popping a FIFO).
  virtual uint32_t read(uint32_t addr, unsigned size) = 0;
  virtual void write(uint32_t addr, unsigned size, uint32_t value) = 0;
  // What read() would return, without any side effect: for the UI, the
  // debugger and lessons. Every device implements it.
  virtual uint32_t peek(uint32_t addr, unsigned size) const = 0;

  // Power-on state.
  virtual void reset() = 0;
  // Snapshots: save() writes every register and internal counter; load()
  // reads them back in the same order and rejects impossible values through
  // the reader (never trusting the file).
  virtual void save(StateWriter& out) const = 0;
  virtual void load(StateReader& in) = 0;

 private:
  std::string name_;
};

// Where devices send interrupt requests: the board routes a line to the
// 8259 pair and the IOAPIC. Levels, not edges: a device holds its line.
class IrqSink {
 public:
  virtual ~IrqSink() = default;
  virtual void set_irq(unsigned irq, bool level) = 0;
};

}  // namespace vs::devices

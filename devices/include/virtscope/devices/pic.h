// The PC/AT's pair of 8259A Programmable Interrupt Controllers (Intel 8259A
// datasheet, order 231468): the master at ports 0x20-0x21 drives the CPU's
// INTR pin, the slave at 0xA0-0xA1 is cascaded into the master's IR2. Also the
// PIIX edge/level control registers (ELCR) at 0x4D0-0x4D1 (Intel 82371SB
// PIIX3 datasheet §4.1.11), which make single inputs level-triggered.
//
// Modelled: ICW1-ICW4 initialisation, OCW1 (mask), OCW2 (non-specific and
// specific EOI, rotate on EOI, rotate in auto-EOI mode, set priority), OCW3
// (read IRR/ISR, poll, special mask mode), edge- and level-triggered inputs
// (ICW1.LTIM or ELCR), auto-EOI, the cascade, spurious IRQ7/IRQ15.
//
// Deliberate deviations (each also noted where it happens):
// - Edge-triggered inputs keep their request once latched, even if the line
//   falls again before INTA. virtscope devices signal an edge as an
//   instantaneous pulse (raise then lower, e.g. the PIT), which the datasheet's
//   "IR must remain high until the first INTA" would lose. A request that goes
//   away before INTA still gives the spurious vector for level-triggered
//   inputs, and for the slave behind a latched IR2 (spurious IRQ15).
// - The cascade input IR2 is sampled again after every INTA on it, so a slave
//   that still has requests (auto-EOI, special mask) re-raises IR2.
// - ICW1 also clears ISR and IRR (the datasheet lists only IMR, priority,
//   special mask and status read; every PC BIOS re-initialises from idle).
// - Not modelled: special fully nested mode (ICW4.SFNM is stored, ignored),
//   MCS-80/85 mode (ICW4.uPM=0 still answers with 8086 vectors), buffered mode
//   (ICW4.BUF stored only). The slave's cascade ID (ICW3) is not checked: the
//   board wires the slave to IR2, and the master treats IR2 as cascaded when
//   its own ICW3 bit 2 is set and it is not in single mode.
// - The AT bus's IRQ2 pin is wired to the slave's IR1: set_irq(2) is IRQ9.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "virtscope/cpu/cpu.h"
#include "virtscope/devices/device.h"

namespace vs::trace {
class EventLog;
}

namespace vs::devices {

class Scheduler;

// One 8259A's registers. Public and plain so the UI can draw them.
struct Pic8259 {
  enum class Init : uint8_t { Ready, Icw2, Icw3, Icw4 };  // next ICW expected

  uint8_t irr = 0;              // Interrupt Request Register: inputs awaiting service
  uint8_t isr = 0;              // In-Service Register: acknowledged, awaiting EOI
  uint8_t imr = 0;              // Interrupt Mask Register (OCW1)
  uint8_t lines = 0;            // present level of each IR input pin (edge detection)
  uint8_t vector_base = 0;      // ICW2 T7-T3: the vector of IR0 (low 3 bits zero)
  uint8_t icw3 = 0;             // master: IRs with a slave; slave: its cascade ID
  uint8_t lowest_priority = 7;  // level with the lowest priority (rotation, OCW2)
  uint8_t elcr = 0;             // PIIX ELCR: 1 = that input is level-triggered
  Init init = Init::Ready;      // where the ICW sequence is
  bool need_icw4 = false;       // ICW1.IC4
  bool single = false;          // ICW1.SNGL: no cascade
  bool level_triggered = false; // ICW1.LTIM: every input level-triggered
  bool auto_eoi = false;        // ICW4.AEOI: ISR not set at INTA
  bool sfnm = false;            // ICW4.SFNM (stored, not modelled)
  bool buffered = false;        // ICW4.BUF (stored, not modelled)
  bool x86_mode = false;        // ICW4.uPM
  bool rotate_on_aeoi = false;  // OCW2 R=1,SL=0,EOI=0: rotate in auto-EOI mode
  bool special_mask = false;    // OCW3 SMM: masked levels do not block others
  bool read_isr = false;        // OCW3 RR/RIS: port A0=0 reads ISR, else IRR
  bool poll = false;            // OCW3 P: the next read is a poll (an INTA)

  // Inputs that are level-triggered (ICW1.LTIM applies to all, ELCR to one).
  uint8_t level_mask() const { return level_triggered ? 0xFF : elcr; }
  // The level the priority resolver would hand to the CPU now, or -1.
  int pending_level() const;
  // The highest-priority level in service, or -1.
  int highest_in_service() const;
};

class Pic final : public Device, public cpu::InterruptController, public IrqSink {
 public:
  // `intr` drives the CPU's INTR pin (the machine binds it to Cpu::set_irq);
  // it is called only when the pin changes. With a log and a scheduler the
  // PIC emits IrqLine events (time from scheduler->now()).
  explicit Pic(std::function<void(bool)> intr, trace::EventLog* log = nullptr,
               const Scheduler* scheduler = nullptr);

  // Ports: 0x20-0x21 (master), 0xA0-0xA1 (slave), 0x4D0-0x4D1 (ELCR).
  static constexpr uint16_t kMasterBase = 0x20, kSlaveBase = 0xA0, kElcrBase = 0x4D0;

  uint32_t read(uint32_t addr, unsigned size) override;
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // INTA: the vector of the highest-priority request (sets ISR unless
  // auto-EOI, clears an edge request); base+7 with no ISR bit if the request
  // went away (spurious IRQ7 / IRQ15).
  uint8_t acknowledge() override;
  // A device's interrupt line 0-15 (levels; higher numbers are ignored).
  void set_irq(unsigned irq, bool level) override;

  // Read-only state for the UI: chip 0 = master, 1 = slave.
  const Pic8259& chip(unsigned which) const { return which ? slave_ : master_; }
  bool intr() const { return intr_out_; }

 private:
  Pic8259& chip_at(uint32_t port);
  void write_command(Pic8259& c, uint8_t v);  // A0 = 0: ICW1, OCW2, OCW3
  void write_data(Pic8259& c, uint8_t v);     // A0 = 1: ICW2-4, OCW1
  void set_input(Pic8259& c, unsigned ir, bool level);
  void accept(Pic8259& c, int level);  // the INTA (or poll) of `level` on one chip
  uint8_t read_poll(Pic8259& c);
  void update_outputs();
  bool cascaded() const { return !master_.single && (master_.icw3 & 0x04); }

  std::function<void(bool)> intr_;
  trace::EventLog* log_;
  const Scheduler* scheduler_;
  Pic8259 master_, slave_;
  bool intr_out_ = false;  // the INTR level last sent to the CPU
};

}  // namespace vs::devices

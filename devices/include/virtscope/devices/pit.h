// The 8254 Programmable Interval Timer (Intel 8254 datasheet, order 231164)
// at ports 0x40-0x43, and the PC/AT's "system control port B" at 0x61 that
// gates channel 2 and reads back its output (IBM PC/AT Technical Reference,
// "System Timers" and port 61h).
//
// Time: the 8254's input clock runs at 1.193182 MHz. Nothing ticks: a
// counter's value and OUT are computed when read from the virtual time since
// it started (Scheduler::now()), and channel 0's interrupts come from one named
// scheduler timer ("pit0"). Clock tick n of a counter started at virtual time
// t0 happens at t0 + ceil(n * kInstructionsPerSecond / 1193182): every deadline
// is computed from the start, never by adding rounded periods, so periodic
// interrupts do not drift over long runs.
//
// Wiring on the PC: channel 0's OUT is IRQ0 and its gate is tied high;
// channel 1 (DRAM refresh) has no consumer; channel 2's gate is port 0x61
// bit 0 and its OUT feeds the speaker and port 0x61 bit 5.
//
// Modelled: modes 0-5, LSB / MSB / LSB-then-MSB access, counter latch,
// read-back (count and status), BCD counting, gates. Interrupts: mode 0 and 1
// raise IRQ0 at terminal count and keep it up until the channel is
// reprogrammed; modes 2 and 3 pulse it (raise then lower: an edge for the PIC)
// once per period; modes 4 and 5 pulse it at the strobe.
//
// Deliberate deviations:
// - A count takes effect at the instant it is written; the datasheet's one
//   clock to load it ("the first CLK pulse loads the count") is not modelled.
// - A new count written in mode 2 or 3 restarts the period at once instead of
//   at the end of the current one.
// - Mode 3 with an odd count reads back approximately (OUT is exact: high for
//   (N+1)/2 clocks, low for (N-1)/2).
// - Port 0x61 bit 4 (refresh toggle) flips every 18 input clocks (15.09 us,
//   the refresh period the BIOS programs into channel 1) from virtual time 0,
//   whatever channel 1 does.
// - Port 0x61 bits 6-7 (IOCHK, parity error) always read 0.
#pragma once

#include <array>
#include <cstdint>

#include "virtscope/devices/device.h"
#include "virtscope/devices/scheduler.h"

namespace vs::devices {

// One 8254 counter. Public and plain so the UI can draw it.
struct PitChannel {
  uint8_t mode = 0;              // control word M2-M0 (6, 7 read as 2, 3)
  uint8_t access = 3;            // RW1-RW0: 1 LSB only, 2 MSB only, 3 LSB then MSB
  bool bcd = false;              // count in BCD (0-9999)
  uint16_t count_register = 0;   // CR: the initial count last written
  uint8_t pending_lsb = 0;       // first byte of a two-byte count
  bool write_msb_next = false;   // two-byte writes: the next byte is the MSB
  bool read_msb_next = false;    // two-byte reads: the next byte is the MSB
  bool count_latched = false;    // counter latch / read-back holds OL
  uint16_t latch = 0;            // OL: the latched count
  bool latch_msb_next = false;   // two-byte read of the latch: MSB next
  bool status_latched = false;   // read-back latched the status byte
  uint8_t status = 0;            // the latched status byte
  bool gate = true;              // GATE input level
  bool loaded = false;           // a count was written since the control word
  bool triggered = false;        // modes 1/5: a gate rising edge started it
  bool running = false;          // counting now (loaded and the gate allows)
  uint64_t start = 0;            // virtual time the current run began
  uint64_t ticks_before = 0;     // input clocks counted before `start` (gate pauses)
};

class Pit final : public Device {
 public:
  static constexpr uint64_t kInputHz = 1'193'182;
  static constexpr uint16_t kBase = 0x40, kPortB = 0x61;

  // Adds the timer "pit0" to `scheduler`; IRQ0 goes to `irq`.
  Pit(Scheduler& scheduler, IrqSink& irq);

  // Ports 0x40-0x43 and 0x61.
  uint32_t read(uint32_t addr, unsigned size) override;
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // Read-only state for the UI and the speaker.
  const PitChannel& channel(unsigned i) const { return channels_[i % 3]; }
  uint16_t counter_value(unsigned i) const;  // what an unlatched read would show (raw, BCD if bcd)
  bool output(unsigned i) const;             // OUT pin level now
  uint8_t port_b() const { return read_port_b(); }
  bool speaker_on() const { return (port_b_ & 0x03) == 0x03 && output(2); }

  // Input clocks in `instructions` of virtual time (rounded down), and the
  // virtual time of `ticks` input clocks (rounded up): exact, no drift.
  static uint64_t ticks_in(uint64_t instructions);
  static uint64_t instructions_for(uint64_t ticks);
  static uint64_t deadline_for(const PitChannel& c, uint64_t target);

 private:
  uint8_t read_counter(PitChannel& c);
  uint8_t peek_counter(const PitChannel& c) const;
  void write_counter(unsigned i, uint8_t v);
  void write_control(uint8_t v);
  void latch_count(PitChannel& c);
  void latch_status(PitChannel& c);
  void load_count(unsigned i);
  void set_gate(unsigned i, bool level);
  uint8_t read_port_b() const;

  uint64_t counted(const PitChannel& c) const;  // input clocks counted so far
  uint32_t initial_count(const PitChannel& c) const;  // N: 0 means 65536 (10000 in BCD)
  void restart(PitChannel& c);
  void schedule_irq0();
  void on_pit0();
  void set_irq0_level(bool level);
  void pulse_irq0();

  Scheduler& scheduler_;
  IrqSink& irq_;
  Scheduler::Id timer_;
  std::array<PitChannel, 3> channels_;
  uint8_t port_b_ = 0;        // port 0x61 bits 0-3 as written (gate 2, speaker, parity/IOCHK enables)
  bool irq0_level_ = false;   // IRQ0 held high (modes 0/1 after terminal count)
  uint64_t irq0_target_ = 0;  // channel 0 input clock of the next interrupt (when scheduled)
};

}  // namespace vs::devices

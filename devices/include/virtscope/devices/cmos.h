// The PC/AT's CMOS RAM and real-time clock (Motorola MC146818A datasheet;
// IBM PC/AT Technical Reference, "CMOS RAM Configuration") at ports 0x70
// (index, bit 7 = NMI disable) and 0x71 (data).
//
// The clock counts in virtual time: it advances one second every
// Scheduler::kInstructionsPerSecond instructions, from a configurable start
// date (default 2026-01-01 00:00:00, so every run sees the same dates). Seconds
// tick on absolute multiples of that count. The time registers are kept in
// binary and shown in BCD or binary (register B DM) and 12- or 24-hour form
// (register B 24/12) when read; writes use the format in force.
//
// Interrupts (IRQ8, a level that stays up until register C is read): the
// periodic interrupt (register A RS rate, register B PIE) and the
// update-ended interrupt (register B UIE), both from the scheduler timer "rtc",
// phase-locked to virtual time 0 with exact integer arithmetic (no drift). PF
// and UF are set in register C whether or not their interrupt is enabled.
//
// Deliberate deviations and things not modelled:
// - UIP (register A bit 7) always reads 0: the update is instantaneous, so a
//   guest that waits for UIP to clear never waits.
// - The alarm (registers 1, 3, 5 and AIE/AF) is stored but never fires.
// - The day-of-week register 6 is computed from the date; writes are ignored.
// - Daylight saving (DSE) and the square-wave output (SQWE) do nothing; the
//   divider bits (register A DV) do not stop the clock.
// - Out-of-range time writes are clamped to what the register can count (0-59,
//   0-23, 1-31, 1-12, 0-99); a day past the month's end (Feb 31) is kept and
//   rolls over (to Mar 3) with the next second.
// - The century byte 0x32 is part of the clock here (it follows the year and
//   the DM format); on the real chip it is plain RAM the BIOS maintains.
// - Clearing SET restarts counting at the next absolute second boundary,
//   not 500 ms later.
// - reset() is a fresh power-on with a new battery: configured contents and
//   the clock at the configured start plus virtual time.
#pragma once

#include <array>
#include <cstdint>

#include "virtscope/devices/device.h"
#include "virtscope/devices/scheduler.h"

namespace vs::devices {

// A calendar date and time of day, binary, 24-hour.
struct DateTime {
  int year = 2026;   // 0-9999
  int month = 1;     // 1-12
  int day = 1;       // 1-31 (may briefly exceed the month, see cmos.h)
  int hour = 0;      // 0-23
  int minute = 0;    // 0-59
  int second = 0;    // 0-59
  bool operator==(const DateTime&) const = default;
};

class Cmos final : public Device {
 public:
  static constexpr uint16_t kIndexPort = 0x70, kDataPort = 0x71;
  // Register and RAM indices used by PC BIOSes.
  enum : uint8_t {
    kSeconds = 0x00, kMinutes = 0x02, kHours = 0x04, kDayOfWeek = 0x06, kDayOfMonth = 0x07,
    kMonth = 0x08, kYear = 0x09, kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D,
    kBaseMemLow = 0x15, kBaseMemHigh = 0x16, kExtMemLow = 0x17, kExtMemHigh = 0x18,
    kChecksumHigh = 0x2E, kChecksumLow = 0x2F, kExtMem2Low = 0x30, kExtMem2High = 0x31,
    kCentury = 0x32, kHighMemLow = 0x34, kHighMemHigh = 0x35,
  };

  // Adds the timer "rtc" to `scheduler`; IRQ8 goes to `irq`. `ram_bytes`
  // fills the memory-size bytes (see set_ram_size).
  Cmos(Scheduler& scheduler, IrqSink& irq, uint32_t ram_bytes = 0, DateTime start = {});

  // Ports 0x70-0x71.
  uint32_t read(uint32_t addr, unsigned size) override;
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // Configuration (the machine, before the guest runs). Each also applies at
  // once and survives reset().
  // Base memory 640 KiB (0x15-0x16), extended memory above 1 MiB in KiB up
  // to 0xFFFF (0x17-0x18 and 0x30-0x31), memory above 16 MiB in 64 KiB units
  // up to 0xFFFF (0x34-0x35); then the checksum.
  void set_ram_size(uint32_t ram_bytes);
  // The clock reads `start` at virtual time 0 (the default is 2026-01-01).
  void set_start_time(const DateTime& start);
  // A configuration byte (disk types, equipment); refreshes the checksum when
  // `index` is inside the checksummed range 0x10-0x2D.
  void set_byte(uint8_t index, uint8_t value);

  // Read-only state for the UI and the machine.
  uint8_t byte(uint8_t index) const { return read_register(index & 0x7F); }  // as the guest would read it
  uint8_t index() const { return index_; }
  bool nmi_disabled() const { return nmi_disabled_; }  // port 0x70 bit 7: the board masks NMI
  bool irq() const { return irq_level_; }
  DateTime now() const { return clock_at(scheduler_.now()); }

  // The AT BIOS checksum: the 16-bit sum of bytes 0x10-0x2D.
  static uint16_t checksum(const std::array<uint8_t, 128>& ram);

 private:
  uint8_t read_register(uint8_t index) const;  // what a read shows (no side effects)
  void write_register(uint8_t index, uint8_t value);
  void write_time(uint8_t index, uint8_t value);
  DateTime clock_at(uint64_t now) const;
  uint8_t flags_since(uint64_t from, uint64_t to) const;  // PF/UF due in (from, to]
  void fold_flags();
  void update_irq();
  void schedule();
  void on_timer();
  void refresh_checksum();
  void power_on();

  Scheduler& scheduler_;
  IrqSink& irq_;
  Scheduler::Id timer_;
  DateTime start_;                      // the clock at virtual time 0 (configuration)
  std::array<uint8_t, 128> defaults_{}; // RAM contents at power-on (configuration)

  std::array<uint8_t, 128> ram_{};  // CMOS RAM; 0x0A-0x0C hold registers A-C, time bytes unused
  uint8_t index_ = 0;               // port 0x70 bits 0-6
  bool nmi_disabled_ = false;       // port 0x70 bit 7
  DateTime clock_;                  // the time registers at the second `synced_`
  uint64_t synced_ = 0;             // absolute virtual second clock_ was valid for
  uint64_t flags_checked_ = 0;      // virtual time up to which PF/UF are folded into register C
  bool irq_level_ = false;          // IRQ8 asserted (register C IRQF)
};

}  // namespace vs::devices

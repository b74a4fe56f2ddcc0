// CMOS RAM and the MC146818A real-time clock (Motorola MC146818A datasheet:
// "Registers", "Interrupts"; IBM PC/AT Technical Reference for the layout of
// the configuration bytes). See cmos.h for the time model and deviations.
#include "virtscope/devices/cmos.h"

#include <algorithm>

namespace vs::devices {

namespace {

using u128 = unsigned __int128;
constexpr uint64_t kSecond = Scheduler::kInstructionsPerSecond;

// Register B bits ("Register B").
constexpr uint8_t kSet = 0x80, kPie = 0x40, kUie = 0x10, kBinary = 0x04, k24Hour = 0x02;
// Register C bits ("Register C").
constexpr uint8_t kIrqf = 0x80, kPf = 0x40, kUf = 0x10;

// Days since 1970-01-01 of a proleptic Gregorian date: the usual era/day-of-era
// decomposition (400-year eras of 146097 days, years starting in March so the
// leap day is last). A day past the month's end simply counts on.
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, DateTime& t) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  t.day = int(doy - (153 * mp + 2) / 5 + 1);
  t.month = int(mp < 10 ? mp + 3 : mp - 9);
  t.year = int(yoe + era * 400 + (t.month <= 2));
}

int64_t to_seconds(const DateTime& t) {
  return days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

DateTime from_seconds(int64_t s) {
  DateTime t;
  int64_t days = s / 86400, rest = s % 86400;
  if (rest < 0) rest += 86400, --days;
  civil_from_days(days, t);
  t.hour = int(rest / 3600);
  t.minute = int(rest / 60 % 60);
  t.second = int(rest % 60);
  return t;
}

// 1 = Sunday ("Time, Calendar and Alarm Data Modes"); 1970-01-01 was a Thursday.
int day_of_week(const DateTime& t) {
  const int64_t z = days_from_civil(t.year, t.month, t.day);
  return int(((z % 7) + 11) % 7) + 1;
}

uint8_t to_bcd(int v) { return uint8_t((v / 10) << 4 | (v % 10)); }
int from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0xF); }  // bad digits come out >= 10: clamped later

DateTime clamp_fields(DateTime t) {
  t.year = std::clamp(t.year, 0, 9999);
  t.month = std::clamp(t.month, 1, 12);
  t.day = std::clamp(t.day, 1, 31);
  t.hour = std::clamp(t.hour, 0, 23);
  t.minute = std::clamp(t.minute, 0, 59);
  t.second = std::clamp(t.second, 0, 59);
  return t;
}

// Periodic interrupt rate ("Table 5: Periodic Interrupt Rate", 32.768 kHz
// time base): RS 1-2 give 256 and 128 Hz, RS 3-15 give 32768 >> (RS-1) Hz.
// Returned as k with a period of 2^k / 32768 s; -1 for RS = 0 (none).
int periodic_shift(uint8_t reg_a) {
  const int rs = reg_a & 0x0F;
  return rs == 0 ? -1 : rs <= 2 ? rs + 6 : rs - 1;
}

// Periodic boundaries in [0, t]: floor(t * 32768 / (kSecond << k)).
uint64_t periods_until(uint64_t t, int k) { return uint64_t(u128(t) * 32768 / (u128(kSecond) << k)); }

uint64_t time_of_period(uint64_t n, int k) {
  const u128 v = (u128(n) * (u128(kSecond) << k) + 32767) / 32768;
  return v >= Scheduler::kNever ? Scheduler::kNever - 1 : uint64_t(v);
}

}  // namespace

Cmos::Cmos(Scheduler& scheduler, IrqSink& irq, uint32_t ram_bytes, DateTime start)
    : Device("cmos"), scheduler_(scheduler), irq_(irq), timer_(scheduler.add("rtc", [this] { on_timer(); })),
      start_(clamp_fields(start)) {
  set_ram_size(ram_bytes);
  power_on();
}

void Cmos::reset() { power_on(); }

void Cmos::power_on() {
  ram_ = defaults_;
  ram_[kRegA] = 0x26;  // 32.768 kHz divider, 1024 Hz periodic rate (the BIOS's setting)
  ram_[kRegB] = k24Hour;
  ram_[kRegC] = 0;
  ram_[kRegD] = 0x80;  // VRT: the battery is good
  index_ = 0;
  nmi_disabled_ = false;
  clock_ = start_;
  synced_ = 0;  // start_ is the time at virtual second 0
  flags_checked_ = scheduler_.now();
  update_irq();
  schedule();
}

// ------------------------------------------------------- configuration ----

uint16_t Cmos::checksum(const std::array<uint8_t, 128>& ram) {
  uint16_t sum = 0;
  for (unsigned i = 0x10; i <= 0x2D; ++i) sum = uint16_t(sum + ram[i]);
  return sum;
}

void Cmos::refresh_checksum() {
  for (auto* r : {&ram_, &defaults_}) {
    const uint16_t sum = checksum(*r);
    (*r)[kChecksumHigh] = uint8_t(sum >> 8);
    (*r)[kChecksumLow] = uint8_t(sum);
  }
}

void Cmos::set_byte(uint8_t index, uint8_t value) {
  index &= 0x7F;
  if (index <= kRegD || index == kCentury) return;  // the clock's, not configuration
  ram_[index] = defaults_[index] = value;
  if (index >= 0x10 && index <= 0x2D) refresh_checksum();
}

void Cmos::set_ram_size(uint32_t ram_bytes) {
  constexpr uint32_t kMiB = 1024 * 1024;
  const uint32_t base_kib = 640;
  const uint32_t ext_kib = std::min<uint32_t>(ram_bytes > kMiB ? (ram_bytes - kMiB) / 1024 : 0, 0xFFFF);
  const uint32_t high_64k = std::min<uint32_t>(ram_bytes > 16 * kMiB ? (ram_bytes - 16 * kMiB) / 65536 : 0, 0xFFFF);
  const std::pair<uint8_t, uint32_t> words[] = {{kBaseMemLow, base_kib}, {kExtMemLow, ext_kib},
                                                {kExtMem2Low, ext_kib}, {kHighMemLow, high_64k}};
  for (auto [low, value] : words) {
    set_byte(low, uint8_t(value));
    set_byte(uint8_t(low + 1), uint8_t(value >> 8));
  }
}

void Cmos::set_start_time(const DateTime& start) {
  start_ = clamp_fields(start);
  clock_ = start_;
  synced_ = 0;
}

// ------------------------------------------------------- the clock ----

DateTime Cmos::clock_at(uint64_t now) const {
  // While SET is 1 the update cycle is inhibited ("Register B, SET").
  const uint64_t second = now / kSecond;
  if ((ram_[kRegB] & kSet) || second <= synced_) return clock_;
  DateTime t = from_seconds(to_seconds(clock_) + int64_t(second - synced_));
  t.year %= 10000;
  return t;
}

uint8_t Cmos::read_register(uint8_t index) const {
  const uint8_t b = ram_[kRegB];
  auto shown = [b](int v) { return (b & kBinary) ? uint8_t(v) : to_bcd(v); };
  const uint64_t now = scheduler_.now();
  switch (index) {
    case kSeconds: return shown(clock_at(now).second);
    case kMinutes: return shown(clock_at(now).minute);
    case kHours: {
      const int h = clock_at(now).hour;
      if (b & k24Hour) return shown(h);
      // 12-hour mode: 12, 1, ..., 11 with bit 7 = PM.
      return uint8_t(shown(h % 12 == 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0));
    }
    case kDayOfWeek: return shown(day_of_week(clock_at(now)));
    case kDayOfMonth: return shown(clock_at(now).day);
    case kMonth: return shown(clock_at(now).month);
    case kYear: return shown(clock_at(now).year % 100);
    case kCentury: return shown(clock_at(now).year / 100 % 100);
    case kRegA: return ram_[kRegA] & 0x7F;  // UIP always 0 (cmos.h)
    case kRegC: {
      uint8_t c = uint8_t(ram_[kRegC] | flags_since(flags_checked_, now));
      return (c & b & 0x70) ? uint8_t(c | kIrqf) : uint8_t(c & ~kIrqf);
    }
    case kRegD: return 0x80;
    default: return ram_[index];
  }
}

void Cmos::write_time(uint8_t index, uint8_t value) {
  const uint8_t b = ram_[kRegB];
  const uint64_t now = scheduler_.now();
  DateTime t = clock_at(now);
  const bool pm = !(b & k24Hour) && index == kHours && (value & 0x80);
  if (index == kHours && !(b & k24Hour)) value &= 0x7F;
  const int v = (b & kBinary) ? value : from_bcd(value);
  switch (index) {
    case kSeconds: t.second = v; break;
    case kMinutes: t.minute = v; break;
    case kHours:
      t.hour = (b & k24Hour) ? v : std::clamp(v, 1, 12) % 12 + (pm ? 12 : 0);
      break;
    case kDayOfMonth: t.day = v; break;
    case kMonth: t.month = v; break;
    case kYear: t.year = t.year / 100 * 100 + std::min(v, 99); break;
    case kCentury: t.year = std::min(v, 99) * 100 + t.year % 100; break;
  }
  clock_ = clamp_fields(t);
  synced_ = now / kSecond;
}

void Cmos::write_register(uint8_t index, uint8_t value) {
  const uint64_t now = scheduler_.now();
  switch (index) {
    case kSeconds: case kMinutes: case kHours: case kDayOfMonth: case kMonth: case kYear: case kCentury:
      return write_time(index, value);
    case kDayOfWeek: return;  // computed from the date (cmos.h)
    case kRegA:
      fold_flags();
      ram_[kRegA] = value & 0x7F;
      break;
    case kRegB: {
      fold_flags();
      const bool was_set = ram_[kRegB] & kSet;
      if ((value & kSet) && !was_set) clock_ = clock_at(now);  // freeze the time as it is now
      if ((value & kSet) != was_set) synced_ = now / kSecond;  // and count on from here when SET clears
      if (value & kSet) value &= uint8_t(~kUie);                // "SET = 1 ... UIE is cleared"
      ram_[kRegB] = value;
      break;
    }
    case kRegC: case kRegD: return;  // read-only
    default: ram_[index] = value; return;
  }
  update_irq();
  schedule();
}

// ------------------------------------------------------- interrupts ----

uint8_t Cmos::flags_since(uint64_t from, uint64_t to) const {
  uint8_t f = 0;
  if (to <= from) return f;
  // An update cycle ends at every second boundary, unless SET inhibits it.
  if (!(ram_[kRegB] & kSet) && to / kSecond > from / kSecond) f |= kUf;
  const int k = periodic_shift(ram_[kRegA]);
  if (k >= 0 && periods_until(to, k) > periods_until(from, k)) f |= kPf;
  return f;
}

void Cmos::fold_flags() {
  const uint64_t now = scheduler_.now();
  ram_[kRegC] |= flags_since(flags_checked_, now);
  flags_checked_ = std::max(flags_checked_, now);
}

// IRQF = PF*PIE + AF*AIE + UF*UIE, and the IRQ pin follows it until register
// C is read ("Register C").
void Cmos::update_irq() {
  const bool irqf = ram_[kRegC] & ram_[kRegB] & 0x70;
  ram_[kRegC] = irqf ? uint8_t(ram_[kRegC] | kIrqf) : uint8_t(ram_[kRegC] & ~kIrqf);
  if (irqf != irq_level_) {
    irq_level_ = irqf;
    irq_.set_irq(8, irqf);
  }
}

// The next instant an enabled flag is due. While IRQ8 is up nothing new can be
// signalled, so the timer rests until register C is read (flags still
// accumulate, computed from time when read).
void Cmos::schedule() {
  const uint8_t b = ram_[kRegB];
  const uint64_t now = scheduler_.now();
  uint64_t next = Scheduler::kNever;
  const int k = periodic_shift(ram_[kRegA]);
  if (!irq_level_ && (b & kPie) && k >= 0) next = time_of_period(periods_until(now, k) + 1, k);
  if (!irq_level_ && (b & kUie) && !(b & kSet)) next = std::min(next, (now / kSecond + 1) * kSecond);
  if (next == Scheduler::kNever) scheduler_.cancel(timer_);
  else scheduler_.schedule(timer_, next);
}

void Cmos::on_timer() {
  fold_flags();
  update_irq();
  schedule();
}

// ------------------------------------------------------- ports ----

uint32_t Cmos::read(uint32_t addr, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint8_t b = 0xFF;  // port 0x70 is write-only
    if (addr + i == kDataPort) {
      if (index_ == kRegC) {
        // Reading C returns the flags and clears them, releasing IRQ8
        // (computed first so flags due now do not pulse the line).
        b = read_register(kRegC);
        ram_[kRegC] = 0;
        flags_checked_ = std::max(flags_checked_, scheduler_.now());
        update_irq();
        schedule();
      } else {
        b = read_register(index_);
      }
    }
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

uint32_t Cmos::peek(uint32_t addr, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint8_t b = addr + i == kDataPort ? read_register(index_) : 0xFF;
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

void Cmos::write(uint32_t addr, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    const uint8_t b = uint8_t(value >> (8 * i));
    if (addr + i == kIndexPort) {
      index_ = b & 0x7F;
      nmi_disabled_ = b & 0x80;
    } else if (addr + i == kDataPort) {
      write_register(index_, b);
    }
  }
}

// ------------------------------------------------------- snapshots ----

void Cmos::save(StateWriter& out) const {
  out.u8(index_);
  out.boolean(nmi_disabled_);
  out.bytes(ram_);
  out.u16(uint16_t(clock_.year));
  for (int f : {clock_.month, clock_.day, clock_.hour, clock_.minute, clock_.second}) out.u8(uint8_t(f));
  out.u64(synced_);
  out.u64(flags_checked_);
  out.boolean(irq_level_);
}

void Cmos::load(StateReader& in) {
  const uint8_t index = in.u8();
  const uint8_t nmi = in.u8();
  std::array<uint8_t, 128> ram;
  in.bytes(ram);
  DateTime t;
  t.year = in.u16();
  for (int* f : {&t.month, &t.day, &t.hour, &t.minute, &t.second}) *f = in.u8();
  const uint64_t synced = in.u64();
  const uint64_t checked = in.u64();
  const uint8_t irq = in.u8();
  in.expect(index <= 0x7F, "cmos: index out of range");
  in.expect(nmi <= 1 && irq <= 1, "cmos: flag is neither 0 nor 1");
  in.expect(clamp_fields(t) == t, "cmos: clock field out of range");
  in.expect(!(ram[kRegA] & 0x80), "cmos: UIP stored in register A");
  in.expect((ram[kRegC] & 0x0F) == 0, "cmos: reserved register C bits set");
  in.expect(ram[kRegD] == 0x80, "cmos: register D is not VRT");
  in.expect(!((ram[kRegB] & kSet) && (ram[kRegB] & kUie)), "cmos: UIE set while SET");
  const bool irqf = ram[kRegC] & ram[kRegB] & 0x70;
  in.expect(bool(ram[kRegC] & kIrqf) == irqf && bool(irq) == irqf, "cmos: IRQF disagrees with the flags");
  if (!in.ok()) return;
  index_ = index;
  nmi_disabled_ = nmi;
  ram_ = ram;
  clock_ = t;
  synced_ = synced;
  flags_checked_ = checked;
  if (irqf != irq_level_) {
    irq_level_ = irqf;
    irq_.set_irq(8, irqf);
  }
  schedule();
}

}  // namespace vs::devices

// The 8254 PIT and port 0x61 (Intel 8254 datasheet, order 231164; section
// names in the comments are the datasheet's). See pit.h for the time model
// and the deviations.
#include "virtscope/devices/pit.h"

namespace vs::devices {

namespace {

using u128 = unsigned __int128;

uint32_t bcd_decode(uint16_t raw) {
  uint32_t v = 0;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const uint32_t digit = (raw >> shift) & 0xF;
    v = v * 10 + (digit > 9 ? 9 : digit);  // not a BCD digit: undefined on the chip, clamp
  }
  return v;
}

uint16_t bcd_encode(uint32_t v) {
  uint16_t raw = 0;
  for (int shift = 0; shift < 16; shift += 4, v /= 10) raw = uint16_t(raw | (v % 10) << shift);
  return raw;
}

// Input clocks between the refresh requests the BIOS sets channel 1 up for
// (count 18: 15.09 us), which toggle port 0x61 bit 4.
constexpr uint64_t kRefreshTicks = 18;

}  // namespace

// The virtual time at which a counter reaches input clock `target` (counted
// from its start, so no rounding error accumulates).
uint64_t Pit::deadline_for(const PitChannel& c, uint64_t target) {
  const uint64_t after = instructions_for(target > c.ticks_before ? target - c.ticks_before : 0);
  return after > Scheduler::kNever - 1 - c.start ? Scheduler::kNever - 1 : c.start + after;
}

uint64_t Pit::ticks_in(uint64_t instructions) {
  return uint64_t(u128(instructions) * kInputHz / Scheduler::kInstructionsPerSecond);
}

uint64_t Pit::instructions_for(uint64_t ticks) {
  const u128 v = (u128(ticks) * Scheduler::kInstructionsPerSecond + kInputHz - 1) / kInputHz;
  return v >= Scheduler::kNever ? Scheduler::kNever - 1 : uint64_t(v);
}

Pit::Pit(Scheduler& scheduler, IrqSink& irq)
    : Device("pit"), scheduler_(scheduler), irq_(irq), timer_(scheduler.add("pit0", [this] { on_pit0(); })) {
  reset();
}

void Pit::reset() {
  channels_ = {};
  port_b_ = 0;
  channels_[2].gate = false;  // port 0x61 bit 0 is clear at power-on
  set_irq0_level(false);
  irq0_target_ = 0;
  scheduler_.cancel(timer_);
}

// ------------------------------------------------------- counting in time ----

uint64_t Pit::counted(const PitChannel& c) const {
  const uint64_t now = scheduler_.now();
  return c.ticks_before + (c.running && now > c.start ? ticks_in(now - c.start) : 0);
}

uint32_t Pit::initial_count(const PitChannel& c) const {
  // "Counter ... the largest possible initial count is 0; this is
  // equivalent to 2^16 for binary counting and 10^4 for BCD counting."
  const uint32_t n = c.bcd ? bcd_decode(c.count_register) : c.count_register;
  return n ? n : c.bcd ? 10000 : 65536;
}

uint16_t Pit::counter_value(unsigned i) const {
  const PitChannel& c = channels_[i % 3];
  if (!c.loaded) return c.count_register;  // no count in CE yet: shows what was there
  const uint64_t t = counted(c);
  const uint64_t n = initial_count(c);
  const uint64_t modulus = c.bcd ? 10000 : 65536;
  uint64_t v;
  switch (c.mode) {
    case 2:  // "Mode 2: Rate Generator": N, N-1, ..., 1, reload
      v = n - t % n;
      break;
    case 3: {  // "Mode 3: Square Wave Mode": decrements by two, reloads each half
      const uint64_t phase = t % n, high = (n + 1) / 2;
      const uint64_t into_half = phase < high ? phase : phase - high;
      const uint64_t even = n & ~uint64_t(1);
      v = even > 2 * into_half ? even - 2 * into_half : 0;
      break;
    }
    case 1:
    case 5:
      if (!c.triggered) {
        v = n;
        break;
      }
      [[fallthrough]];
    default:  // modes 0, 4 (and 1, 5 once triggered): count down, wrap past 0
      v = (n + modulus - t % modulus) % modulus;
      break;
  }
  v %= modulus;
  return c.bcd ? bcd_encode(uint32_t(v)) : uint16_t(v);
}

bool Pit::output(unsigned i) const {
  const PitChannel& c = channels_[i % 3];
  // "Initial OUT state" after a control word: low in mode 0, high otherwise.
  if (!c.loaded) return c.mode != 0;
  const uint64_t t = counted(c), n = initial_count(c);
  switch (c.mode) {
    case 0: return t >= n;                                  // high at terminal count, stays high
    case 1: return !c.triggered || t >= n;                  // low from trigger to terminal count
    case 2: return !c.gate || t % n != n - 1;               // low while the count is 1
    case 3: return !c.gate || t % n < (n + 1) / 2;          // high half, low half
    case 4: return t != n;                                  // one-clock strobe at 0
    case 5: return !c.triggered || t != n;
  }
  return true;
}

void Pit::restart(PitChannel& c) {
  c.ticks_before = 0;
  c.start = scheduler_.now();
  c.running = c.gate || c.mode == 1 || c.mode == 5;
}

// ------------------------------------------------------- channel 0 -> IRQ0 ----

void Pit::set_irq0_level(bool level) {
  if (level == irq0_level_) return;
  irq0_level_ = level;
  irq_.set_irq(0, level);
}

void Pit::pulse_irq0() {
  irq_.set_irq(0, true);
  irq_.set_irq(0, false);
}

// The next input clock at which channel 0 interrupts, as an absolute
// deadline computed from the start of the run (no accumulated rounding).
void Pit::schedule_irq0() {
  const PitChannel& c = channels_[0];
  if (!c.loaded || !c.running) {
    scheduler_.cancel(timer_);
    return;
  }
  const uint64_t t = counted(c), n = initial_count(c);
  switch (c.mode) {
    case 0:
    case 1:
      if (irq0_level_) return scheduler_.cancel(timer_);
      irq0_target_ = n;
      break;
    case 4:
    case 5:
      if (t >= n) return scheduler_.cancel(timer_);  // the strobe is past
      irq0_target_ = n;
      break;
    default:  // 2, 3: the next multiple of the period
      irq0_target_ = (t / n + 1) * n;
      break;
  }
  scheduler_.schedule(timer_, deadline_for(c, irq0_target_));
}

void Pit::on_pit0() {
  const PitChannel& c = channels_[0];
  if (!c.loaded || !c.running) return;
  switch (c.mode) {
    case 0:
    case 1: set_irq0_level(true); break;  // OUT rises at terminal count and stays
    case 4:
    case 5: pulse_irq0(); break;          // the strobe
    default:                              // 2, 3: once per period, then the next
      pulse_irq0();
      schedule_irq0();
      break;
  }
}

// ------------------------------------------------------- programming ----

void Pit::latch_count(PitChannel& c) {
  // "Counter Latch Command": a second latch before the count is read is ignored.
  if (c.count_latched) return;
  c.latch = counter_value(unsigned(&c - channels_.data()));
  c.count_latched = true;
  c.latch_msb_next = false;
}

void Pit::latch_status(PitChannel& c) {
  if (c.status_latched) return;
  const unsigned i = unsigned(&c - channels_.data());
  // "Status Byte": OUT, NULL COUNT, then the control word's RW, M, BCD.
  const bool null_count = !c.loaded || ((c.mode == 1 || c.mode == 5) && !c.triggered);
  c.status = uint8_t((output(i) ? 0x80 : 0) | (null_count ? 0x40 : 0) | (c.access << 4) | (c.mode << 1) |
                     (c.bcd ? 1 : 0));
  c.status_latched = true;
}

void Pit::write_control(uint8_t v) {
  const unsigned sc = v >> 6;
  if (sc == 3) {
    // "Read-Back Command": bit 5 = !COUNT, bit 4 = !STATUS, bits 3-1 = counters 2-0.
    for (unsigned i = 0; i < 3; ++i) {
      if (!(v & (2u << i))) continue;
      if (!(v & 0x20)) latch_count(channels_[i]);
      if (!(v & 0x10)) latch_status(channels_[i]);
    }
    return;
  }
  PitChannel& c = channels_[sc];
  const unsigned rw = (v >> 4) & 3;
  if (rw == 0) return latch_count(c);
  // "Control Word": all control logic is reset and OUT goes to its initial state.
  unsigned mode = (v >> 1) & 7;
  c.mode = uint8_t(mode > 5 ? mode - 4 : mode);  // 6 and 7 are 2 and 3
  c.access = uint8_t(rw);
  c.bcd = v & 1;
  c.loaded = c.triggered = c.running = false;
  c.write_msb_next = c.read_msb_next = c.latch_msb_next = false;
  c.count_latched = c.status_latched = false;
  c.ticks_before = 0;
  if (sc == 0) {
    set_irq0_level(false);
    schedule_irq0();
  }
}

void Pit::load_count(unsigned i) {
  PitChannel& c = channels_[i];
  c.loaded = true;
  if (c.mode == 1 || c.mode == 5) {
    // Hardware-triggered modes wait for a rising edge on the gate.
    c.triggered = c.running = false;
    c.ticks_before = 0;
  } else {
    restart(c);
  }
  if (i == 0) {
    set_irq0_level(false);  // mode 0: OUT low while counting
    schedule_irq0();
  }
}

void Pit::write_counter(unsigned i, uint8_t v) {
  PitChannel& c = channels_[i];
  switch (c.access) {
    case 1: c.count_register = v; return load_count(i);
    case 2: c.count_register = uint16_t(v << 8); return load_count(i);
    default:
      if (!c.write_msb_next) {
        c.pending_lsb = v;
        c.write_msb_next = true;
        // "Mode 0": writing the first byte disables counting, OUT goes low.
        if (c.mode == 0) {
          c.loaded = c.running = false;
          if (i == 0) {
            set_irq0_level(false);
            schedule_irq0();
          }
        }
        return;
      }
      c.write_msb_next = false;
      c.count_register = uint16_t(c.pending_lsb | v << 8);
      return load_count(i);
  }
}

void Pit::set_gate(unsigned i, bool level) {
  PitChannel& c = channels_[i];
  if (c.gate == level) return;
  c.gate = level;
  if (!c.loaded) return;
  if (level) {
    switch (c.mode) {
      case 1:
      case 5: c.triggered = true; restart(c); break;  // (re)trigger
      case 2:
      case 3: restart(c); break;                      // reload on the rising edge
      default: c.start = scheduler_.now(); c.running = true; break;  // 0, 4: resume
    }
  } else if (c.mode != 1 && c.mode != 5) {
    c.ticks_before = counted(c);  // 0, 2, 3, 4: a low gate stops counting
    c.running = false;
  }
  if (i == 0) {
    if (c.mode == 1) set_irq0_level(false);
    schedule_irq0();
  }
}

// ------------------------------------------------------- reading ----

uint8_t Pit::peek_counter(const PitChannel& c) const {
  if (c.status_latched) return c.status;
  const unsigned i = unsigned(&c - channels_.data());
  const uint16_t v = c.count_latched ? c.latch : counter_value(i);
  const bool msb = c.access == 2 || (c.access == 3 && (c.count_latched ? c.latch_msb_next : c.read_msb_next));
  return uint8_t(msb ? v >> 8 : v);
}

uint8_t Pit::read_counter(PitChannel& c) {
  const uint8_t b = peek_counter(c);
  if (c.status_latched) {
    c.status_latched = false;  // status first, then a latched count
  } else if (c.count_latched) {
    if (c.access == 3 && !c.latch_msb_next) {
      c.latch_msb_next = true;
    } else {
      c.count_latched = false;
      c.latch_msb_next = false;
    }
  } else if (c.access == 3) {
    c.read_msb_next = !c.read_msb_next;
  }
  return b;
}

uint8_t Pit::read_port_b() const {
  uint8_t v = port_b_ & 0x0F;
  if ((ticks_in(scheduler_.now()) / kRefreshTicks) & 1) v |= 0x10;
  if (output(2)) v |= 0x20;
  return v;
}

// ------------------------------------------------------- ports ----

uint32_t Pit::read(uint32_t addr, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t port = addr + i;
    uint8_t b = 0xFF;
    if (port >= kBase && port < kBase + 3) b = read_counter(channels_[port - kBase]);
    else if (port == kPortB) b = read_port_b();
    // 0x43 is write-only: the bus floats.
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

uint32_t Pit::peek(uint32_t addr, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t port = addr + i;
    uint8_t b = 0xFF;
    if (port >= kBase && port < kBase + 3) b = peek_counter(channels_[port - kBase]);
    else if (port == kPortB) b = read_port_b();
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

void Pit::write(uint32_t addr, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t port = addr + i;
    const uint8_t b = uint8_t(value >> (8 * i));
    if (port >= kBase && port < kBase + 3) {
      write_counter(port - kBase, b);
    } else if (port == kBase + 3) {
      write_control(b);
    } else if (port == kPortB) {
      port_b_ = b & 0x0F;  // bits 4-7 are status, read-only
      set_gate(2, b & 1);
    }
  }
}

// ------------------------------------------------------- snapshots ----

void Pit::save(StateWriter& out) const {
  for (const PitChannel& c : channels_) {
    out.u8(c.mode);
    out.u8(c.access);
    out.u16(c.count_register);
    out.u8(c.pending_lsb);
    out.u16(c.latch);
    out.u8(c.status);
    for (bool f : {c.bcd, c.write_msb_next, c.read_msb_next, c.count_latched, c.latch_msb_next, c.status_latched,
                   c.gate, c.loaded, c.triggered, c.running})
      out.boolean(f);
    out.u64(c.start);
    out.u64(c.ticks_before);
  }
  out.u8(port_b_);
  out.boolean(irq0_level_);
  out.boolean(scheduler_.pending(timer_));
  out.u64(irq0_target_);
}

namespace {
bool read_flag(StateReader& in) {
  const uint8_t v = in.u8();
  in.expect(v <= 1, "pit: flag is neither 0 nor 1");
  return v != 0;
}
}  // namespace

void Pit::load(StateReader& in) {
  std::array<PitChannel, 3> ch;
  for (PitChannel& c : ch) {
    c.mode = in.u8();
    c.access = in.u8();
    c.count_register = in.u16();
    c.pending_lsb = in.u8();
    c.latch = in.u16();
    c.status = in.u8();
    for (bool* f : {&c.bcd, &c.write_msb_next, &c.read_msb_next, &c.count_latched, &c.latch_msb_next,
                    &c.status_latched, &c.gate, &c.loaded, &c.triggered, &c.running})
      *f = read_flag(in);
    c.start = in.u64();
    c.ticks_before = in.u64();
    in.expect(c.mode <= 5, "pit: counter mode out of range");
    in.expect(c.access >= 1 && c.access <= 3, "pit: access mode out of range");
    in.expect(!c.running || c.loaded, "pit: counting without a count");
    in.expect(!c.triggered || c.mode == 1 || c.mode == 5, "pit: triggered outside modes 1 and 5");
  }
  const uint8_t port_b = in.u8();
  const bool irq0_level = read_flag(in);
  const bool pending = read_flag(in);
  const uint64_t target = in.u64();
  in.expect((port_b & ~0x0F) == 0, "pit: port 0x61 status bits stored");
  in.expect(ch[0].gate && ch[1].gate, "pit: channel 0/1 gate is tied high");
  in.expect(ch[2].gate == bool(port_b & 1), "pit: channel 2 gate disagrees with port 0x61");
  in.expect(!pending || (ch[0].running && target >= ch[0].ticks_before), "pit: timer pending for a stopped counter");
  if (!in.ok()) return;
  channels_ = ch;
  port_b_ = port_b;
  if (irq0_level != irq0_level_) {
    irq0_level_ = irq0_level;
    irq_.set_irq(0, irq0_level);
  }
  irq0_target_ = target;
  if (pending) {
    scheduler_.schedule(timer_, deadline_for(ch[0], target));
  } else {
    scheduler_.cancel(timer_);
  }
}

}  // namespace vs::devices

// The 8259A pair (Intel 8259A datasheet, order 231468). Section names in the
// comments are the datasheet's. See pic.h for what is and is not modelled.
#include "virtscope/devices/pic.h"

#include "virtscope/devices/scheduler.h"
#include "virtscope/trace/event.h"

namespace vs::devices {

namespace {

constexpr uint8_t bit(unsigned level) { return uint8_t(1u << (level & 7)); }

// The eight levels from highest to lowest priority: after a rotation the level
// following `lowest_priority` comes first ("Rotation (Equal Priority)").
template <typename F>
int first_in_priority_order(const Pic8259& c, F&& match) {
  for (unsigned i = 0; i < 8; ++i) {
    const unsigned level = (c.lowest_priority + 1 + i) & 7;
    if (match(level)) return int(level);
  }
  return -1;
}

// ELCR bits that must stay 0: IRQ0 (timer), IRQ1 (keyboard), IRQ2 (cascade)
// on the master; IRQ8 (RTC) and IRQ13 (FPU) on the slave (PIIX3 §4.1.11).
constexpr uint8_t kElcrMasterMask = 0xF8, kElcrSlaveMask = 0xDE;

// Level-triggered requests follow their pin ("Edge and Level Triggered
// Modes"); called whenever the set of level-triggered inputs changes.
void resample_level_inputs(Pic8259& c) {
  const uint8_t lm = c.level_mask();
  c.irr = uint8_t((c.irr & ~lm) | (c.lines & lm));
}

}  // namespace

int Pic8259::pending_level() const {
  // "Priority Resolver": the highest-priority unmasked request wins unless a
  // level of equal or higher priority is in service. In special mask mode an
  // in-service level blocks only itself ("Special Mask Mode").
  const uint8_t requests = uint8_t(irr & ~imr & (special_mask ? ~isr : 0xFF));
  int found = -1;
  first_in_priority_order(*this, [&](unsigned level) {
    if (!special_mask && (isr & bit(level))) return true;  // blocked below here
    if (requests & bit(level)) {
      found = int(level);
      return true;
    }
    return false;
  });
  return found;
}

int Pic8259::highest_in_service() const {
  return first_in_priority_order(*this, [&](unsigned level) { return (isr & bit(level)) != 0; });
}

Pic::Pic(std::function<void(bool)> intr, trace::EventLog* log, const Scheduler* scheduler)
    : Device("pic"), intr_(std::move(intr)), log_(log), scheduler_(scheduler) {
  reset();
}

void Pic::reset() {
  // Power-on: the chips wait for their ICWs; the pins keep their levels
  // (they belong to the devices).
  const uint8_t master_lines = master_.lines, slave_lines = slave_.lines;
  master_ = Pic8259{};
  slave_ = Pic8259{};
  master_.lines = master_lines;
  slave_.lines = slave_lines;
  update_outputs();  // drops INTR if it was up (never calls out during construction)
}

Pic8259& Pic::chip_at(uint32_t port) { return (port & 0x80) ? slave_ : master_; }

// ------------------------------------------------------------ the pins ----

void Pic::set_input(Pic8259& c, unsigned ir, bool level) {
  const uint8_t b = bit(ir);
  const bool was = (c.lines & b) != 0;
  const bool level_mode = (c.level_mask() & b) != 0;
  if (level) {
    c.lines |= b;
    if (!was || level_mode) c.irr |= b;  // a rising edge latches; a level holds
  } else {
    c.lines &= uint8_t(~b);
    // Edge requests stay latched (pic.h: devices pulse their lines); level
    // requests go away with the pin.
    if (level_mode) c.irr &= uint8_t(~b);
  }
}

void Pic::set_irq(unsigned irq, bool level) {
  if (irq > 15) return;
  const unsigned pin = irq == 2 ? 9 : irq;  // AT bus IRQ2 is the slave's IR1
  Pic8259& c = pin < 8 ? master_ : slave_;
  if (((c.lines & bit(pin)) != 0) == level) return;
  if (log_ && log_->wants(trace::EventKind::IrqLine)) {
    const uint64_t now = scheduler_ ? scheduler_->now() : 0;
    log_->emit(trace::EventKind::IrqLine, trace::VirtualTime{now, now}, irq, level ? 1 : 0);
  }
  set_input(c, pin & 7, level);
  update_outputs();
}

// The slave's INT pin is the master's IR2; the master's INT is the CPU's INTR.
void Pic::update_outputs() {
  set_input(master_, 2, slave_.pending_level() >= 0);
  const bool intr = master_.pending_level() >= 0;
  if (intr != intr_out_) {
    intr_out_ = intr;
    if (intr_) intr_(intr);
  }
}

// ------------------------------------------------------------ INTA ----

void Pic::accept(Pic8259& c, int level) {
  const uint8_t b = bit(unsigned(level));
  // "Interrupt Sequence": the first INTA sets the ISR bit and resets the
  // edge latch; a level request stays in IRR while its pin is high.
  if (!(c.level_mask() & b)) c.irr &= uint8_t(~b);
  if (c.auto_eoi) {
    // "Automatic End of Interrupt Mode": the ISR bit is cleared at the end
    // of the INTA sequence, so it is never seen set.
    if (c.rotate_on_aeoi) c.lowest_priority = uint8_t(level);
  } else {
    c.isr |= b;
  }
  // Deviation (pic.h): the cascade input is sampled afresh after its INTA,
  // so a slave still asserting INT latches IR2 again.
  if (&c == &master_ && level == 2) master_.lines &= uint8_t(~bit(2));
}

uint8_t Pic::acknowledge() {
  uint8_t vector;
  const int m = master_.pending_level();
  if (m < 0) {
    // The request went away before INTA: the master answers IR7 without
    // setting ISR7 ("spurious" default IR7, "Edge and Level Triggered Modes").
    vector = uint8_t(master_.vector_base + 7);
  } else {
    accept(master_, m);
    if (m == 2 && cascaded()) {
      // "Cascading": the slave puts the vector on the bus.
      const int s = slave_.pending_level();
      if (s < 0) {
        vector = uint8_t(slave_.vector_base + 7);  // spurious IRQ15: master ISR2 is set, slave's is not
      } else {
        accept(slave_, s);
        vector = uint8_t(slave_.vector_base + s);
      }
    } else {
      vector = uint8_t(master_.vector_base + m);
    }
  }
  update_outputs();
  return vector;
}

// OCW3 P=1: the next read returns the poll word and counts as an INTA on this
// chip alone ("The Poll Command"): bit 7 = a request, bits 2-0 its level.
uint8_t Pic::read_poll(Pic8259& c) {
  c.poll = false;
  const int level = c.pending_level();
  if (level < 0) return 0;
  accept(c, level);
  update_outputs();
  return uint8_t(0x80 | level);
}

// ------------------------------------------------------------ commands ----

void Pic::write_command(Pic8259& c, uint8_t v) {
  if (v & 0x10) {
    // ICW1 ("Initialization Command Words"): IMR cleared, IR7 lowest
    // priority, special mask off, status read = IRR, edge sense reset (an
    // edge input must go low then high again). ICW4 functions zeroed if IC4=0.
    c.init = Pic8259::Init::Icw2;
    c.need_icw4 = v & 0x01;
    c.single = v & 0x02;
    c.level_triggered = v & 0x08;  // bit 2 (ADI) matters only in MCS-80 mode
    c.imr = 0;
    c.isr = 0;
    c.irr = 0;
    resample_level_inputs(c);
    c.lowest_priority = 7;
    c.special_mask = c.read_isr = c.poll = c.rotate_on_aeoi = false;
    if (!c.need_icw4) c.x86_mode = c.auto_eoi = c.buffered = c.sfnm = false;
  } else if (v & 0x08) {
    // OCW3: ESMM/SMM, P, RR/RIS.
    if (v & 0x40) c.special_mask = v & 0x20;
    if (v & 0x04) c.poll = true;
    if (v & 0x02) c.read_isr = v & 0x01;
  } else {
    // OCW2: R, SL, EOI select the operation; L2-L0 the level.
    const unsigned level = v & 7;
    switch (v >> 5) {
      case 0: c.rotate_on_aeoi = false; break;  // rotate in AEOI mode (clear)
      case 4: c.rotate_on_aeoi = true; break;   // rotate in AEOI mode (set)
      case 1:                                   // non-specific EOI
      case 5: {                                 // rotate on non-specific EOI
        const int l = c.highest_in_service();
        if (l >= 0) {
          c.isr &= uint8_t(~bit(unsigned(l)));
          if (v & 0x80) c.lowest_priority = uint8_t(l);
        }
        break;
      }
      case 3: c.isr &= uint8_t(~bit(level)); break;  // specific EOI
      case 7:                                         // rotate on specific EOI
        c.isr &= uint8_t(~bit(level));
        c.lowest_priority = uint8_t(level);
        break;
      case 6: c.lowest_priority = uint8_t(level); break;  // set priority
      case 2: break;                                      // no operation
    }
  }
  update_outputs();
}

void Pic::write_data(Pic8259& c, uint8_t v) {
  using Init = Pic8259::Init;
  switch (c.init) {
    case Init::Ready: c.imr = v; break;  // OCW1
    case Init::Icw2:
      c.vector_base = v & 0xF8;  // T7-T3 in 8086 mode
      c.init = !c.single ? Init::Icw3 : c.need_icw4 ? Init::Icw4 : Init::Ready;
      break;
    case Init::Icw3:
      c.icw3 = v;
      c.init = c.need_icw4 ? Init::Icw4 : Init::Ready;
      break;
    case Init::Icw4:
      c.x86_mode = v & 0x01;
      c.auto_eoi = v & 0x02;
      c.buffered = v & 0x08;  // M/S (bit 2) matters only when buffered
      c.sfnm = v & 0x10;
      c.init = Init::Ready;
      break;
  }
  update_outputs();
}

// ------------------------------------------------------------ the ports ----

uint32_t Pic::read(uint32_t addr, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t port = addr + i;
    uint8_t b = 0xFF;
    if (port == kElcrBase || port == kElcrBase + 1) {
      b = port == kElcrBase ? master_.elcr : slave_.elcr;
    } else if ((port & ~0x81u) == kMasterBase) {
      Pic8259& c = chip_at(port);
      if (c.poll) b = read_poll(c);
      else b = (port & 1) ? c.imr : c.read_isr ? c.isr : c.irr;
    }
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

uint32_t Pic::peek(uint32_t addr, unsigned size) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t port = addr + i;
    uint8_t b = 0xFF;
    if (port == kElcrBase || port == kElcrBase + 1) {
      b = port == kElcrBase ? master_.elcr : slave_.elcr;
    } else if ((port & ~0x81u) == kMasterBase) {
      const Pic8259& c = (port & 0x80) ? slave_ : master_;
      if (c.poll) {
        const int level = c.pending_level();
        b = level < 0 ? 0 : uint8_t(0x80 | level);
      } else {
        b = (port & 1) ? c.imr : c.read_isr ? c.isr : c.irr;
      }
    }
    v |= uint32_t(b) << (8 * i);
  }
  return v;
}

void Pic::write(uint32_t addr, unsigned size, uint32_t value) {
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t port = addr + i;
    const uint8_t b = uint8_t(value >> (8 * i));
    if (port == kElcrBase || port == kElcrBase + 1) {
      Pic8259& c = port == kElcrBase ? master_ : slave_;
      c.elcr = b & (port == kElcrBase ? kElcrMasterMask : kElcrSlaveMask);
      resample_level_inputs(c);
      update_outputs();
    } else if ((port & ~0x81u) == kMasterBase) {
      if (port & 1) write_data(chip_at(port), b);
      else write_command(chip_at(port), b);
    }
  }
}

// ------------------------------------------------------------ snapshots ----

namespace {

void save_chip(StateWriter& out, const Pic8259& c) {
  for (uint8_t v : {c.irr, c.isr, c.imr, c.lines, c.vector_base, c.icw3, c.lowest_priority, c.elcr,
                    uint8_t(c.init)})
    out.u8(v);
  for (bool f : {c.need_icw4, c.single, c.level_triggered, c.auto_eoi, c.sfnm, c.buffered, c.x86_mode,
                 c.rotate_on_aeoi, c.special_mask, c.read_isr, c.poll})
    out.boolean(f);
}

bool read_flag(StateReader& in) {
  const uint8_t v = in.u8();
  in.expect(v <= 1, "pic: flag is neither 0 nor 1");
  return v != 0;
}

Pic8259 load_chip(StateReader& in, uint8_t elcr_mask) {
  Pic8259 c;
  c.irr = in.u8();
  c.isr = in.u8();
  c.imr = in.u8();
  c.lines = in.u8();
  c.vector_base = in.u8();
  c.icw3 = in.u8();
  c.lowest_priority = in.u8();
  c.elcr = in.u8();
  const uint8_t init = in.u8();
  for (bool* f : {&c.need_icw4, &c.single, &c.level_triggered, &c.auto_eoi, &c.sfnm, &c.buffered,
                  &c.x86_mode, &c.rotate_on_aeoi, &c.special_mask, &c.read_isr, &c.poll})
    *f = read_flag(in);
  in.expect((c.vector_base & 7) == 0, "pic: vector base not a multiple of 8");
  in.expect(c.lowest_priority <= 7, "pic: priority level out of range");
  in.expect((c.elcr & ~elcr_mask) == 0, "pic: reserved ELCR bit set");
  in.expect(init <= uint8_t(Pic8259::Init::Icw4), "pic: bad initialisation step");
  c.init = Pic8259::Init(init);
  // A level-triggered request is its pin, nothing else.
  in.expect((c.irr & c.level_mask()) == (c.lines & c.level_mask()), "pic: level request without its pin");
  return c;
}

}  // namespace

void Pic::save(StateWriter& out) const {
  save_chip(out, master_);
  save_chip(out, slave_);
}

void Pic::load(StateReader& in) {
  const Pic8259 m = load_chip(in, kElcrMasterMask);
  const Pic8259 s = load_chip(in, kElcrSlaveMask);
  // The master's IR2 pin is the slave's INT output.
  in.expect(((m.lines & 0x04) != 0) == (s.pending_level() >= 0), "pic: cascade pin disagrees with the slave");
  if (!in.ok()) return;
  master_ = m;
  slave_ = s;
  // Re-drive INTR so the CPU's pin matches the restored controller.
  intr_out_ = master_.pending_level() >= 0;
  if (intr_) intr_(intr_out_);
}

}  // namespace vs::devices

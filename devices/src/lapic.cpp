// The local APIC of one processor (Intel SDM Vol. 3 Chapter 10). Section
// references are to that chapter: §10.4 (registers, enable), §10.5 (LVT,
// ESR, timer), §10.6 (ICR and IPIs), §10.8 (acceptance, priorities, EOI).
// The InterruptRouter that joins it with the 8259 pair is at the end; the
// timer is in lapic_timer.cpp.
#include "virtscope/devices/apic.h"

namespace vs::devices {

namespace {
// ESR bits (SDM Figure 10-9) that virtscope can produce.
constexpr uint32_t kEsrSendIllegalVector = 1u << 5;
constexpr uint32_t kEsrReceiveIllegalVector = 1u << 6;
constexpr uint32_t kEsrIllegalRegister = 1u << 7;

// Writable bits of each register (SDM Figures 10-7, 10-8, 10-12 to 10-23).
constexpr uint32_t kSvrWritable = 0x3FF;       // vector, enable, focus check (no EOI suppression)
constexpr uint32_t kIcrLowWritable = 0xCCFFF;  // vector, mode, dest mode, level, trigger, shorthand
constexpr std::array<uint32_t, LocalApic::kLvtCount> kLvtWritable = {
    0x000300FF,  // timer: vector, mask, periodic (no TSC-deadline mode)
    0x000107FF,  // thermal: vector, delivery mode, mask
    0x000107FF,  // performance counters
    0x0001A7FF,  // LINT0: + polarity, trigger mode
    0x0001A7FF,  // LINT1
    0x000100FF,  // error: vector, mask
};
constexpr uint32_t kLvtPeriodic = 1u << 17;
constexpr uint8_t kModeFixed = 0, kModeLowest = 1, kModeExtInt = 7;
constexpr uint32_t kVirtualWireLint0 = uint32_t(kModeExtInt) << 8;  // unmasked, ExtINT
}  // namespace

LocalApic::LocalApic(Scheduler& scheduler, std::function<void()> on_change, uint8_t apic_id)
    : Device("lapic"), scheduler_(scheduler), on_change_(std::move(on_change)), reset_id_(apic_id) {
  timer_ = scheduler_.add("lapic-timer", [this] { on_timer(); });
  power_on();
}

// ------------------------------------------------------------ bit vectors ----

void LocalApic::set(Bits& b, uint8_t v, bool on) {
  if (on)
    b[v >> 5] |= 1u << (v & 31);
  else
    b[v >> 5] &= ~(1u << (v & 31));
}

int LocalApic::highest(const Bits& b) {
  for (int i = 7; i >= 0; --i)
    if (b[i]) return i * 32 + 31 - __builtin_clz(b[i]);
  return -1;
}

void LocalApic::changed() const {
  if (on_change_) on_change_();
}

// ------------------------------------------------------------ state ----

// Power-up and RESET values (SDM §10.4.7.1): everything zero except DFR (all
// ones), SVR (0xFF, software-disabled) and the LVTs (masked); the ID is the
// board's.
void LocalApic::power_on() {
  id_ = uint32_t(reset_id_) << 24;
  tpr_ = 0;
  ldr_ = 0;
  dfr_ = 0xFFFFFFFF;
  svr_ = 0xFF;
  isr_ = {};
  tmr_ = {};
  irr_ = {};
  esr_ = esr_pending_ = 0;
  icr_low_ = icr_high_ = 0;
  lvt_.fill(kLvtMasked);
  if (bsp_virtual_wire_) lvt_[kLint0] = kVirtualWireLint0;
  initial_count_ = 0;
  divide_ = 0;
  timer_running_ = false;
  timer_anchor_ = timer_next_ = 0;
  scheduler_.cancel(timer_);
}

void LocalApic::reset() {
  power_on();
  changed();
}

void LocalApic::save(StateWriter& out) const {
  out.u32(id_);
  out.u8(tpr_);
  out.u32(ldr_);
  out.u32(dfr_);
  out.u32(svr_);
  for (const Bits* bits : {&isr_, &tmr_, &irr_})
    for (uint32_t w : *bits) out.u32(w);
  out.u32(esr_);
  out.u32(esr_pending_);
  out.u32(icr_low_);
  out.u32(icr_high_);
  for (uint32_t l : lvt_) out.u32(l);
  out.u32(initial_count_);
  out.u32(divide_);
  out.boolean(timer_running_);
  out.u64(timer_anchor_);
  out.u64(timer_next_);
}

void LocalApic::load(StateReader& in) {
  const uint32_t id = in.u32();
  const uint8_t tpr = in.u8();
  const uint32_t ldr = in.u32(), dfr = in.u32(), svr = in.u32();
  Bits isr, tmr, irr;
  for (Bits* bits : {&isr, &tmr, &irr})
    for (uint32_t& w : *bits) w = in.u32();
  const uint32_t esr = in.u32(), esr_pending = in.u32(), icr_low = in.u32(), icr_high = in.u32();
  std::array<uint32_t, kLvtCount> lvt;
  for (uint32_t& l : lvt) l = in.u32();
  const uint32_t initial = in.u32(), divide = in.u32();
  const bool running = in.boolean();
  const uint64_t anchor = in.u64(), next = in.u64();

  in.expect((id & 0x00FFFFFF) == 0 && (ldr & 0x00FFFFFF) == 0, "lapic: ID/LDR low bits set");
  in.expect((dfr & 0x0FFFFFFF) == 0x0FFFFFFF, "lapic: DFR bits 27:0 must read as ones");
  in.expect((svr & ~kSvrWritable) == 0, "lapic: SVR has reserved bits set");
  // Vectors 0-15 are illegal and never reach IRR or ISR (§10.5.3).
  in.expect((isr[0] & 0xFFFF) == 0 && (irr[0] & 0xFFFF) == 0 && (tmr[0] & 0xFFFF) == 0,
            "lapic: vector below 16 pending or in service");
  in.expect(esr <= 0xFF && esr_pending <= 0xFF, "lapic: ESR has reserved bits set");
  in.expect((icr_low & ~kIcrLowWritable) == 0 && (icr_high & 0x00FFFFFF) == 0, "lapic: ICR has reserved bits set");
  for (unsigned i = 0; i < kLvtCount; ++i) {
    in.expect((lvt[i] & ~kLvtWritable[i]) == 0, "lapic: LVT entry has reserved bits set");
    const bool reset_quirk = bsp_virtual_wire_ && i == kLint0 && lvt[i] == kVirtualWireLint0;
    in.expect((svr & kSvrEnable) || (lvt[i] & kLvtMasked) || reset_quirk,
              "lapic: unmasked LVT while software-disabled");
  }
  in.expect((divide & ~kDivideWritable) == 0, "lapic: divide configuration has reserved bits set");
  if (running && in.ok()) {
    // The next zero crossing is a whole number of periods after the anchor
    // (exactly one in one-shot mode).
    const uint64_t period = uint64_t(initial) * divisor_of(divide);
    const uint64_t span = next - anchor;
    in.expect(initial != 0 && span != 0 && span % period == 0 &&
                  ((lvt[kTimer] & kLvtPeriodic) || span == period),
              "lapic: timer deadline inconsistent with its count");
  }
  if (!in.ok()) return;  // leave the device untouched on a bad snapshot

  id_ = id;
  tpr_ = tpr;
  ldr_ = ldr;
  dfr_ = dfr;
  svr_ = svr;
  isr_ = isr;
  tmr_ = tmr;
  irr_ = irr;
  esr_ = esr;
  esr_pending_ = esr_pending;
  icr_low_ = icr_low;
  icr_high_ = icr_high;
  lvt_ = lvt;
  initial_count_ = initial;
  divide_ = divide;
  timer_running_ = running;
  timer_anchor_ = anchor;
  timer_next_ = next;
  schedule_timer();  // agrees with the scheduler's own snapshot, whichever loads last
  changed();
}

// ------------------------------------------------------------ bus access ----

bool LocalApic::is_register(uint32_t offset) const {
  switch (offset) {
    case kId: case kVer: case kTpr: case kApr: case kPpr: case kEoi: case kRrd: case kLdr: case kDfr:
    case kSvr: case kEsr: case kIcrLow: case kIcrHigh: case kLvtTimer: case kLvtThermal: case kLvtPerf:
    case kLvtLint0: case kLvtLint1: case kLvtError: case kTimerInitial: case kTimerCurrent: case kTimerDivide:
      return true;
    default:
      return offset >= kIsr && offset < kEsr && (offset & 0xF) == 0;  // ISR, TMR, IRR banks
  }
}

uint32_t LocalApic::read_register(uint32_t offset) const {
  if (offset >= kIsr && offset < kEsr) {
    const unsigned bank = (offset - kIsr) / 0x80, word = ((offset - kIsr) % 0x80) / 0x10;
    return (bank == 0 ? isr_ : bank == 1 ? tmr_ : irr_)[word];
  }
  switch (offset) {
    case kId: return id_;
    case kVer: return kVersion;
    case kTpr: return tpr_;
    case kPpr: return ppr();
    case kLdr: return ldr_;
    case kDfr: return dfr_;
    case kSvr: return svr_;
    case kEsr: return esr_;
    case kIcrLow: return icr_low_;  // delivery status (bit 12) always idle
    case kIcrHigh: return icr_high_;
    case kLvtTimer: case kLvtThermal: case kLvtPerf: case kLvtLint0: case kLvtLint1: case kLvtError:
      return lvt_[(offset - kLvtTimer) / 0x10];
    case kTimerInitial: return initial_count_;
    case kTimerCurrent: return timer_current();
    case kTimerDivide: return divide_;
    default: return 0;  // APR, EOI (write-only), RRD: read as 0
  }
}

// Registers are 32 bits wide at 16-byte boundaries; a narrower read returns
// the addressed bytes of the register; bytes 4-15 of each slot read as 0.
uint32_t LocalApic::peek(uint32_t addr, unsigned size) const {
  const uint32_t offset = addr & 0xFFF, byte = offset & 0xF, reg = offset & ~0xFu;
  if (byte >= 4 || !is_register(reg)) return 0;
  const uint32_t v = read_register(reg) >> (8 * byte);
  return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

uint32_t LocalApic::read(uint32_t addr, unsigned size) {
  const uint32_t offset = addr & 0xFFF;
  if ((offset & 0xF) >= 4 || !is_register(offset & ~0xFu)) signal_error(kEsrIllegalRegister);
  return peek(addr, size);
}

void LocalApic::write(uint32_t addr, unsigned size, uint32_t value) {
  const uint32_t offset = addr & 0xFFF;
  if ((offset & 0xF) >= 4 || !is_register(offset & ~0xFu)) {
    signal_error(kEsrIllegalRegister);
    return;
  }
  // Only aligned 32-bit stores are architectural (§10.4.1); drop the rest.
  if (size != 4 || (offset & 3)) return;
  write_register(offset, value);
}

void LocalApic::write_register(uint32_t offset, uint32_t value) {
  switch (offset) {
    case kId: id_ = value & 0xFF000000; break;
    case kTpr: tpr_ = uint8_t(value); changed(); break;
    case kEoi: write_eoi(); break;
    case kLdr: ldr_ = value & 0xFF000000; break;
    case kDfr: dfr_ = value | 0x0FFFFFFF; break;
    case kSvr: write_svr(value); break;
    case kEsr:  // §10.5.3: a write latches the errors seen since the last write
      esr_ = esr_pending_;
      esr_pending_ = 0;
      break;
    case kIcrHigh: icr_high_ = value & 0xFF000000; break;
    case kIcrLow: write_icr_low(value); break;
    case kLvtTimer: case kLvtThermal: case kLvtPerf: case kLvtLint0: case kLvtLint1: case kLvtError:
      write_lvt(Lvt((offset - kLvtTimer) / 0x10), value);
      break;
    case kTimerInitial: write_initial_count(value); break;
    case kTimerDivide: write_divide(value); break;
    default: break;  // read-only: VER, APR, PPR, RRD, ISR/TMR/IRR, current count
  }
}

// ------------------------------------------------------------ registers ----

// §10.4.7.2: clearing the enable bit masks every LVT entry; while disabled
// the mask bits cannot be cleared.
void LocalApic::write_svr(uint32_t value) {
  svr_ = value & kSvrWritable;
  if (!software_enabled())
    for (uint32_t& l : lvt_) l |= kLvtMasked;
  changed();
}

void LocalApic::write_lvt(Lvt which, uint32_t value) {
  uint32_t v = value & kLvtWritable[which];
  if (!software_enabled()) v |= kLvtMasked;
  if (which == kTimer && timer_running_ && ((v ^ lvt_[kTimer]) & kLvtPeriodic)) {
    // Switching mode mid-count: the count continues; anchor it to the start
    // of the current period so both modes compute the same current count.
    lvt_[kTimer] = v;
    timer_anchor_ = timer_next_ - timer_period();
    return;
  }
  lvt_[which] = v;
  if (which == kLint0) changed();
}

// §10.8.5: EOI retires the highest-priority vector in service; a vector that
// was accepted level-triggered (TMR set) also sends the EOI to the I/O APICs.
void LocalApic::write_eoi() {
  const int v = highest(isr_);
  if (v < 0) return;
  set(isr_, uint8_t(v), false);
  changed();
  if (test(tmr_, uint8_t(v)) && eoi_broadcast_) eoi_broadcast_(uint8_t(v));
}

// §10.6.1: writing ICR low sends the IPI. With one processor, a fixed or
// lowest-priority IPI that addresses us lands in our IRR; everything else
// (INIT, STARTUP, NMI, SMI, other destinations) goes to the IPI hook.
void LocalApic::write_icr_low(uint32_t value) {
  icr_low_ = value & kIcrLowWritable;
  const Ipi ipi{icr_low_, uint8_t(icr_high_ >> 24)};
  const bool logical = icr_low_ & (1u << 11);
  const uint8_t mode = ipi.delivery_mode();
  bool to_self = false, to_others = false;
  switch (ipi.shorthand()) {
    case 0:  // destination field
      to_self = matches(ipi.destination, logical);
      to_others = !(!logical && ipi.destination == id());
      break;
    case 1: to_self = true; break;
    case 2: to_self = to_others = true; break;
    default: to_others = true; break;
  }
  if (mode == kModeFixed || mode == kModeLowest) {
    if (ipi.vector() < 16) {
      signal_error(kEsrSendIllegalVector);
      return;
    }
    if (to_self) accept(ipi.vector(), false);
  }
  const bool local_kind = mode == kModeFixed || mode == kModeLowest;
  if (ipi_hook_ && (to_others || !local_kind)) ipi_hook_(ipi);
}

// An LVT entry (timer, error) fires: fixed delivery only; the other modes
// would need pins this model does not drive.
void LocalApic::deliver_local(uint32_t entry) {
  if (entry & kLvtMasked) return;
  if (((entry >> 8) & 7) != kModeFixed) return;
  accept(uint8_t(entry), false);
}

void LocalApic::signal_error(uint32_t esr_bit) {
  esr_pending_ |= esr_bit;
  // An error vector below 16 would itself be an illegal vector: drop it
  // rather than loop.
  if (uint8_t(lvt_[kError]) >= 16) deliver_local(lvt_[kError]);
}

// ------------------------------------------------------------ acceptance ----

bool LocalApic::accept(uint8_t vector, bool level) {
  if (!software_enabled()) return false;  // dropped while disabled (see header)
  if (vector < 16) {
    signal_error(kEsrReceiveIllegalVector);
    return false;
  }
  // §10.8.4: IRR holds one request per vector; TMR records its trigger mode.
  set(irr_, vector, true);
  set(tmr_, vector, level);
  changed();
  return true;
}

// §10.8.3.1: PPR is TPR, unless the highest in-service class is higher.
uint8_t LocalApic::ppr() const {
  const int isrv = highest(isr_);
  const uint8_t isr_class = isrv < 0 ? 0 : uint8_t(isrv & 0xF0);
  return (tpr_ & 0xF0) >= isr_class ? tpr_ : isr_class;
}

bool LocalApic::has_interrupt() const {
  if (!software_enabled()) return false;
  const int irrv = highest(irr_);
  return irrv >= 0 && (irrv & 0xF0) > (ppr() & 0xF0);
}

// §10.8.3 and §10.9: INTA takes the highest IRR vector into ISR; if the
// request was masked meanwhile (TPR raised), the spurious vector answers.
uint8_t LocalApic::acknowledge() {
  if (!has_interrupt()) return spurious_vector();
  const uint8_t v = uint8_t(highest(irr_));
  set(irr_, v, false);
  set(isr_, v, true);
  changed();
  return v;
}

bool LocalApic::lint0_extint_enabled() const {
  const uint32_t l = lvt_[kLint0];
  return !software_enabled() || (!(l & kLvtMasked) && ((l >> 8) & 7) == kModeExtInt);
}

// §10.6.2: physical mode compares the APIC ID (0xFF broadcasts); logical
// mode compares LDR with the destination as a flat bitmap or, in the cluster
// model, as cluster (high nibble) and member bitmap (low nibble). DFR model
// values other than 1111 (flat) are reserved; they are treated as cluster.
bool LocalApic::matches(uint8_t destination, bool logical) const {
  if (destination == 0xFF) return true;
  if (!logical) return destination == id();
  const uint8_t ldr = uint8_t(ldr_ >> 24);
  if ((dfr_ >> 28) == 0xF) return (ldr & destination) != 0;
  return (ldr >> 4) == (destination >> 4) && (ldr & destination & 0x0F) != 0;
}

// ------------------------------------------------------------ router ----

InterruptRouter::InterruptRouter(LocalApic& lapic, cpu::InterruptController& pic, std::function<void(bool)> cpu_intr)
    : lapic_(lapic), pic_(pic), cpu_intr_(std::move(cpu_intr)) {}

void InterruptRouter::pic_intr(bool level) {
  pic_level_ = level;
  update();
}

void InterruptRouter::update() {
  const bool level = lapic_.has_interrupt() || (pic_level_ && lapic_.lint0_extint_enabled());
  if (level == out_) return;
  out_ = level;
  if (cpu_intr_) cpu_intr_(level);
}

uint8_t InterruptRouter::acknowledge() {
  uint8_t vector;
  if (lapic_.has_interrupt())
    vector = lapic_.acknowledge();
  else if (pic_level_ && lapic_.lint0_extint_enabled())
    vector = pic_.acknowledge();  // ExtINT: the INTA cycle goes to the 8259
  else if (lapic_.software_enabled())
    vector = lapic_.acknowledge();  // the request vanished: APIC spurious vector
  else
    vector = pic_.acknowledge();  // virtual wire: the 8259's spurious IRQ7
  update();
  return vector;
}

}  // namespace vs::devices

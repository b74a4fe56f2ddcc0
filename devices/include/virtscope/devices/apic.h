// The APIC interrupt architecture of one P6/Pentium 4-class processor (Intel
// SDM Vol. 3 Chapter 10 "Advanced Programmable Interrupt Controller"; Intel
// 82093AA I/O APIC datasheet, order 290566):
//  - LocalApic: the processor's local APIC, one 4 KiB MMIO page at
//    0xFEE00000 (SDM Table 10-1): ID, version, TPR/PPR, EOI, LDR/DFR, SVR,
//    ISR/TMR/IRR, ESR, ICR, the six LVT entries and the timer.
//  - IoApic: the 82093AA at 0xFEC00000 (IOREGSEL at +0x00, IOWIN at +0x10),
//    24 redirection entries, delivering to the LocalApic.
//  - InterruptRouter: the wire between the 8259 pair, the local APIC and the
//    CPU's INTR pin (LINT0 in ExtINT mode = the 8259's INTR passes through).
//
// Wiring (the Machine does this):
//   PhysicalMemory::map_mmio(LocalApic::kBase, 0x1000, lapic);
//   PhysicalMemory::map_mmio(IoApic::kBase, 0x1000, ioapic);
//   lapic.set_eoi_broadcast([&](uint8_t v) { ioapic.eoi(v); });
//   InterruptRouter router(lapic, pic, [&](bool l) { cpu.set_irq(l); });
//   Pic's intr callback -> router.pic_intr(level); LocalApic's on_change ->
//   router.update(); cpu.set_interrupt_controller(&router);
//   the board's IrqSink fans ISA IRQ n out to pic.set_irq(n) and
//   ioapic.set_irq(isa_irq_pin(n)) (mptable.h: IRQ0 is pin 2).
//
// Time: the APIC timer counts down at the bus clock divided by the divide
// configuration. virtscope's bus clock is kBusHz = 100 MHz, the same as the
// virtual instruction rate (Scheduler::kInstructionsPerSecond): one timer tick
// per instruction at divide-by-1. xv6's initial count 10,000,000 at divide 1
// therefore fires every 0.1 virtual seconds. Periodic deadlines are multiples
// of the period from the moment the count was written, so they never drift.
//
// Deliberate simplifications (each also noted where it happens):
//  - One processor. Fixed IPIs to self (shorthand "self", "all including
//    self", or a destination that matches our ID) are accepted; INIT,
//    STARTUP, NMI, SMI and IPIs to other processors go to the optional IPI
//    hook and otherwise nowhere. An INIT/STARTUP never resets this CPU. ICR
//    delivery status always reads idle (delivery is instantaneous).
//  - Register accesses must be aligned 32-bit (SDM §10.4.1); narrower reads
//    return the bytes of the register, narrower or unaligned writes are
//    dropped (the SDM calls them model-specific).
//  - IA32_APIC_BASE relocation and the global disable are not modelled: the
//    page stays at 0xFEE00000 (the CPU owns the MSR).
//  - Fixed interrupts arriving while the APIC is software-disabled (SVR bit 8
//    clear) are dropped; ones already in IRR/ISR are held (SDM §10.4.7.2).
//  - ESR records only the errors this model can make: send/receive illegal
//    vector (0-15) and illegal register address (an unimplemented offset, e.g.
//    0x2F0 CMCI). APR and RRD read 0. Fixed delivery only for LVT entries.
//  - LVT thermal and performance counter entries are stored; nothing raises
//    them. LINT1 (NMI) and LINT0 in modes other than ExtINT are stored; the
//    board drives no LINT pins except through InterruptRouter.
//  - IOAPIC: the polarity bit is stored only (IrqSink levels are logical
//    requests, not wire voltages); NMI/SMI/INIT/ExtINT redirection entries
//    deliver nothing; lowest-priority delivery goes to the one local APIC if
//    it matches the destination.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

#include "virtscope/cpu/cpu.h"
#include "virtscope/devices/device.h"
#include "virtscope/devices/scheduler.h"

namespace vs::devices {

// An interprocessor interrupt as written to the ICR (SDM §10.6.1), handed to
// the IPI hook when it is not (only) for this processor.
struct Ipi {
  uint32_t icr_low = 0;      // vector, delivery mode, dest mode, level, trigger, shorthand
  uint8_t destination = 0;   // ICR bits 63:56
  uint8_t vector() const { return uint8_t(icr_low); }
  uint8_t delivery_mode() const { return uint8_t((icr_low >> 8) & 7); }  // 0 fixed ... 5 INIT, 6 STARTUP
  uint8_t shorthand() const { return uint8_t((icr_low >> 18) & 3); }    // 0 none, 1 self, 2 all, 3 all but self
};

class LocalApic final : public Device, public cpu::InterruptController {
 public:
  static constexpr uint32_t kBase = 0xFEE00000;
  static constexpr uint32_t kVersion = 0x00050014;  // version 0x14, max LVT entry 5 (six LVTs)
  static constexpr uint64_t kBusHz = Scheduler::kInstructionsPerSecond;

  // Register offsets in the page (SDM Table 10-1).
  enum Reg : uint32_t {
    kId = 0x20, kVer = 0x30, kTpr = 0x80, kApr = 0x90, kPpr = 0xA0, kEoi = 0xB0, kRrd = 0xC0,
    kLdr = 0xD0, kDfr = 0xE0, kSvr = 0xF0, kIsr = 0x100, kTmr = 0x180, kIrr = 0x200, kEsr = 0x280,
    kIcrLow = 0x300, kIcrHigh = 0x310, kLvtTimer = 0x320, kLvtThermal = 0x330, kLvtPerf = 0x340,
    kLvtLint0 = 0x350, kLvtLint1 = 0x360, kLvtError = 0x370, kTimerInitial = 0x380,
    kTimerCurrent = 0x390, kTimerDivide = 0x3E0,
  };
  // The six LVT entries in register order.
  enum Lvt : uint8_t { kTimer = 0, kThermal, kPerf, kLint0, kLint1, kError, kLvtCount };

  // Registers the scheduler timer "lapic-timer". `on_change` is called
  // whenever has_interrupt() or lint0_extint_enabled() may have changed (the
  // router then recomputes the CPU's INTR pin); it may be empty.
  LocalApic(Scheduler& scheduler, std::function<void()> on_change, uint8_t apic_id = 0);

  // The bootstrap processor's quirk of QEMU and Bochs: after reset LINT0 is
  // ExtINT and unmasked (the SDM's reset value masks every LVT entry, and
  // real firmware programs this virtual-wire setting during POST). BIOSes
  // written for those machines (rombios32, SeaBIOS) software-enable the APIC
  // and still expect the 8259's interrupts. Takes effect at the next reset.
  void set_bsp_virtual_wire_at_reset(bool on) { bsp_virtual_wire_ = on; }

  // Called on EOI of a vector whose TMR bit was set (a level-triggered
  // interrupt): the EOI message to the I/O APICs (SDM §10.8.5).
  void set_eoi_broadcast(std::function<void(uint8_t vector)> fn) { eoi_broadcast_ = std::move(fn); }
  // Called for every IPI not delivered to this processor alone (INIT,
  // STARTUP, IPIs to other APIC IDs or broadcasts): an SMP machine starts its
  // APs here. Empty by default: such IPIs go nowhere.
  void set_ipi_hook(std::function<void(const Ipi&)> fn) { ipi_hook_ = std::move(fn); }
  // Replaces the constructor's on_change (wiring order convenience).
  void set_on_change(std::function<void()> fn) { on_change_ = std::move(fn); }

  uint32_t read(uint32_t addr, unsigned size) override;
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  // reset() and load() call on_change at the end (not the constructor).
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // ---- The CPU side (SDM §10.8.3) ----
  // An IRR vector whose priority class is above PPR's, with the APIC enabled.
  bool has_interrupt() const;
  // INTA: moves the highest IRR vector to ISR and returns it; the spurious
  // vector (SVR bits 7:0, ISR untouched) when nothing deliverable is pending.
  uint8_t acknowledge() override;
  // An interrupt message from the IOAPIC, the timer, the LVT or a self-IPI:
  // sets IRR (and TMR for level), or records "receive illegal vector" in ESR
  // for vectors 0-15 (SDM §10.5.3). False when the message was not taken
  // (illegal vector, APIC software-disabled); an IRR bit already set absorbs
  // the new request and counts as taken.
  bool accept(uint8_t vector, bool level);
  // The 8259's INTR reaches the CPU: LINT0 is unmasked in ExtINT mode, or the
  // APIC is software-disabled (virtual-wire mode as at reset, MP spec §3.6.2.2).
  bool lint0_extint_enabled() const;
  // Whether an interrupt message addressed to `destination` in physical or
  // logical (flat/cluster, DFR) mode reaches this APIC (SDM §10.6.2).
  bool matches(uint8_t destination, bool logical) const;

  // ---- For the UI and tests (no side effects) ----
  uint8_t id() const { return uint8_t(id_ >> 24); }
  bool software_enabled() const { return svr_ & kSvrEnable; }
  uint8_t tpr() const { return tpr_; }
  uint8_t ppr() const;
  uint8_t spurious_vector() const { return uint8_t(svr_); }
  bool irr(uint8_t vector) const { return test(irr_, vector); }
  bool isr(uint8_t vector) const { return test(isr_, vector); }
  bool tmr(uint8_t vector) const { return test(tmr_, vector); }
  uint32_t lvt(Lvt which) const { return lvt_[which]; }
  uint32_t timer_current() const;
  uint32_t timer_divisor() const { return divisor_of(divide_); }  // 1, 2, 4, ... 128
  // Virtual instructions between timer interrupts (0 when stopped).
  uint64_t timer_period() const { return uint64_t(initial_count_) * timer_divisor(); }

 private:
  using Bits = std::array<uint32_t, 8>;  // 256 vectors, as the eight ISR/TMR/IRR registers
  static constexpr uint32_t kSvrEnable = 1u << 8;
  static constexpr uint32_t kLvtMasked = 1u << 16;
  static constexpr uint32_t kDivideWritable = 0xB;  // divide configuration bits 3, 1:0
  static uint32_t divisor_of(uint32_t divide);
  static bool test(const Bits& b, uint8_t v) { return b[v >> 5] & (1u << (v & 31)); }
  static void set(Bits& b, uint8_t v, bool on);
  static int highest(const Bits& b);  // highest vector set, or -1

  void power_on();
  uint32_t read_register(uint32_t offset) const;
  void write_register(uint32_t offset, uint32_t value);
  bool is_register(uint32_t offset) const;
  void write_eoi();
  void write_svr(uint32_t value);
  void write_lvt(Lvt which, uint32_t value);
  void write_icr_low(uint32_t value);
  void deliver_local(uint32_t lvt_entry);  // an LVT entry fires (timer, error)
  void signal_error(uint32_t esr_bit);     // latch an ESR bit, raise LVT error
  bool periodic() const { return lvt_[kTimer] & (1u << 17); }
  void write_initial_count(uint32_t value);
  void write_divide(uint32_t value);
  void schedule_timer();
  void on_timer();
  void changed() const;

  Scheduler& scheduler_;
  std::function<void()> on_change_;
  std::function<void(uint8_t)> eoi_broadcast_;
  std::function<void(const Ipi&)> ipi_hook_;
  Scheduler::Id timer_;
  const uint8_t reset_id_;
  bool bsp_virtual_wire_ = false;

  // Registers (SDM §10.4-§10.8).
  uint32_t id_ = 0;            // APIC ID in bits 31:24
  uint8_t tpr_ = 0;            // task priority: class 7:4, sub-class 3:0
  uint32_t ldr_ = 0;           // logical destination, bits 31:24
  uint32_t dfr_ = 0xFFFFFFFF;  // destination format: bits 31:28 = 1111 flat, 0000 cluster
  uint32_t svr_ = 0xFF;        // spurious vector 7:0, APIC enable 8, focus check 9
  Bits isr_{}, tmr_{}, irr_{}; // in service, trigger mode (1 = level), requests
  uint32_t esr_ = 0;           // error status as last latched by an ESR write
  uint32_t esr_pending_ = 0;   // errors since the last ESR write
  uint32_t icr_low_ = 0, icr_high_ = 0;  // interrupt command (delivery status always 0)
  std::array<uint32_t, kLvtCount> lvt_{}; // timer, thermal, perf, LINT0, LINT1, error

  // Timer (SDM §10.5.4): counts from initial_count_ at bus clock / divisor.
  uint32_t initial_count_ = 0;
  uint32_t divide_ = 0;        // divide configuration, bits 3,1:0 (0 = divide by 2)
  bool timer_running_ = false; // counting (periodic, or one-shot not yet at 0)
  uint64_t timer_anchor_ = 0;  // virtual time the count last equalled initial_count_ (mod 2^64)
  uint64_t timer_next_ = 0;    // virtual time of the next zero crossing
};

class IoApic final : public Device, public IrqSink {
 public:
  static constexpr uint32_t kBase = 0xFEC00000;
  static constexpr unsigned kPins = 24;
  static constexpr uint32_t kVersion = 0x00170011;  // version 0x11, max redirection entry 23
  static constexpr uint32_t kRegSel = 0x00, kWindow = 0x10;  // offsets in the page

  IoApic(LocalApic& lapic, uint8_t id = 1);

  uint32_t read(uint32_t addr, unsigned size) override { return peek(addr, size); }  // no read side effects
  void write(uint32_t addr, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t addr, unsigned size) const override;
  void reset() override;
  void save(StateWriter& out) const override;
  void load(StateReader& in) override;

  // An input pin's level (0-23; others are ignored).
  void set_irq(unsigned pin, bool level) override;
  // The local APIC's EOI message for a level-triggered vector: clears
  // remote IRR of the entries with that vector, and re-delivers those whose
  // line is still asserted (82093AA §3.2.4, "Remote IRR").
  void eoi(uint8_t vector);

  // For the UI.
  uint8_t id() const { return id_; }
  uint8_t selected() const { return regsel_; }
  uint64_t redirection(unsigned pin) const { return pin < kPins ? redir_[pin] : 0; }
  bool line(unsigned pin) const { return pin < kPins && (lines_ >> pin) & 1; }
  uint32_t register_value(uint8_t index) const;

 private:
  static constexpr uint64_t kMasked = 1u << 16, kRemoteIrr = 1u << 14, kLevel = 1u << 15;
  void write_register(uint8_t index, uint32_t value);
  void deliver(unsigned pin);
  void try_level(unsigned pin);  // deliver a level-triggered pin if due

  LocalApic& lapic_;
  const uint8_t reset_id_;
  uint8_t id_ = 0;      // register 0 bits 27:24
  uint8_t regsel_ = 0;  // IOREGSEL
  std::array<uint64_t, kPins> redir_{};  // redirection table (register 0x10 + 2n, + 2n + 1)
  uint32_t lines_ = 0;  // input pin levels, bit n = pin n
};

// The CPU's INTR pin and INTA cycle between the 8259 pair and the local
// APIC: INTR = LAPIC has a deliverable interrupt, or the PIC's INTR while
// LINT0 passes ExtINT. The local APIC wins ties (the PIC waits; its request
// is still pending after the LAPIC's vector).
class InterruptRouter final : public cpu::InterruptController {
 public:
  InterruptRouter(LocalApic& lapic, cpu::InterruptController& pic, std::function<void(bool)> cpu_intr);
  // The PIC's INTR output changed (bind Pic's callback here).
  void pic_intr(bool level);
  // Recompute the CPU's INTR (bind LocalApic's on_change here).
  void update();
  uint8_t acknowledge() override;
  bool intr() const { return out_; }

 private:
  LocalApic& lapic_;
  cpu::InterruptController& pic_;
  std::function<void(bool)> cpu_intr_;
  bool pic_level_ = false;
  bool out_ = false;
};

}  // namespace vs::devices

// The 8259A pair: initialisation, masking, priority, EOI, the cascade,
// spurious interrupts, auto-EOI, level triggering, snapshots.
#include "virtscope/devices/pic.h"

#include <gtest/gtest.h>

#include <vector>

#include "virtscope/devices/scheduler.h"
#include "virtscope/trace/event.h"

namespace vs::devices {
namespace {

// A PIC with the CPU's INTR pin recorded, programmed through its ports.
struct Board {
  uint64_t now = 0;
  Scheduler scheduler{[this] { return now; }};
  trace::EventLog log;
  std::vector<bool> intr_changes;
  Pic pic{[this](bool level) { intr_changes.push_back(level); }, &log, &scheduler};

  void out(uint16_t port, uint8_t v) { pic.write(port, 1, v); }
  uint8_t in(uint16_t port) { return uint8_t(pic.read(port, 1)); }
  // The PC BIOS sequence: vectors 0x08 and 0x70, slave on IR2, 8086 mode.
  void init_pc(uint8_t icw1 = 0x11, uint8_t icw4 = 0x01) {
    out(0x20, icw1), out(0x21, 0x08), out(0x21, 0x04), out(0x21, icw4);
    out(0xA0, icw1), out(0xA1, 0x70), out(0xA1, 0x02), out(0xA1, icw4);
  }
  bool intr() const { return pic.intr(); }
};

TEST(Pic, InitAndEdgeRequest_DeliversVectorSetsIsrAndDropsIntr) {
  Board b;
  b.init_pc();
  EXPECT_FALSE(b.intr());
  b.pic.set_irq(0, true);
  EXPECT_TRUE(b.intr());
  ASSERT_FALSE(b.intr_changes.empty());
  EXPECT_TRUE(b.intr_changes.back());
  EXPECT_EQ(b.in(0x20), 0x01);  // IRR (the default read)
  EXPECT_EQ(b.pic.acknowledge(), 0x08);
  EXPECT_EQ(b.pic.chip(0).isr, 0x01);
  EXPECT_EQ(b.pic.chip(0).irr, 0x00);  // the edge latch is consumed
  EXPECT_FALSE(b.intr());
  b.out(0x20, 0x20);  // non-specific EOI
  EXPECT_EQ(b.pic.chip(0).isr, 0x00);
  EXPECT_EQ(b.pic.chip(0).vector_base, 0x08);
  EXPECT_EQ(b.pic.chip(1).vector_base, 0x70);
}

TEST(Pic, MaskedRequest_WaitsUntilUnmasked) {
  Board b;
  b.init_pc();
  b.out(0x21, 0x02);  // OCW1: mask IRQ1
  EXPECT_EQ(b.in(0x21), 0x02);
  b.pic.set_irq(1, true);
  EXPECT_FALSE(b.intr());
  EXPECT_EQ(b.pic.chip(0).irr, 0x02);
  b.out(0x21, 0x00);
  EXPECT_TRUE(b.intr());
  EXPECT_EQ(b.pic.acknowledge(), 0x09);
}

TEST(Pic, LowerLevelWaitsForEoiAndHigherLevelPreempts) {
  Board b;
  b.init_pc();
  b.pic.set_irq(3, true);
  b.pic.set_irq(1, true);
  EXPECT_EQ(b.pic.acknowledge(), 0x09);  // IRQ1 beats IRQ3
  EXPECT_FALSE(b.intr());                // IRQ3 is blocked by IRQ1 in service
  b.pic.set_irq(0, true);
  EXPECT_TRUE(b.intr());                 // IRQ0 is higher: it nests
  EXPECT_EQ(b.pic.acknowledge(), 0x08);
  EXPECT_EQ(b.pic.chip(0).isr, 0x03);
  b.out(0x20, 0x20);  // EOI clears the highest in service: IRQ0
  EXPECT_EQ(b.pic.chip(0).isr, 0x02);
  EXPECT_FALSE(b.intr());
  b.out(0x20, 0x61);  // specific EOI for IRQ1
  EXPECT_TRUE(b.intr());
  EXPECT_EQ(b.pic.acknowledge(), 0x0B);
}

TEST(Pic, SetPriority_RotatesWhoWins) {
  Board b;
  b.init_pc();
  b.out(0x20, 0xC3);  // OCW2 set priority: IR3 lowest, so IR4 highest
  b.pic.set_irq(1, true);
  b.pic.set_irq(5, true);
  EXPECT_EQ(b.pic.acknowledge(), 0x0D);  // IRQ5 before IRQ1 now
  b.out(0x20, 0xA0);                     // rotate on non-specific EOI: IR5 becomes lowest
  EXPECT_EQ(b.pic.chip(0).lowest_priority, 5);
  EXPECT_EQ(b.pic.acknowledge(), 0x09);
}

TEST(Pic, SlaveRequest_GoesThroughCascadeWithBothIsrBits) {
  Board b;
  b.init_pc();
  b.pic.set_irq(12, true);
  EXPECT_TRUE(b.intr());
  EXPECT_EQ(b.pic.acknowledge(), 0x74);
  EXPECT_EQ(b.pic.chip(0).isr, 0x04);
  EXPECT_EQ(b.pic.chip(1).isr, 0x10);
  b.pic.set_irq(12, false);
  b.pic.set_irq(12, true);  // a second edge: waits for both EOIs
  EXPECT_FALSE(b.intr());
  b.out(0xA0, 0x20);
  EXPECT_FALSE(b.intr());  // master IR2 still in service
  b.out(0x20, 0x20);
  EXPECT_TRUE(b.intr());
  EXPECT_EQ(b.pic.acknowledge(), 0x74);
}

TEST(Pic, LevelRequestWithdrawnBeforeInta_GivesSpuriousIrq7WithoutIsr) {
  Board b;
  b.init_pc(0x19);  // ICW1.LTIM: level-triggered
  b.pic.set_irq(5, true);
  EXPECT_TRUE(b.intr());
  b.pic.set_irq(5, false);  // the device lets go before the CPU's INTA
  EXPECT_FALSE(b.intr());
  EXPECT_EQ(b.pic.acknowledge(), 0x0F);  // the CPU raced: default IR7
  EXPECT_EQ(b.pic.chip(0).isr, 0x00);
}

TEST(Pic, SlaveRequestWithdrawn_GivesSpuriousIrq15WithMasterIsr2) {
  Board b;
  b.init_pc();
  b.out(0x4D1, 0x04);  // ELCR: IRQ10 level-triggered
  EXPECT_EQ(b.in(0x4D1), 0x04);
  b.pic.set_irq(10, true);
  EXPECT_TRUE(b.intr());
  b.pic.set_irq(10, false);
  EXPECT_TRUE(b.intr());  // the master latched the edge of IR2
  EXPECT_EQ(b.pic.acknowledge(), 0x77);
  EXPECT_EQ(b.pic.chip(0).isr, 0x04);  // the handler must EOI the master
  EXPECT_EQ(b.pic.chip(1).isr, 0x00);
}

TEST(Pic, ElcrReservedBits_ReadAsZero) {
  Board b;
  b.out(0x4D0, 0xFF);
  b.out(0x4D1, 0xFF);
  EXPECT_EQ(b.in(0x4D0), 0xF8);
  EXPECT_EQ(b.in(0x4D1), 0xDE);
}

TEST(Pic, EdgePulse_IsLatchedUntilAcknowledged) {
  Board b;
  b.init_pc();
  b.pic.set_irq(0, true);
  b.pic.set_irq(0, false);  // the PIT's pulse
  EXPECT_TRUE(b.intr());
  EXPECT_EQ(b.pic.acknowledge(), 0x08);
}

TEST(Pic, EdgeMode_HeldLineInterruptsOnceLevelModeAgainAfterEoi) {
  Board edge, level;
  edge.init_pc();
  level.init_pc(0x19);
  for (Board* b : {&edge, &level}) {
    b->pic.set_irq(4, true);
    EXPECT_EQ(b->pic.acknowledge(), 0x0C);
    b->out(0x20, 0x20);
  }
  EXPECT_FALSE(edge.intr());  // no new edge
  EXPECT_TRUE(level.intr());  // the line is still high
}

TEST(Pic, AutoEoi_LeavesIsrClearAndAllowsTheNextAtOnce) {
  Board b;
  b.init_pc(0x11, 0x03);  // ICW4: 8086 + AEOI
  b.pic.set_irq(3, true);
  b.pic.set_irq(4, true);
  EXPECT_EQ(b.pic.acknowledge(), 0x0B);
  EXPECT_EQ(b.pic.chip(0).isr, 0x00);
  EXPECT_TRUE(b.intr());
  EXPECT_EQ(b.pic.acknowledge(), 0x0C);
}

TEST(Pic, AutoEoiOnSlave_SecondSlaveRequestStillArrives) {
  Board b;
  b.init_pc(0x11, 0x03);
  b.pic.set_irq(8, true);
  b.pic.set_irq(9, true);
  EXPECT_EQ(b.pic.acknowledge(), 0x70);
  EXPECT_TRUE(b.intr());  // the cascade input is sampled again
  EXPECT_EQ(b.pic.acknowledge(), 0x71);
  EXPECT_FALSE(b.intr());
}

TEST(Pic, Ocw3_SelectsIsrReadAndPollAcknowledges) {
  Board b;
  b.init_pc();
  b.pic.set_irq(6, true);
  b.pic.set_irq(3, true);
  b.out(0x20, 0x0C);                     // OCW3 poll
  EXPECT_EQ(b.pic.peek(0x20, 1), 0x83u); // peek: the poll word, no side effect
  EXPECT_EQ(b.pic.chip(0).isr, 0x00);
  EXPECT_EQ(b.in(0x20), 0x83);           // poll: request at level 3
  EXPECT_EQ(b.pic.chip(0).isr, 0x08);
  b.out(0x20, 0x0B);  // read ISR
  EXPECT_EQ(b.in(0x20), 0x08);
  b.out(0x20, 0x0A);  // read IRR
  EXPECT_EQ(b.in(0x20), 0x40);
}

TEST(Pic, SpecialMaskMode_LetsLowerLevelsInWhileOneIsMasked) {
  Board b;
  b.init_pc();
  b.pic.set_irq(1, true);
  EXPECT_EQ(b.pic.acknowledge(), 0x09);
  b.pic.set_irq(5, true);
  EXPECT_FALSE(b.intr());
  b.out(0x21, 0x02);  // mask IRQ1 ...
  b.out(0x20, 0x68);  // ... and enter special mask mode
  EXPECT_TRUE(b.intr());
  EXPECT_EQ(b.pic.acknowledge(), 0x0D);
}

TEST(Pic, IrqLineEvents_OnlyOnChanges) {
  Board b;
  b.log.record(trace::KindSet::of({trace::EventKind::IrqLine}));
  b.now = 42;
  b.pic.set_irq(4, true);
  b.pic.set_irq(4, true);
  b.pic.set_irq(4, false);
  const auto events = b.log.recorded();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].arg[0], 4u);
  EXPECT_EQ(events[0].arg[1], 1u);
  EXPECT_EQ(events[0].when.icount, 42u);
  EXPECT_EQ(events[1].arg[1], 0u);
}

TEST(Pic, PeekOfRegisters_HasNoSideEffects) {
  Board b;
  b.init_pc();
  b.pic.set_irq(2, true);  // AT bus IRQ2 is IRQ9
  EXPECT_EQ(b.pic.peek(0xA0, 1), 0x02u);
  EXPECT_EQ(b.pic.peek(0x20, 2), 0x0004u);  // IRR 0x04, IMR 0x00
  EXPECT_EQ(b.pic.chip(1).irr, 0x02);
  EXPECT_EQ(b.pic.acknowledge(), 0x71);
}

// Drive identical traffic into two PICs and compare vectors and registers.
void expect_same_future(Board& a, Board& b) {
  for (unsigned irq : {0u, 3u, 9u, 14u}) {
    a.pic.set_irq(irq, true), b.pic.set_irq(irq, true);
  }
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(a.intr(), b.intr());
    if (!a.intr()) break;
    EXPECT_EQ(a.pic.acknowledge(), b.pic.acknowledge());
    a.out(0xA0, 0x20), b.out(0xA0, 0x20);
    a.out(0x20, 0x20), b.out(0x20, 0x20);
  }
  for (uint16_t port : {0x20, 0x21, 0xA0, 0xA1}) EXPECT_EQ(a.in(port), b.in(port));
}

TEST(Pic, SaveLoad_RoundTripBehavesIdentically) {
  Board a;
  a.init_pc();
  a.out(0xA1, 0x10);  // mask IRQ12
  a.pic.set_irq(5, true);
  a.pic.set_irq(12, true);
  EXPECT_EQ(a.pic.acknowledge(), 0x0D);
  StateWriter w;
  a.pic.save(w);
  Board b;
  StateReader r(w.data());
  b.pic.load(r);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(b.pic.chip(0).isr, 0x20);
  EXPECT_EQ(b.pic.chip(1).imr, 0x10);
  expect_same_future(a, b);
}

TEST(Pic, MalformedSnapshot_IsRejectedAndChangesNothing) {
  Board a;
  a.init_pc();
  StateWriter w;
  a.pic.save(w);

  Board b;
  std::vector<uint8_t> truncated(w.data().begin(), w.data().end() - 1);
  StateReader r1(truncated);
  b.pic.load(r1);
  EXPECT_FALSE(r1.ok());
  EXPECT_EQ(b.pic.chip(0).vector_base, 0);  // untouched

  std::vector<uint8_t> bad = w.data();
  bad[4] = 0x0B;  // master vector base with low bits set
  StateReader r2(bad);
  b.pic.load(r2);
  EXPECT_FALSE(r2.ok());

  bad = w.data();
  bad[8] = 9;  // initialisation step past ICW4
  StateReader r3(bad);
  b.pic.load(r3);
  EXPECT_FALSE(r3.ok());

  bad = w.data();
  bad[9] = 2;  // a flag that is not 0/1
  StateReader r4(bad);
  b.pic.load(r4);
  EXPECT_FALSE(r4.ok());
}

}  // namespace
}  // namespace vs::devices

// Local APIC, I/O APIC and the INTR router (SDM Vol. 3 Chapter 10; 82093AA).
#include <gtest/gtest.h>

#include <vector>

#include "virtscope/devices/apic.h"
#include "virtscope/devices/bus.h"

namespace vs::devices {
namespace {

constexpr uint32_t B = LocalApic::kBase;

// A virtual clock the tests move by hand, and the machine's run loop in
// miniature: fire every deadline on the way to `t`, at its exact time.
struct Clock {
  uint64_t now = 0;
  Scheduler scheduler{[this] { return now; }};
  void run_until(uint64_t t) {
    while (scheduler.next_deadline() <= t) {
      now = scheduler.next_deadline();
      scheduler.run_due();
    }
    now = t;
  }
};

struct ApicTest : ::testing::Test {
  Clock clock;
  int changes = 0;
  LocalApic lapic{clock.scheduler, [this] { ++changes; }};
  uint32_t rd(uint32_t reg) { return lapic.read(B + reg, 4); }
  void wr(uint32_t reg, uint32_t v) { lapic.write(B + reg, 4, v); }
  void enable(uint8_t spurious = 0x3F) { wr(LocalApic::kSvr, 0x100 | spurious); }
};

TEST_F(ApicTest, Reset_RegisterDefaultsPerSdm) {
  EXPECT_EQ(rd(LocalApic::kId), 0u);
  EXPECT_EQ(rd(LocalApic::kVer), 0x00050014u);
  EXPECT_EQ(rd(LocalApic::kSvr), 0xFFu);
  EXPECT_EQ(rd(LocalApic::kDfr), 0xFFFFFFFFu);
  EXPECT_EQ(rd(LocalApic::kTpr), 0u);
  for (uint32_t lvt = LocalApic::kLvtTimer; lvt <= LocalApic::kLvtError; lvt += 0x10) EXPECT_EQ(rd(lvt), 0x10000u);
  EXPECT_EQ(rd(LocalApic::kTimerCurrent), 0u);
  EXPECT_FALSE(lapic.software_enabled());
  EXPECT_TRUE(lapic.lint0_extint_enabled());  // virtual wire while disabled
  EXPECT_FALSE(lapic.has_interrupt());
}

TEST_F(ApicTest, NarrowRead_ReturnsRegisterBytes_NarrowWriteDropped) {
  EXPECT_EQ(lapic.read(B + LocalApic::kVer, 1), 0x14u);
  EXPECT_EQ(lapic.read(B + LocalApic::kVer + 2, 1), 0x05u);
  lapic.write(B + LocalApic::kTpr, 1, 0x20);
  EXPECT_EQ(lapic.tpr(), 0);
}

TEST_F(ApicTest, SoftwareDisabled_LvtMasksStickAndFixedInterruptsDropped) {
  wr(LocalApic::kLvtTimer, 0x20);
  EXPECT_EQ(rd(LocalApic::kLvtTimer), 0x10020u);
  EXPECT_FALSE(lapic.accept(0x40, false));
  EXPECT_FALSE(lapic.irr(0x40));
  enable();
  wr(LocalApic::kLvtTimer, 0x20);
  EXPECT_EQ(rd(LocalApic::kLvtTimer), 0x20u);
  wr(LocalApic::kSvr, 0x3F);  // disable again: every LVT masked
  EXPECT_EQ(rd(LocalApic::kLvtTimer), 0x10020u);
}

// xv6 lapicinit: divide by 1, periodic, initial count 10,000,000.
TEST_F(ApicTest, PeriodicTimer_FiresOnExactGridWithoutDrift) {
  enable();
  wr(LocalApic::kTimerDivide, 0xB);
  wr(LocalApic::kLvtTimer, 0x20000 | 32);
  clock.now = 5;
  wr(LocalApic::kTimerInitial, 10'000'000);
  EXPECT_EQ(clock.scheduler.deadline(0), 10'000'005u);
  clock.run_until(10'000'004);
  EXPECT_FALSE(lapic.irr(32));
  clock.run_until(10'000'005);
  EXPECT_TRUE(lapic.irr(32));
  EXPECT_EQ(lapic.acknowledge(), 32);
  wr(LocalApic::kEoi, 0);
  // The machine runs late: the next deadline stays on the grid.
  clock.now = 20'000'005 + 777;
  clock.scheduler.run_due();
  EXPECT_TRUE(lapic.irr(32));
  EXPECT_EQ(clock.scheduler.deadline(0), 30'000'005u);
  // Even several periods late, one interrupt and back on the grid.
  clock.now = 65'000'000;
  clock.scheduler.run_due();
  EXPECT_EQ(clock.scheduler.deadline(0), 70'000'005u);
}

TEST_F(ApicTest, TimerCurrentCount_FollowsVirtualTimeAndDivider) {
  enable();
  wr(LocalApic::kTimerDivide, 0x0);  // divide by 2
  wr(LocalApic::kLvtTimer, 0x20000 | 0x30);
  wr(LocalApic::kTimerInitial, 1000);
  EXPECT_EQ(lapic.timer_period(), 2000u);
  clock.now = 500;
  EXPECT_EQ(lapic.peek(B + LocalApic::kTimerCurrent, 4), 750u);
  EXPECT_EQ(rd(LocalApic::kTimerCurrent), 750u);
  clock.now = 2000 + 20;  // wrapped into the second period
  EXPECT_EQ(lapic.peek(B + LocalApic::kTimerCurrent, 4), 990u);
  // A new divisor keeps the count and runs on at the new rate.
  wr(LocalApic::kTimerDivide, 0xB);
  clock.now += 90;
  EXPECT_EQ(rd(LocalApic::kTimerCurrent), 900u);
  EXPECT_EQ(clock.scheduler.deadline(0), clock.now + 900);
}

TEST_F(ApicTest, OneShotTimer_FiresOnceAndRestsAtZero) {
  enable();
  wr(LocalApic::kTimerDivide, 0xB);
  wr(LocalApic::kLvtTimer, 0x41);
  wr(LocalApic::kTimerInitial, 100);
  clock.run_until(99);
  EXPECT_FALSE(lapic.irr(0x41));
  clock.run_until(100);
  EXPECT_TRUE(lapic.irr(0x41));
  EXPECT_FALSE(clock.scheduler.pending(0));
  clock.run_until(1000);
  EXPECT_EQ(rd(LocalApic::kTimerCurrent), 0u);
}

TEST_F(ApicTest, MaskedTimer_CountsButRaisesNothing) {
  enable();
  wr(LocalApic::kTimerDivide, 0xB);
  wr(LocalApic::kLvtTimer, 0x10000 | 0x20000 | 0x20);
  wr(LocalApic::kTimerInitial, 50);
  clock.run_until(120);
  EXPECT_FALSE(lapic.irr(0x20));
  EXPECT_EQ(rd(LocalApic::kTimerCurrent), 30u);
  wr(LocalApic::kTimerInitial, 0);  // writing 0 stops it
  EXPECT_FALSE(clock.scheduler.pending(0));
}

TEST_F(ApicTest, TprAbovePendingClass_BlocksDeliveryAndPprFollows) {
  enable();
  lapic.accept(0x45, false);
  wr(LocalApic::kTpr, 0x50);
  EXPECT_FALSE(lapic.has_interrupt());
  EXPECT_EQ(rd(LocalApic::kPpr), 0x50u);
  EXPECT_EQ(lapic.acknowledge(), 0x3F);  // masked at INTA: spurious, IRR kept
  EXPECT_TRUE(lapic.irr(0x45));
  wr(LocalApic::kTpr, 0x4F);  // same class still blocks
  EXPECT_FALSE(lapic.has_interrupt());
  wr(LocalApic::kTpr, 0x3F);
  EXPECT_TRUE(lapic.has_interrupt());
  EXPECT_EQ(lapic.acknowledge(), 0x45);
  EXPECT_EQ(rd(LocalApic::kPpr), 0x40u);  // ISR class above TPR class
}

TEST_F(ApicTest, InServiceAndEoi_HighestFirstAndNesting) {
  enable();
  lapic.accept(0x31, false);
  lapic.accept(0x52, false);
  EXPECT_EQ(lapic.acknowledge(), 0x52);
  EXPECT_FALSE(lapic.has_interrupt());  // class 3 below in-service class 5
  lapic.accept(0x61, false);
  EXPECT_EQ(lapic.acknowledge(), 0x61);  // nests above 0x52
  EXPECT_TRUE(lapic.isr(0x52) && lapic.isr(0x61));
  EXPECT_EQ(rd(LocalApic::kIsr + 0x30), (1u << (0x61 - 0x60)));  // ISR bank 3 holds 0x60-0x7F
  wr(LocalApic::kEoi, 0);
  EXPECT_FALSE(lapic.isr(0x61));
  EXPECT_TRUE(lapic.isr(0x52));
  wr(LocalApic::kEoi, 0);
  EXPECT_FALSE(lapic.isr(0x52));
  EXPECT_EQ(lapic.acknowledge(), 0x31);
}

TEST_F(ApicTest, AcknowledgeWithNothingPending_ReturnsSpuriousVector) {
  enable(0xFF);
  EXPECT_EQ(lapic.acknowledge(), 0xFF);
  for (uint32_t bank = 0; bank < 8; ++bank) EXPECT_EQ(rd(LocalApic::kIsr + 0x10 * bank), 0u);
}

TEST_F(ApicTest, Esr_ErrorsVisibleOnlyAfterWrite) {
  enable();
  wr(LocalApic::kIcrLow, 0x00040005);  // self-IPI, vector 5: send illegal vector
  lapic.accept(3, false);              // receive illegal vector
  EXPECT_EQ(rd(LocalApic::kEsr), 0u);
  wr(LocalApic::kEsr, 0);
  EXPECT_EQ(rd(LocalApic::kEsr), 0x60u);
  wr(LocalApic::kEsr, 0);
  EXPECT_EQ(rd(LocalApic::kEsr), 0u);
  rd(0x2F0);  // CMCI does not exist with max LVT 5: illegal register address
  wr(LocalApic::kEsr, 0);
  EXPECT_EQ(rd(LocalApic::kEsr), 0x80u);
}

TEST_F(ApicTest, ErrorLvt_RaisesItsVectorOnError) {
  enable();
  wr(LocalApic::kLvtError, 0x33);
  lapic.accept(7, false);
  EXPECT_TRUE(lapic.irr(0x33));
}

// xv6 lapicinit/lapicstartap with one CPU: INIT and STARTUP go nowhere, the
// ICR never reads busy, the CPU is not reset.
TEST_F(ApicTest, Icr_InitAndStartupWithOneCpu_DroppedAndIdle) {
  enable();
  std::vector<Ipi> sent;
  lapic.set_ipi_hook([&](const Ipi& ipi) { sent.push_back(ipi); });
  wr(LocalApic::kTpr, 0x10);
  wr(LocalApic::kIcrHigh, 0);
  wr(LocalApic::kIcrLow, 0x00088500);  // BCAST | INIT | LEVEL (de-assert)
  EXPECT_EQ(rd(LocalApic::kIcrLow) & 0x1000, 0u);
  wr(LocalApic::kIcrHigh, 1u << 24);
  wr(LocalApic::kIcrLow, 0x0000C500);  // INIT | LEVEL | ASSERT to APIC 1
  wr(LocalApic::kIcrLow, 0x00000600 | 0x07);  // STARTUP at 0x7000
  EXPECT_EQ(rd(LocalApic::kIcrLow) & 0x1000, 0u);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].delivery_mode(), 6);
  EXPECT_EQ(sent[2].destination, 1);
  EXPECT_EQ(rd(LocalApic::kTpr), 0x10u);  // not reset by the INIT
  EXPECT_TRUE(lapic.software_enabled());
  EXPECT_FALSE(lapic.has_interrupt());
}

TEST_F(ApicTest, Icr_FixedSelfIpiDelivered_OtherDestinationNot) {
  enable();
  wr(LocalApic::kIcrLow, 0x00040040);  // shorthand self, vector 0x40
  EXPECT_TRUE(lapic.irr(0x40));
  wr(LocalApic::kIcrHigh, 3u << 24);
  wr(LocalApic::kIcrLow, 0x00000041);  // physical APIC 3: not us
  EXPECT_FALSE(lapic.irr(0x41));
  wr(LocalApic::kIcrHigh, 0);
  wr(LocalApic::kIcrLow, 0x00000042);  // physical APIC 0: us
  EXPECT_TRUE(lapic.irr(0x42));
}

TEST_F(ApicTest, LevelTriggeredEoi_BroadcastsVectorToIoApics) {
  enable();
  std::vector<uint8_t> eois;
  lapic.set_eoi_broadcast([&](uint8_t v) { eois.push_back(v); });
  lapic.accept(0x30, true);
  lapic.accept(0x50, false);
  EXPECT_TRUE(lapic.tmr(0x30));
  EXPECT_EQ(lapic.acknowledge(), 0x50);
  wr(LocalApic::kEoi, 0);
  EXPECT_TRUE(eois.empty());  // edge: no broadcast
  EXPECT_EQ(lapic.acknowledge(), 0x30);
  wr(LocalApic::kEoi, 0);
  ASSERT_EQ(eois.size(), 1u);
  EXPECT_EQ(eois[0], 0x30);
}

TEST_F(ApicTest, Lint0_ExtIntPassesOnlyWhenUnmaskedExtInt) {
  enable();
  EXPECT_FALSE(lapic.lint0_extint_enabled());  // masked at reset
  wr(LocalApic::kLvtLint0, 0x700);
  EXPECT_TRUE(lapic.lint0_extint_enabled());
  wr(LocalApic::kLvtLint0, 0x10700);
  EXPECT_FALSE(lapic.lint0_extint_enabled());
}

TEST_F(ApicTest, LogicalDestination_FlatAndCluster) {
  wr(LocalApic::kLdr, 0x02000000);
  EXPECT_TRUE(lapic.matches(0x03, true));
  EXPECT_FALSE(lapic.matches(0x04, true));
  wr(LocalApic::kDfr, 0x0FFFFFFF);  // cluster model
  wr(LocalApic::kLdr, 0x21000000);
  EXPECT_TRUE(lapic.matches(0x23, true));
  EXPECT_FALSE(lapic.matches(0x13, true));
  EXPECT_TRUE(lapic.matches(0xFF, true));
}

TEST_F(ApicTest, Snapshot_RoundTripsRegistersAndTimer) {
  enable();
  wr(LocalApic::kTpr, 0x20);
  wr(LocalApic::kLdr, 0x01000000);
  wr(LocalApic::kTimerDivide, 0x1);  // divide by 4
  wr(LocalApic::kLvtTimer, 0x20000 | 0x22);
  clock.now = 100;
  wr(LocalApic::kTimerInitial, 5000);
  lapic.accept(0x66, true);
  lapic.accept(0x44, false);
  lapic.acknowledge();
  clock.now = 20'123;
  StateWriter w;
  lapic.save(w);

  Clock clock2;
  clock2.now = clock.now;
  LocalApic copy(clock2.scheduler, {});
  StateReader r(w.data());
  copy.load(r);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  for (uint32_t off = 0; off < 0x400; off += 0x10) EXPECT_EQ(copy.peek(B + off, 4), lapic.peek(B + off, 4)) << off;
  EXPECT_EQ(clock2.scheduler.deadline(0), clock.scheduler.deadline(0));
}

TEST_F(ApicTest, MalformedSnapshot_RejectedAndDeviceUnchanged) {
  enable();
  StateWriter w;
  lapic.save(w);
  std::vector<uint8_t> bad = w.data();
  bad[4 + 1 + 4 + 4 + 1] = 0x04;  // SVR bit 10: reserved
  Clock clock2;
  LocalApic copy(clock2.scheduler, {});
  copy.write(B + LocalApic::kTpr, 4, 0x77);
  StateReader r(bad);
  copy.load(r);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(copy.tpr(), 0x77);
  std::vector<uint8_t> cut(w.data().begin(), w.data().begin() + 40);
  StateReader r2(cut);
  copy.load(r2);
  EXPECT_FALSE(r2.ok());
}

// ------------------------------------------------------------ IOAPIC ----

struct IoApicTest : ApicTest {
  IoApic ioapic{lapic, 1};
  uint32_t reg(uint8_t index) {
    ioapic.write(IoApic::kBase, 4, index);
    return ioapic.read(IoApic::kBase + 0x10, 4);
  }
  void set_reg(uint8_t index, uint32_t v) {
    ioapic.write(IoApic::kBase, 4, index);
    ioapic.write(IoApic::kBase + 0x10, 4, v);
  }
  void SetUp() override {
    enable();
    lapic.set_eoi_broadcast([this](uint8_t v) { ioapic.eoi(v); });
  }
};

TEST_F(IoApicTest, IdVersionAndResetEntries) {
  EXPECT_EQ(reg(0), 1u << 24);
  EXPECT_EQ(reg(1), 0x00170011u);
  EXPECT_EQ((reg(1) >> 16) & 0xFF, 23u);  // xv6: maxintr
  EXPECT_EQ(reg(0x10 + 2 * 23), 0x10000u);
  set_reg(0, 0x0F000000);
  EXPECT_EQ(ioapic.id(), 0x0F);
  // peek of IOWIN shows the selected register and changes nothing.
  ioapic.write(IoApic::kBase, 4, 1);
  EXPECT_EQ(ioapic.peek(IoApic::kBase + 0x10, 4), 0x00170011u);
  EXPECT_EQ(ioapic.selected(), 1);
}

// xv6 ioapicinit + ioapicenable(IRQ_IDE, 0).
TEST_F(IoApicTest, RedirectionProgramming_ReadsBack) {
  set_reg(0x10 + 2 * 14, 0x10000 | (32 + 14));
  set_reg(0x10 + 2 * 14 + 1, 0);
  EXPECT_EQ(reg(0x10 + 2 * 14), 0x1002Eu);
  set_reg(0x10 + 2 * 14, 32 + 14);
  set_reg(0x11 + 2 * 14, 0xFF00FFFF);  // only the destination byte sticks
  EXPECT_EQ(reg(0x11 + 2 * 14), 0xFF000000u);
  EXPECT_EQ(ioapic.redirection(14), 0xFF0000000000002Eull);
  set_reg(0x10 + 2 * 14, 0xFFFFFFFF);  // read-only bits stay clear
  EXPECT_EQ(reg(0x10 + 2 * 14) & 0x5000, 0u);
}

TEST_F(IoApicTest, EdgeEntry_MaskedDropsEdgeUnmaskedDelivers) {
  set_reg(0x10 + 2 * 1, 0x10000 | 33);
  ioapic.set_irq(1, true);
  EXPECT_FALSE(lapic.irr(33));
  set_reg(0x10 + 2 * 1, 33);  // unmasking does not replay the lost edge
  EXPECT_FALSE(lapic.irr(33));
  ioapic.set_irq(1, false);
  ioapic.set_irq(1, true);
  EXPECT_TRUE(lapic.irr(33));
  EXPECT_EQ(lapic.acknowledge(), 33);
  ioapic.set_irq(1, true);  // no new edge
  EXPECT_FALSE(lapic.irr(33));
}

TEST_F(IoApicTest, EdgeEntry_OtherDestinationNotDelivered) {
  set_reg(0x10 + 2 * 4, 36);
  set_reg(0x11 + 2 * 4, 5u << 24);
  ioapic.set_irq(4, true);
  EXPECT_FALSE(lapic.irr(36));
}

TEST_F(IoApicTest, LevelEntry_RemoteIrrHoldsUntilEoiThenRedelivers) {
  set_reg(0x10 + 2 * 10, 0x8000 | 0x50);  // level-triggered, vector 0x50
  ioapic.set_irq(10, true);
  EXPECT_TRUE(lapic.irr(0x50));
  EXPECT_TRUE(reg(0x10 + 2 * 10) & 0x4000);  // remote IRR
  EXPECT_EQ(lapic.acknowledge(), 0x50);
  ioapic.set_irq(10, true);  // still asserted: remote IRR blocks a repeat
  EXPECT_FALSE(lapic.irr(0x50));
  lapic.write(B + LocalApic::kEoi, 4, 0);  // line still high: again
  EXPECT_TRUE(lapic.irr(0x50));
  EXPECT_EQ(lapic.acknowledge(), 0x50);
  ioapic.set_irq(10, false);
  lapic.write(B + LocalApic::kEoi, 4, 0);
  EXPECT_FALSE(lapic.irr(0x50));
  EXPECT_FALSE(reg(0x10 + 2 * 10) & 0x4000);
}

TEST_F(IoApicTest, LevelEntry_UnmaskWithLineHighDelivers) {
  set_reg(0x10 + 2 * 9, 0x18000 | 0x49);
  ioapic.set_irq(9, true);
  EXPECT_FALSE(lapic.irr(0x49));
  set_reg(0x10 + 2 * 9, 0x8000 | 0x49);
  EXPECT_TRUE(lapic.irr(0x49));
}

TEST_F(IoApicTest, Snapshot_RoundTripAndRejectsRemoteIrrOnEdge) {
  set_reg(0x10 + 2 * 10, 0x8000 | 0x50);
  set_reg(0x10 + 2 * 3, 0x23);
  ioapic.set_irq(10, true);
  ioapic.write(IoApic::kBase, 4, 0x17);
  StateWriter w;
  ioapic.save(w);
  IoApic copy(lapic, 2);
  StateReader r(w.data());
  copy.load(r);
  ASSERT_TRUE(r.ok()) << r.error();
  for (unsigned pin = 0; pin < IoApic::kPins; ++pin) EXPECT_EQ(copy.redirection(pin), ioapic.redirection(pin));
  EXPECT_EQ(copy.id(), 1);
  EXPECT_EQ(copy.selected(), 0x17);
  EXPECT_TRUE(copy.line(10));

  std::vector<uint8_t> bad = w.data();
  bad[2 + 8 * 3 + 1] |= 0x40;  // remote IRR on pin 3, an edge entry
  IoApic other(lapic, 2);
  StateReader r2(bad);
  other.load(r2);
  EXPECT_FALSE(r2.ok());
  EXPECT_EQ(other.redirection(3), 0x10000u);
}

// The Machine's wiring: both pages on the physical memory map.
TEST_F(IoApicTest, MappedOnPhysicalMemory_ReachedByAbsoluteAddress) {
  PhysicalMemory mem(1 << 20);
  ASSERT_TRUE(mem.map_mmio(LocalApic::kBase, 0x1000, lapic));
  ASSERT_TRUE(mem.map_mmio(IoApic::kBase, 0x1000, ioapic));
  EXPECT_EQ(mem.read(0xFEE00030, 4), 0x00050014u);
  mem.write(0xFEC00000, 4, 1);
  EXPECT_EQ(mem.read(0xFEC00010, 4), 0x00170011u);
  mem.write(0xFEC00000, 4, 0x10 + 2 * 4);
  mem.write(0xFEC00010, 4, 0x24);
  ioapic.set_irq(4, true);
  EXPECT_TRUE(lapic.irr(0x24));
}

// Any guest writes leave a state that snapshots accept (the validators only
// reject impossible values). A fixed LCG keeps the run deterministic.
TEST_F(IoApicTest, RandomGuestWrites_StateAlwaysRoundTrips) {
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245 + 12345; };
  for (int i = 0; i < 20000; ++i) {
    const uint32_t r = next(), v = next();
    const unsigned size = 1u << (r % 3);
    switch (r >> 29) {
      case 0: case 1: case 2: lapic.write(B + ((r >> 4) & 0x3FF), size, v); break;
      case 3: lapic.write(B + ((r >> 4) & 0x3F0), 4, v); break;
      case 4: ioapic.write(IoApic::kBase + ((r >> 4) & 0x1F), size, v); break;
      case 5: ioapic.set_irq((r >> 4) % 26, v & 1); break;
      case 6: if (lapic.has_interrupt()) lapic.acknowledge(); break;
      default: clock.run_until(clock.now + (v & 0xFFFF)); break;
    }
    if (i % 500) continue;
    StateWriter w1, w2;
    lapic.save(w1);
    ioapic.save(w2);
    Clock c2;
    c2.now = clock.now;
    LocalApic l2(c2.scheduler, {});
    IoApic io2(l2);
    StateReader r1(w1.data()), r2(w2.data());
    l2.load(r1);
    io2.load(r2);
    ASSERT_TRUE(r1.ok()) << i << ": " << r1.error();
    ASSERT_TRUE(r2.ok()) << i << ": " << r2.error();
  }
}

// ------------------------------------------------------------ router ----

struct FakePic final : cpu::InterruptController {
  uint8_t acknowledge() override { ++acks; return 0x08; }
  int acks = 0;
};

TEST_F(ApicTest, Router_VirtualWirePassesPicUntilLint0Masked) {
  FakePic pic;
  std::vector<bool> intr;
  InterruptRouter router(lapic, pic, [&](bool l) { intr.push_back(l); });
  lapic.set_on_change([&] { router.update(); });
  router.pic_intr(true);
  ASSERT_EQ(intr.size(), 1u);
  EXPECT_TRUE(intr.back());
  EXPECT_EQ(router.acknowledge(), 0x08);
  EXPECT_EQ(pic.acks, 1);
  enable();  // LINT0 is masked: the PIC no longer reaches the CPU
  EXPECT_FALSE(intr.back());
  lapic.accept(0x40, false);
  EXPECT_TRUE(intr.back());
  EXPECT_EQ(router.acknowledge(), 0x40);
  EXPECT_FALSE(intr.back());
  wr(LocalApic::kLvtLint0, 0x700);  // ExtINT unmasked: the PIC again
  EXPECT_TRUE(intr.back());
}

// QEMU's and Bochs's bootstrap processor: LINT0 comes out of reset as
// unmasked ExtINT, so a BIOS that software-enables the APIC and never
// programs LINT0 (rombios32) still gets the 8259's timer. A snapshot of
// that state is accepted; the same value without the quirk is not.
TEST_F(ApicTest, BspVirtualWireAtReset_Lint0StaysExtIntAfterSoftwareEnable) {
  lapic.set_bsp_virtual_wire_at_reset(true);
  lapic.reset();
  EXPECT_EQ(rd(LocalApic::kLvtLint0), 0x700u);
  EXPECT_EQ(rd(LocalApic::kLvtLint1), 0x10000u);
  FakePic pic;
  std::vector<bool> intr;
  InterruptRouter router(lapic, pic, [&](bool l) { intr.push_back(l); });
  lapic.set_on_change([&] { router.update(); });
  enable();
  router.pic_intr(true);
  ASSERT_FALSE(intr.empty());
  EXPECT_TRUE(intr.back());
  EXPECT_EQ(router.acknowledge(), 0x08);

  lapic.reset();
  StateWriter out;
  lapic.save(out);
  StateReader in(out.data());
  lapic.load(in);
  EXPECT_TRUE(in.ok()) << in.error();

  Clock clock2;
  LocalApic plain(clock2.scheduler, {});
  StateReader again(out.data());
  plain.load(again);
  EXPECT_FALSE(again.ok());
}

}  // namespace
}  // namespace vs::devices

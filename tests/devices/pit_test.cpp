// The 8254 PIT: periodic IRQ0 timing without drift, one-shots, latches and
// read-back, port 0x61, BCD, snapshots.
#include "virtscope/devices/pit.h"

#include <gtest/gtest.h>

#include "virtscope/devices/pic.h"

#include <cmath>
#include <vector>

namespace vs::devices {
namespace {

constexpr uint64_t kIps = Scheduler::kInstructionsPerSecond;

// Records every IRQ line change with the virtual time it happened at.
struct Recorder final : IrqSink {
  struct Change {
    unsigned irq;
    bool level;
    uint64_t at;
  };
  explicit Recorder(const uint64_t& clock) : now(clock) {}
  void set_irq(unsigned irq, bool level) override { changes.push_back({irq, level, now}); }
  std::vector<uint64_t> rises() const {
    std::vector<uint64_t> r;
    for (const Change& c : changes)
      if (c.level) r.push_back(c.at);
    return r;
  }
  const uint64_t& now;
  std::vector<Change> changes;
};

struct Board {
  uint64_t now = 0;
  Scheduler scheduler{[this] { return now; }};
  Recorder irq{now};
  Pit pit{scheduler, irq};

  void out(uint16_t port, uint8_t v) { pit.write(port, 1, v); }
  uint8_t in(uint16_t port) { return uint8_t(pit.read(port, 1)); }
  // Run the clock to `t`, firing timers at their exact deadlines, as the
  // machine does.
  void run_until(uint64_t t) {
    while (scheduler.next_deadline() <= t) {
      now = scheduler.next_deadline();
      scheduler.run_due();
    }
    now = t;
  }
  void program(unsigned ch, uint8_t mode_bits, uint16_t count) {
    out(0x43, uint8_t(ch << 6 | 0x30 | mode_bits));
    out(uint16_t(0x40 + ch), uint8_t(count));
    out(uint16_t(0x40 + ch), uint8_t(count >> 8));
  }
  uint16_t read_count(unsigned ch) {
    const uint8_t lo = in(uint16_t(0x40 + ch));
    return uint16_t(lo | in(uint16_t(0x40 + ch)) << 8);
  }
};

// The exact virtual time of input clock n after t0.
uint64_t at_tick(uint64_t t0, uint64_t n) { return t0 + (n * kIps + Pit::kInputHz - 1) / Pit::kInputHz; }

TEST(Pit, Mode2_InterruptsEveryPeriodWithoutDriftOverManyPeriods) {
  Board b;
  b.now = 12345;
  const uint64_t t0 = b.now, n = 11932;  // ~100 Hz
  b.program(0, 0x04, uint16_t(n));
  const uint64_t periods = 20000;  // 200 virtual seconds
  b.run_until(at_tick(t0, periods * n));
  const auto rises = b.irq.rises();
  ASSERT_EQ(rises.size(), periods);
  for (uint64_t k = 1; k <= periods; ++k) ASSERT_EQ(rises[k - 1], at_tick(t0, k * n)) << "period " << k;
  // Against the real-valued ideal, the last one is within one instruction.
  const double ideal = double(t0) + double(periods * n) * double(kIps) / double(Pit::kInputHz);
  EXPECT_LT(std::fabs(double(rises.back()) - ideal), 1.0);
  // Every rise is a pulse: raise, then lower, on IRQ0.
  ASSERT_EQ(b.irq.changes.size(), 2 * periods);
  EXPECT_EQ(b.irq.changes[0].irq, 0u);
  EXPECT_FALSE(b.irq.changes[1].level);
}

TEST(Pit, Mode3CountZero_Is18Point2HzSquareWave) {
  Board b;
  b.program(0, 0x06, 0);  // 65536
  b.run_until(10 * kIps);
  const auto rises = b.irq.rises();
  ASSERT_EQ(rises.size(), 182u);  // 1193182 / 65536 = 18.2 per second
  EXPECT_EQ(rises[181], at_tick(0, 182 * 65536ull));
  // OUT is high for the first half of the period, low for the second.
  b.now = at_tick(0, 183 * 65536ull) + 10;
  b.out(0x43, 0xE2);  // read-back status of channel 0
  EXPECT_TRUE(b.in(0x40) & 0x80);
  b.now = at_tick(0, 183 * 65536ull + 40000);
  b.out(0x43, 0xE2);
  EXPECT_FALSE(b.in(0x40) & 0x80);
}

TEST(Pit, LateTimer_FiresOnceAndRealigns) {
  Board b;
  b.program(0, 0x04, 1000);
  b.now = at_tick(0, 5500);  // the machine was away for 5.5 periods
  b.scheduler.run_due();
  EXPECT_EQ(b.irq.rises().size(), 1u);
  EXPECT_EQ(b.scheduler.deadline(0), at_tick(0, 6000));
}

TEST(Pit, Mode0_RaisesAtTerminalCountAndHoldsUntilReprogrammed) {
  Board b;
  b.program(0, 0x00, 500);
  b.run_until(at_tick(0, 499));
  EXPECT_TRUE(b.irq.changes.empty());
  b.run_until(at_tick(0, 600));
  ASSERT_EQ(b.irq.changes.size(), 1u);
  EXPECT_TRUE(b.irq.changes[0].level);
  EXPECT_EQ(b.irq.changes[0].at, at_tick(0, 500));
  EXPECT_EQ(b.read_count(0), uint16_t(500 - 600));  // it keeps counting, wrapped
  b.program(0, 0x00, 100);
  ASSERT_EQ(b.irq.changes.size(), 2u);
  EXPECT_FALSE(b.irq.changes[1].level);
}

TEST(Pit, CounterLatch_FreezesTheValueUntilBothBytesAreRead) {
  Board b;
  b.program(0, 0x04, 1000);
  b.now = at_tick(0, 250);
  b.out(0x43, 0x00);  // latch channel 0
  b.now = at_tick(0, 400);
  b.out(0x43, 0x00);  // ignored: already latched
  EXPECT_EQ(b.read_count(0), 750);
  EXPECT_EQ(b.read_count(0), 600);  // unlatched: live
}

TEST(Pit, LsbOnlyAndMsbOnlyAccess) {
  Board b;
  b.out(0x43, 0x14);  // channel 0, LSB only, mode 2
  b.out(0x40, 200);
  b.now = at_tick(0, 50);
  EXPECT_EQ(b.in(0x40), 150);
  b.out(0x43, 0x24);  // MSB only
  b.out(0x40, 0x10);  // count 0x1000
  b.now += Pit::instructions_for(0x100);
  EXPECT_EQ(b.in(0x40), 0x0F);
}

TEST(Pit, ReadBack_StatusThenCount) {
  Board b;
  b.out(0x43, 0x34);  // channel 0, LSB/MSB, mode 2
  b.out(0x43, 0xE2);  // read-back status only
  EXPECT_EQ(b.in(0x40), 0x80 | 0x40 | 0x34);  // OUT high (mode 2's initial state), null count
  b.out(0x40, 0x00);
  b.out(0x40, 0x10);  // 4096
  b.now = at_tick(0, 96);
  b.out(0x43, 0xC2);  // latch count and status of channel 0
  EXPECT_EQ(b.in(0x40), 0x80 | 0x34);  // OUT high, count loaded
  EXPECT_EQ(b.read_count(0), 4000);
}

TEST(Pit, PortB_GatesChannel2AndShowsOut2) {
  Board b;
  b.program(2, 0x00, 100);  // mode 0 with the gate low: does not count
  b.now = at_tick(0, 500);
  EXPECT_EQ(b.read_count(2), 100);
  EXPECT_EQ(b.in(0x61) & 0x21, 0x00);
  b.out(0x61, 0x03);  // gate on, speaker on
  const uint64_t t1 = b.now;
  b.now = at_tick(t1, 60);
  EXPECT_EQ(b.read_count(2), 40);
  EXPECT_EQ(b.in(0x61) & 0x20, 0x00);
  b.now = at_tick(t1, 100);
  EXPECT_EQ(b.in(0x61) & 0x23, 0x23);  // OUT2, speaker, gate
  EXPECT_TRUE(b.pit.speaker_on());
  EXPECT_TRUE(b.irq.changes.empty());  // channel 2 has no interrupt
}

TEST(Pit, Mode1OnChannel2_TriggersOnGateRisingEdge) {
  Board b;
  b.program(2, 0x02, 50);
  EXPECT_TRUE(b.pit.output(2));  // waiting for a trigger
  b.out(0x61, 0x01);
  EXPECT_FALSE(b.pit.output(2));
  b.now = at_tick(0, 50);
  EXPECT_TRUE(b.pit.output(2));
}

TEST(Pit, RefreshToggle_FlipsWithVirtualTime) {
  Board b;
  EXPECT_EQ(b.in(0x61) & 0x10, 0x00);
  b.now = Pit::instructions_for(18);
  EXPECT_EQ(b.in(0x61) & 0x10, 0x10);
  b.now = Pit::instructions_for(36);
  EXPECT_EQ(b.in(0x61) & 0x10, 0x00);
}

TEST(Pit, BcdCounting_ReadsDecimalDigits) {
  Board b;
  b.out(0x43, 0x31);  // channel 0, LSB/MSB, mode 0, BCD
  b.out(0x40, 0x00);
  b.out(0x40, 0x10);  // 1000 in BCD
  b.now = at_tick(0, 1);
  EXPECT_EQ(b.read_count(0), 0x0999);
}

TEST(Pit, PeekDoesNotAdvanceTheByteToggle) {
  Board b;
  b.program(0, 0x04, 0x1234);
  EXPECT_EQ(b.pit.peek(0x40, 1), 0x34u);
  EXPECT_EQ(b.pit.peek(0x40, 1), 0x34u);
  EXPECT_EQ(b.read_count(0), 0x1234);
}

TEST(Pit, Irq0PulsesThroughThePic_OneInterruptPerPeriod) {
  uint64_t now = 0;
  Scheduler scheduler{[&] { return now; }};
  Pic pic{[](bool) {}};
  Pit pit{scheduler, pic};
  for (auto [port, v] : {std::pair<uint16_t, uint8_t>{0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}})
    pic.write(port, 1, v);
  pit.write(0x43, 1, 0x34);  // channel 0, mode 2, ~1 kHz
  pit.write(0x40, 1, 1193 & 0xFF);
  pit.write(0x40, 1, 1193 >> 8);
  int taken = 0;
  while (scheduler.next_deadline() <= kIps / 10) {
    now = scheduler.next_deadline();
    scheduler.run_due();
    if (pic.intr()) {
      EXPECT_EQ(pic.acknowledge(), 0x08);
      pic.write(0x20, 1, 0x20);
      ++taken;
    }
  }
  EXPECT_EQ(taken, 100);  // 0.1 s at 1193182 / 1193 = 1000.2 Hz
}

TEST(Pit, SaveLoad_RoundTripGivesTheSameInterruptsAndCounts) {
  Board a;
  a.now = 777;
  a.program(0, 0x04, 5000);
  a.program(2, 0x06, 300);
  a.out(0x61, 0x01);
  a.run_until(at_tick(777, 12345));
  a.out(0x43, 0x80);  // latch channel 2
  a.in(0x42);         // half-read
  StateWriter w;
  a.pit.save(w);

  Board b;
  b.now = a.now;
  StateReader r(w.data());
  b.pit.load(r);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(b.in(0x42), a.in(0x42));  // the latch's second byte
  a.irq.changes.clear();
  const uint64_t end = a.now + kIps;
  a.run_until(end);
  b.run_until(end);
  EXPECT_EQ(a.irq.rises(), b.irq.rises());
  EXPECT_FALSE(a.irq.rises().empty());
  EXPECT_EQ(a.read_count(0), b.read_count(0));
  EXPECT_EQ(a.read_count(2), b.read_count(2));
  EXPECT_EQ(a.in(0x61), b.in(0x61));
}

TEST(Pit, MalformedSnapshot_IsRejected) {
  Board a;
  a.program(0, 0x04, 100);
  StateWriter w;
  a.pit.save(w);
  Board b;
  std::vector<uint8_t> truncated(w.data().begin(), w.data().begin() + 20);
  StateReader r1(truncated);
  b.pit.load(r1);
  EXPECT_FALSE(r1.ok());
  EXPECT_FALSE(b.scheduler.pending(0));  // nothing changed

  std::vector<uint8_t> bad = w.data();
  bad[0] = 7;  // channel 0 mode 7
  StateReader r2(bad);
  b.pit.load(r2);
  EXPECT_FALSE(r2.ok());

  bad = w.data();
  bad[1] = 0;  // access mode 0 (that is the latch command, not a mode)
  StateReader r3(bad);
  b.pit.load(r3);
  EXPECT_FALSE(r3.ok());
}

}  // namespace
}  // namespace vs::devices

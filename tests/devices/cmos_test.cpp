// CMOS RAM and the RTC: the clock in BCD, binary and 12-hour form after N
// virtual seconds, setting it, the periodic and update interrupts, register
// C, the BIOS memory-size bytes and checksum, snapshots.
#include "virtscope/devices/cmos.h"

#include <gtest/gtest.h>

#include <vector>

namespace vs::devices {
namespace {

constexpr uint64_t kIps = Scheduler::kInstructionsPerSecond;

struct Recorder final : IrqSink {
  explicit Recorder(const uint64_t& clock) : now(clock) {}
  void set_irq(unsigned irq, bool level) override {
    last_irq = irq;
    if (level) rises.push_back(now);
  }
  const uint64_t& now;
  unsigned last_irq = 99;
  std::vector<uint64_t> rises;
};

struct Board {
  explicit Board(uint32_t ram = 32u << 20, DateTime start = {}) : cmos(scheduler, irq, ram, start) {}
  uint64_t now = 0;
  Scheduler scheduler{[this] { return now; }};
  Recorder irq{now};
  Cmos cmos;

  uint8_t rd(uint8_t index) {
    cmos.write(0x70, 1, index);
    return uint8_t(cmos.read(0x71, 1));
  }
  void wr(uint8_t index, uint8_t v) {
    cmos.write(0x70, 1, index);
    cmos.write(0x71, 1, v);
  }
  // Run to `end` firing timers at their deadlines; an interrupt handler reads
  // register C each time IRQ8 is up. Returns how many interrupts it took.
  int run_with_handler(uint64_t end, uint8_t expect_flags) {
    int taken = 0;
    while (scheduler.next_deadline() <= end) {
      now = scheduler.next_deadline();
      scheduler.run_due();
      if (cmos.irq()) {
        ++taken;
        EXPECT_EQ(rd(0x0C) & (0x80 | expect_flags), 0x80 | expect_flags);
        EXPECT_FALSE(cmos.irq());
      }
    }
    now = end;
    return taken;
  }
};

TEST(Cmos, DefaultStart_IsJanuaryFirst2026InBcd) {
  Board b;
  EXPECT_EQ(b.rd(0x00), 0x00);
  EXPECT_EQ(b.rd(0x04), 0x00);
  EXPECT_EQ(b.rd(0x07), 0x01);
  EXPECT_EQ(b.rd(0x08), 0x01);
  EXPECT_EQ(b.rd(0x09), 0x26);
  EXPECT_EQ(b.rd(0x32), 0x20);
  EXPECT_EQ(b.rd(0x06), 5);  // Thursday (1 = Sunday)
}

TEST(Cmos, AfterNVirtualSeconds_ShowsTheAdvancedDateInBcd) {
  Board b;
  b.now = 90061 * kIps + kIps / 2;  // 1 day, 1 h, 1 min, 1.5 s
  EXPECT_EQ(b.rd(0x00), 0x01);
  EXPECT_EQ(b.rd(0x02), 0x01);
  EXPECT_EQ(b.rd(0x04), 0x01);
  EXPECT_EQ(b.rd(0x07), 0x02);
  EXPECT_EQ(b.rd(0x06), 6);  // Friday
  b.now = (400 * 86400ull + 3661) * kIps;  // 2027-02-05 01:01:01
  EXPECT_EQ(b.rd(0x09), 0x27);
  EXPECT_EQ(b.rd(0x08), 0x02);
  EXPECT_EQ(b.rd(0x07), 0x05);
  EXPECT_EQ(b.rd(0x00), 0x01);
  EXPECT_EQ(b.cmos.now(), (DateTime{2027, 2, 5, 1, 1, 1}));
}

TEST(Cmos, BinaryMode_ShowsPlainNumbers) {
  Board b;
  b.wr(0x0B, 0x06);  // DM = binary, 24 h
  b.now = 59 * kIps;
  EXPECT_EQ(b.rd(0x00), 59);
  EXPECT_EQ(b.rd(0x09), 26);
  EXPECT_EQ(b.rd(0x32), 20);
}

TEST(Cmos, TwelveHourMode_UsesOneToTwelveWithPmBit) {
  Board b;
  b.wr(0x0B, 0x00);  // BCD, 12 h
  b.now = (13 * 3600 + 5 * 60) * kIps;
  EXPECT_EQ(b.rd(0x04), 0x81);  // 1 PM
  b.now = 30 * 60 * kIps;
  EXPECT_EQ(b.rd(0x04), 0x12);  // 12:30 AM
  b.now = 12 * 3600 * kIps;
  EXPECT_EQ(b.rd(0x04), 0x92);  // noon
  b.wr(0x0B, 0x04);             // binary, 12 h
  b.now = 23 * 3600 * kIps;
  EXPECT_EQ(b.rd(0x04), 0x8B);  // 11 PM
  b.wr(0x04, 0x87);             // write 7 PM
  EXPECT_EQ(b.cmos.now().hour, 19);
}

TEST(Cmos, SettingTheClock_FreezesWhileSetAndRollsTheCentury) {
  Board b;
  b.wr(0x0B, 0x82);  // SET, 24 h, BCD
  const std::pair<uint8_t, uint8_t> writes[] = {{0x32, 0x20}, {0x09, 0x99}, {0x08, 0x12}, {0x07, 0x31},
                                                 {0x04, 0x23}, {0x02, 0x59}, {0x00, 0x58}};
  for (auto [reg, v] : writes) b.wr(reg, v);
  b.now += 5 * kIps;
  EXPECT_EQ(b.rd(0x00), 0x58);  // frozen while SET
  b.wr(0x0B, 0x02);
  b.now += 2 * kIps;
  EXPECT_EQ(b.cmos.now(), (DateTime{2100, 1, 1, 0, 0, 0}));
  EXPECT_EQ(b.rd(0x09), 0x00);
  EXPECT_EQ(b.rd(0x32), 0x21);
}

TEST(Cmos, DayWrittenBeforeMonth_IsKeptUntilTheMonthArrives) {
  Board b;
  b.wr(0x0B, 0x82);
  b.wr(0x08, 0x02);  // February ...
  b.wr(0x07, 0x31);  // ... 31st (not yet valid)
  b.wr(0x08, 0x03);  // March
  b.wr(0x0B, 0x02);
  EXPECT_EQ(b.rd(0x07), 0x31);
  EXPECT_EQ(b.rd(0x08), 0x03);
}

TEST(Cmos, OutOfRangeWrites_AreClamped) {
  Board b;
  b.wr(0x00, 0x7A);  // not BCD: 7*10+10 = 80 -> 59
  b.wr(0x08, 0x00);  // month 0 -> 1
  EXPECT_EQ(b.rd(0x00), 0x59);
  EXPECT_EQ(b.rd(0x08), 0x01);
}

TEST(Cmos, PeriodicInterrupt_1024HzOnIrq8ForOneSecond) {
  Board b;
  b.wr(0x0B, 0x42);  // PIE, 24 h; register A defaults to 0x26 (1024 Hz)
  EXPECT_EQ(b.rd(0x0A), 0x26);
  EXPECT_EQ(b.run_with_handler(kIps, 0x40), 1024);
  ASSERT_EQ(b.irq.rises.size(), 1024u);
  EXPECT_EQ(b.irq.last_irq, 8u);
  EXPECT_EQ(b.irq.rises[0], (kIps + 1023) / 1024);  // ceil(1e8 / 1024)
  EXPECT_EQ(b.irq.rises[1023], kIps);
}

TEST(Cmos, UnreadRegisterC_HoldsIrq8AndStopsFurtherInterrupts) {
  Board b;
  b.wr(0x0B, 0x42);
  b.now = kIps / 10;
  while (b.scheduler.next_deadline() <= b.now) b.scheduler.run_due();
  EXPECT_EQ(b.irq.rises.size(), 1u);
  EXPECT_TRUE(b.cmos.irq());
  EXPECT_FALSE(b.scheduler.pending(0));  // resting until C is read
  EXPECT_EQ(b.rd(0x0C), 0xC0);
  EXPECT_FALSE(b.cmos.irq());
  EXPECT_TRUE(b.scheduler.pending(0));
}

TEST(Cmos, RegisterC_SetsPfWithoutPieAndClearsOnRead) {
  Board b;
  b.now = kIps / 1000;  // 1 ms: a 1024 Hz boundary has passed
  b.cmos.write(0x70, 1, 0x0C);
  EXPECT_EQ(b.cmos.peek(0x71, 1), 0x40u);
  EXPECT_EQ(b.cmos.peek(0x71, 1), 0x40u);  // peek does not clear
  EXPECT_EQ(b.rd(0x0C), 0x40);
  EXPECT_EQ(b.rd(0x0C), 0x00);
  EXPECT_TRUE(b.irq.rises.empty());
}

TEST(Cmos, UpdateEndedInterrupt_EverySecond) {
  Board b;
  b.wr(0x0A, 0x20);  // no periodic rate
  b.wr(0x0B, 0x12);  // UIE
  EXPECT_EQ(b.run_with_handler(3 * kIps, 0x10), 3);
  EXPECT_EQ(b.irq.rises, (std::vector<uint64_t>{kIps, 2 * kIps, 3 * kIps}));
}

TEST(Cmos, RegistersAAndD_UipZeroAndVrtSet) {
  Board b;
  b.wr(0x0D, 0x00);  // read-only
  EXPECT_EQ(b.rd(0x0D), 0x80);
  b.wr(0x0A, 0xA6);  // UIP is not writable
  EXPECT_EQ(b.rd(0x0A), 0x26);
}

TEST(Cmos, IndexPort_Bit7DisablesNmi) {
  Board b;
  b.cmos.write(0x70, 1, 0x8F);
  EXPECT_TRUE(b.cmos.nmi_disabled());
  EXPECT_EQ(b.cmos.index(), 0x0F);
  b.cmos.write(0x70, 1, 0x0F);
  EXPECT_FALSE(b.cmos.nmi_disabled());
}

TEST(Cmos, MemorySizeBytes_AsThePcBiosExpects) {
  Board small;  // 32 MiB
  EXPECT_EQ(small.rd(0x15) | small.rd(0x16) << 8, 640);
  EXPECT_EQ(small.rd(0x17) | small.rd(0x18) << 8, 31 * 1024);
  EXPECT_EQ(small.rd(0x30) | small.rd(0x31) << 8, 31 * 1024);
  EXPECT_EQ(small.rd(0x34) | small.rd(0x35) << 8, 256);  // 16 MiB above 16 MiB in 64 KiB
  Board big(128u << 20);
  EXPECT_EQ(big.rd(0x17) | big.rd(0x18) << 8, 0xFFFF);  // capped
  EXPECT_EQ(big.rd(0x34) | big.rd(0x35) << 8, 112 * 16);
  Board tiny(640u << 10);
  EXPECT_EQ(tiny.rd(0x17) | tiny.rd(0x18) << 8, 0);
  EXPECT_EQ(tiny.rd(0x34) | tiny.rd(0x35) << 8, 0);
}

TEST(Cmos, Checksum_CoversBytes10To2DAndFollowsSetByte) {
  Board b;
  auto stored = [&] { return b.rd(0x2E) << 8 | b.rd(0x2F); };
  auto summed = [&] {
    int sum = 0;
    for (uint8_t i = 0x10; i <= 0x2D; ++i) sum += b.rd(i);
    return sum & 0xFFFF;
  };
  EXPECT_EQ(stored(), 0x80 + 0x02 + 0x7C);
  EXPECT_EQ(stored(), summed());
  b.cmos.set_byte(0x10, 0x40);  // a floppy type
  EXPECT_EQ(stored(), 0x80 + 0x02 + 0x7C + 0x40);
  EXPECT_EQ(stored(), summed());
  b.cmos.reset();
  EXPECT_EQ(b.rd(0x10), 0x40);  // configuration survives reset
}

TEST(Cmos, SaveLoad_RoundTripBehavesIdentically) {
  Board a(64u << 20, DateTime{2030, 6, 15, 8, 30, 0});
  a.wr(0x0B, 0x46);  // PIE, binary, 24 h
  a.wr(0x0A, 0x2A);  // 64 Hz
  a.wr(0x40, 0x5A);  // a RAM byte
  a.run_with_handler(kIps / 3, 0x40);
  a.cmos.write(0x70, 1, 0x8C);  // NMI off, index C
  StateWriter w;
  a.cmos.save(w);

  Board b;
  b.now = a.now;
  StateReader r(w.data());
  b.cmos.load(r);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(b.cmos.nmi_disabled());
  a.irq.rises.clear();
  const uint64_t end = a.now + 2 * kIps;
  EXPECT_EQ(a.run_with_handler(end, 0x40), b.run_with_handler(end, 0x40));
  EXPECT_EQ(a.irq.rises, b.irq.rises);
  EXPECT_EQ(a.irq.rises.size(), 128u);
  for (uint8_t i = 0; i < 0x80; ++i) EXPECT_EQ(a.rd(i), b.rd(i)) << "register " << int(i);
  EXPECT_EQ(b.cmos.now(), (DateTime{2030, 6, 15, 8, 30, 2}));
}

TEST(Cmos, MalformedSnapshot_IsRejected) {
  Board a;
  StateWriter w;
  a.cmos.save(w);
  const size_t kRegAOffset = 2 + 0x0A, kMonthOffset = 2 + 128 + 2;

  Board b;
  b.wr(0x40, 0x11);
  std::vector<uint8_t> truncated(w.data().begin(), w.data().end() - 3);
  StateReader r1(truncated);
  b.cmos.load(r1);
  EXPECT_FALSE(r1.ok());
  EXPECT_EQ(b.rd(0x40), 0x11);  // untouched

  std::vector<uint8_t> bad = w.data();
  bad[kMonthOffset] = 13;
  StateReader r2(bad);
  b.cmos.load(r2);
  EXPECT_FALSE(r2.ok());

  bad = w.data();
  bad[kRegAOffset] |= 0x80;  // UIP stored
  StateReader r3(bad);
  b.cmos.load(r3);
  EXPECT_FALSE(r3.ok());

  bad = w.data();
  bad[0] = 0x80;  // index out of range
  StateReader r4(bad);
  b.cmos.load(r4);
  EXPECT_FALSE(r4.ok());
}

}  // namespace
}  // namespace vs::devices

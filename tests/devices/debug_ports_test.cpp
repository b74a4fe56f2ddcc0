// QEMU's isa-debug-exit and debugcon ports: the exit status rule, the port
// range, the GuestExit event, the debug console's output and detection byte.
#include "virtscope/devices/debug_ports.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "virtscope/devices/scheduler.h"
#include "virtscope/trace/event.h"

namespace vs::devices {
namespace {

struct ExitBoard {
  explicit ExitBoard(DebugExitConfig config = {})
      : exit([this](int status) { statuses.push_back(status); }, &log, &scheduler, config) {}
  uint64_t now = 0;
  Scheduler scheduler{[this] { return now; }};
  trace::EventLog log;
  std::vector<int> statuses;
  DebugExit exit;
};

TEST(DebugExit, ByteWrite_RequestsExitWithValueShiftedOrOne) {
  ExitBoard b;
  b.log.record(trace::KindSet::of({trace::EventKind::GuestExit}));
  b.now = 1000;
  EXPECT_FALSE(b.exit.exit_requested());
  b.exit.write(0xF4, 1, 0x10);
  ASSERT_EQ(b.statuses, (std::vector<int>{0x21}));
  EXPECT_TRUE(b.exit.exit_requested());
  EXPECT_EQ(b.exit.exit_status(), 0x21);
  const auto events = b.log.recorded();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].arg[0], 0x21u);
  EXPECT_EQ(events[0].arg[1], 0xF4u);
  EXPECT_EQ(events[0].when.icount, 1000u);
}

TEST(DebugExit, ZeroWrite_IsStatusOne) {
  ExitBoard b;
  b.exit.write(0xF7, 1, 0);  // last port of the default range
  EXPECT_EQ(b.statuses, (std::vector<int>{1}));
}

TEST(DebugExit, WideWrite_UsesTheWholeValue) {
  ExitBoard b;
  b.exit.write(0xF4, 2, 0x1234);
  b.exit.write(0xF4, 4, 0x40000000);
  EXPECT_EQ(b.statuses, (std::vector<int>{0x2469, int(0x80000001u)}));
}

TEST(DebugExit, ConfiguredRange_OnlyItsPortsCount) {
  ExitBoard b(DebugExitConfig{0x501, 2});
  EXPECT_EQ(b.exit.first_port(), 0x501);
  EXPECT_EQ(b.exit.last_port(), 0x502);
  b.exit.write(0x503, 1, 5);
  b.exit.write(0x500, 1, 5);
  EXPECT_TRUE(b.statuses.empty());
  b.exit.write(0x502, 1, 3);
  EXPECT_EQ(b.statuses, (std::vector<int>{7}));
  EXPECT_EQ(b.exit.read(0x501, 1), 0u);
}

TEST(DebugExit, SaveLoad_RoundTripAndRejectsImpossibleStatus) {
  ExitBoard a;
  a.exit.write(0xF4, 1, 3);
  StateWriter w;
  a.exit.save(w);
  ExitBoard b;
  StateReader r(w.data());
  b.exit.load(r);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(b.exit.exit_requested());
  EXPECT_EQ(b.exit.exit_status(), 7);
  EXPECT_TRUE(b.statuses.empty());  // loading does not exit again

  std::vector<uint8_t> bad = w.data();
  bad[5] = 6;  // an even status cannot come from the port
  ExitBoard c;
  StateReader r2(bad);
  c.exit.load(r2);
  EXPECT_FALSE(r2.ok());
  EXPECT_FALSE(c.exit.exit_requested());

  ExitBoard other(DebugExitConfig{0x501, 2});
  StateReader r3(w.data());
  other.exit.load(r3);
  EXPECT_FALSE(r3.ok());

  std::vector<uint8_t> truncated(w.data().begin(), w.data().end() - 1);
  StateReader r4(truncated);
  c.exit.load(r4);
  EXPECT_FALSE(r4.ok());
}

TEST(DebugCon, Writes_GoToTheOutputAndReadsReturnE9) {
  std::string out;
  DebugCon con([&](uint8_t c) { out.push_back(char(c)); });
  for (char c : std::string("Hi!\n")) con.write(0xE9, 1, uint8_t(c));
  EXPECT_EQ(out, "Hi!\n");
  EXPECT_EQ(con.read(0xE9, 1), 0xE9u);
  EXPECT_EQ(con.peek(0xE9, 1), 0xE9u);
  con.write(0xE9, 2, 0x4241);  // only the byte at 0xE9 is the console's
  EXPECT_EQ(out, "Hi!\nA");
}

TEST(DebugCon, SaveLoad_ChecksThePort) {
  DebugCon a([](uint8_t) {});
  DebugCon b([](uint8_t) {}, 0x402);
  StateWriter w;
  a.save(w);
  StateReader same(w.data());
  a.load(same);
  EXPECT_TRUE(same.ok());
  StateReader other(w.data());
  b.load(other);
  EXPECT_FALSE(other.ok());
}

}  // namespace
}  // namespace vs::devices

// Events and determinism: process creation and exit are events, system
// calls are events only when asked for, and the same inputs give the same
// instruction counts and the same event stream.
#include <gtest/gtest.h>

#include "host_helpers.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {
namespace {

using trace::EventKind;

TEST(ContainerEvents, ForkThree_FourStartsAndFourExits) {
  TestHost t;
  std::vector<trace::Event> seen;
  t.host->log().subscribe(trace::KindSet::of({EventKind::ProcessStart, EventKind::ProcessExit}),
                          [&](const trace::Event& e) { seen.push_back(e); });
  t.spawn({"fork", "3"});
  EXPECT_EQ(t.host->run(100'000'000), HostStop::AllExited);
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen[0].kind, EventKind::ProcessStart);
  EXPECT_EQ(seen[0].arg[0], 1u);  // pid 1, spawned by the host
  EXPECT_EQ(seen[0].arg[2], 0u);
  for (int i = 0; i < 3; ++i) {
    const trace::Event& start = seen[size_t(1 + 2 * i)];
    const trace::Event& exit = seen[size_t(2 + 2 * i)];
    EXPECT_EQ(start.kind, EventKind::ProcessStart);
    EXPECT_EQ(start.arg[0], uint64_t(2 + i));
    EXPECT_EQ(start.arg[1], 1u);
    EXPECT_EQ(start.arg[2], 1u);  // fork
    EXPECT_EQ(start.pid, 1u);     // emitted while pid 1 ran
    EXPECT_EQ(exit.kind, EventKind::ProcessExit);
    EXPECT_EQ(exit.arg[0], uint64_t(2 + i));
    EXPECT_EQ(exit.arg[1], uint64_t((i & 0x7f) << 8));  // _exit(i)
  }
  EXPECT_EQ(seen[7].kind, EventKind::ProcessExit);
  EXPECT_EQ(seen[7].arg[0], 1u);
  EXPECT_EQ(seen[7].arg[2], 0u);  // reaped by the host
}

TEST(ContainerEvents, Syscalls_OptInAndCounted) {
  TestHost quiet;
  quiet.spawn({"syscall", "50"});
  EXPECT_EQ(quiet.host->run(100'000'000), HostStop::AllExited);
  EXPECT_EQ(quiet.host->log().count(EventKind::Syscall), 0u);  // nobody asked

  TestHost t;
  std::vector<trace::Event> calls;
  t.host->log().subscribe(trace::KindSet::of({EventKind::Syscall}),
                          [&](const trace::Event& e) { calls.push_back(e); });
  t.spawn({"syscall", "50"});
  EXPECT_EQ(t.host->run(100'000'000), HostStop::AllExited);
  EXPECT_EQ(calls.size(), t.host->counters().syscalls);
  size_t getpids = 0;
  for (const trace::Event& e : calls)
    if (e.arg[0] == 20) {
      ++getpids;
      EXPECT_EQ(e.arg[3], 1u);  // getpid() = 1
      EXPECT_EQ(e.pid, 1u);
    }
  EXPECT_EQ(getpids, 51u);  // one before the loop, 50 in it
  EXPECT_EQ(calls.back().arg[0], 252u);  // exit_group
  EXPECT_EQ(quiet.host->counters().instructions, t.host->counters().instructions);  // observing costs no guest time
}

TEST(ContainerEvents, BlockedCall_ReportedOnceWhenItCompletes) {
  TestHost t;
  std::vector<trace::Event> waits;
  t.host->log().subscribe(trace::KindSet::of({EventKind::Syscall}), [&](const trace::Event& e) {
    if (e.arg[0] == 7 || e.arg[0] == 114) waits.push_back(e);
  });
  t.spawn({"fork", "2"});
  EXPECT_EQ(t.host->run(100'000'000), HostStop::AllExited);
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_EQ(waits[0].arg[3], 2u);  // waitpid returned the child's pid
  EXPECT_EQ(waits[1].arg[3], 3u);
}

// Everything observable from two runs of the same inputs.
struct Trace {
  std::vector<std::array<uint64_t, 8>> events;
  std::string console;
  HostCounters counters;
};

Trace record(std::vector<std::vector<std::string>> programs) {
  TestHost t;
  Trace out;
  t.host->log().subscribe(trace::KindSet::all().without(EventKind::InsnRetired).without(EventKind::PageWalk),
                          [&](const trace::Event& e) {
                            out.events.push_back({e.seq, e.when.icount, uint64_t(e.kind), e.pid, e.arg[0], e.arg[1],
                                                  e.arg[2], e.arg[3]});
                          });
  for (auto& argv : programs) t.spawn(argv);
  EXPECT_EQ(t.host->run(2'000'000'000), HostStop::AllExited);
  out.console = t.console;
  out.counters = t.host->counters();
  return out;
}

TEST(ContainerDeterminism, SameInputs_SameEventsAndCounts) {
  const std::vector<std::vector<std::string>> programs = {
      {"pipe", "40"}, {"fork", "5"}, {"cpu", "2500000"}, {"mmap", "5"}};
  const Trace a = record(programs), b = record(programs);
  EXPECT_GT(a.events.size(), 500u);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.console, b.console);
  EXPECT_EQ(a.counters.instructions, b.counters.instructions);
  EXPECT_EQ(a.counters.syscalls, b.counters.syscalls);
  EXPECT_EQ(a.counters.page_faults, b.counters.page_faults);
  EXPECT_EQ(a.counters.context_switches, b.counters.context_switches);
  EXPECT_EQ(a.counters.frames_peak, b.counters.frames_peak);
  EXPECT_GT(a.counters.preemptions, 0u);  // the cpu workload ran several ticks among the others
}

}  // namespace
}  // namespace vs::container_sim

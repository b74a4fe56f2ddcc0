// The cgroup v2 cpu controller under container-sim (cgroup-v2.rst "CPU",
// sched-bwc.rst; SEMANTICS.md §2.2, checklist items 13-16), in virtual
// time: cpu.max bandwidth with throttling to the period boundary, cpu.weight
// shares between busy siblings, cpu.stat, and the CgroupThrottle event.
// Workloads: the teaching kernel's `cpu N` (a pure computation loop) and the
// guest program cg_cpu (tests/container/guest/cg_cpu.c). No comparison with
// the host's Linux: that needs root and a quiet machine, and real time.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host_helpers.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {
namespace {

using trace::EventKind;

constexpr uint64_t kPerMs = 100'000;          // instructions per virtual millisecond (10 ns each)
constexpr const char* kForever = "1000000000";  // `cpu` iterations: far more than any run here

struct CpuHost : TestHost {
  CpuHost() {
    std::string error;
    EXPECT_TRUE(host->add_directory("/sys/fs/cgroup", error)) << error;
    EXPECT_TRUE(host->add_file("/bin/cg_cpu", read_bytes(VS_CT_CG_CPU), error)) << error;
  }
  void write(const std::string& file, const std::string& text) {
    std::string error;
    EXPECT_TRUE(host->cgroup_write(file, text, error)) << file << " " << text << ": " << error;
  }
  // The error text of a refused write ("" if it was accepted).
  std::string refused(const std::string& file, const std::string& text) {
    std::string error;
    return host->cgroup_write(file, text, error) ? "" : error;
  }
  std::string read(const std::string& file) {
    std::string text, error;
    EXPECT_TRUE(host->cgroup_read(file, text, error)) << error;
    return text;
  }
  // A field of cpu.stat ("usage_usec" ...), -1 if absent.
  int64_t stat(const std::string& cgroup, const std::string& key) {
    const std::string text = "\n" + read(cgroup + "/cpu.stat");
    const size_t at = text.find("\n" + key + " ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + key.size() + 2));
  }
  void create(const std::string& path) {
    std::string error;
    EXPECT_TRUE(host->cgroup_create(path, error)) << error;
  }
  uint32_t spawn_in(const std::string& cgroup, std::vector<std::string> argv) {
    const uint32_t pid = spawn(std::move(argv));
    std::string error;
    EXPECT_TRUE(host->cgroup_move(pid, cgroup, error)) << error;
    return pid;
  }
};

struct Throttle {
  trace::Event event;
  uint64_t retired;  // instructions retired by then (HostCounters::instructions)
};

// Records every CgroupThrottle event with the instructions retired when it came.
void watch_throttles(CpuHost& t, std::vector<Throttle>& out) {
  t.host->log().subscribe(trace::KindSet::of({EventKind::CgroupThrottle}), [&t, &out](const trace::Event& e) {
    out.push_back({e, t.host->counters().instructions});
  });
}

// Item 13: cpu.max "50000 100000" on a CPU-bound task: it runs 50 ms of each
// 100 ms period, is throttled at exactly 50 ms into the period and runs
// again at exactly the next boundary (one process: the CPU idles between).
TEST(ContainerCgroupCpu, QuotaHalf_RunsHalfOfEachPeriodAndWaitsForTheBoundary) {
  CpuHost t;
  t.create("/a");
  t.write("/cgroup.subtree_control", "+cpu");
  t.write("/a/cpu.max", "50000 100000");
  std::vector<Throttle> throttles;
  watch_throttles(t, throttles);
  const uint32_t pid = t.spawn_in("/a", {"cpu", kForever});
  const uint64_t t0 = t.host->now();  // the period starts when the scheduler takes the new limit
  EXPECT_EQ(t.host->run(50 * 10 * kPerMs), HostStop::Budget);  // 0.5 s of CPU
  const uint64_t elapsed = t.host->now() - t0;
  // 10 periods of 50 ms run + 50 ms throttled (run() idles to the last
  // refill before it sees that the budget is spent).
  EXPECT_EQ(elapsed, 1000 * kPerMs);
  const int64_t usage = t.stat("/a", "usage_usec");
  EXPECT_EQ(usage, 500000);
  EXPECT_NEAR(double(usage) / (double(elapsed) / 100), 0.5, 0.03);
  EXPECT_EQ(t.stat("/a", "user_usec"), usage);
  EXPECT_EQ(t.stat("/a", "system_usec"), 0);
  EXPECT_EQ(t.stat("/a", "nr_periods"), 10);
  EXPECT_EQ(t.stat("/a", "nr_throttled"), 10);  // every period ended throttled
  EXPECT_EQ(t.stat("/a", "throttled_usec"), 10 * 50000);
  ASSERT_EQ(throttles.size(), 10u);
  for (size_t k = 0; k < throttles.size(); ++k) {
    const trace::Event& e = throttles[k].event;
    SCOPED_TRACE(k);
    EXPECT_EQ(e.arg[0], 0u);                  // cpu
    EXPECT_EQ(e.arg[1], throttles[0].event.arg[1]);
    EXPECT_NE(e.arg[1], 1u);                  // /a, not the root
    EXPECT_EQ(e.arg[2], 50'000'000u);         // 50 ms in ns to the refill
    EXPECT_EQ(e.arg[3], pid);
    EXPECT_EQ(e.when.icount - t0, (k * 100 + 50) * kPerMs);  // 50 ms into period k
    EXPECT_EQ(throttles[k].retired, (k + 1) * 50 * kPerMs);  // ran nothing while throttled
  }
  // At the boundary it runs again at once.
  const uint64_t before = t.host->now();
  t.host->run(20 * kPerMs);
  EXPECT_EQ(t.host->now() - before, 20 * kPerMs);
  EXPECT_EQ(t.stat("/a", "usage_usec"), 520000);
}

// Item 13 from inside: the guest puts itself under the limit and sees the
// gaps in its own clock readings.
TEST(ContainerCgroupCpu, QuotaHalf_TheGuestSeesItsClockStopFor50ms) {
  CpuHost t;
  const uint32_t pid = t.spawn({"cg_cpu", "spin", "1000"});
  EXPECT_EQ(t.host->run(2'000'000'000), HostStop::AllExited) << t.console;
  EXPECT_EQ(t.host->exit_status(pid), 0) << t.console;
  EXPECT_NE(t.console.find("\n0 failures\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("ok each stop lasts 50 ms, to the next period boundary\n"), std::string::npos) << t.console;
}

// Item 14, from inside: defaults, formats and Linux's errors.
TEST(ContainerCgroupCpu, Files_DefaultsFormatsAndErrorsFromTheGuest) {
  CpuHost t;
  const uint32_t pid = t.spawn({"cg_cpu", "files"});
  EXPECT_EQ(t.host->run(2'000'000'000), HostStop::AllExited) << t.console;
  EXPECT_EQ(t.host->exit_status(pid), 0) << t.console;
  EXPECT_EQ(t.console.find("FAIL"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("\n0 failures\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("ok one number changes the quota only\n"), std::string::npos) << t.console;
  EXPECT_NE(t.console.find("ok cpu.weight 0: ERANGE\n"), std::string::npos) << t.console;
}

// Item 14, from the host (the CLI's run --cpus and stats): the same files.
TEST(ContainerCgroupCpu, Files_DefaultsAndErrorsFromTheHost) {
  CpuHost t;
  t.create("/a");
  EXPECT_EQ(t.read("/a/cpu.stat"), "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");  // cpu off: core figures only
  EXPECT_EQ(t.refused("/a/cpu.max", "50000"), "/a/cpu.max: No such file or directory");
  t.write("/cgroup.subtree_control", "+cpu");
  EXPECT_EQ(t.read("/a/cpu.max"), "max 100000\n");
  EXPECT_EQ(t.read("/a/cpu.weight"), "100\n");
  EXPECT_EQ(t.read("/a/cpu.stat"),
            "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n");
  t.write("/a/cpu.max", "25000");
  EXPECT_EQ(t.read("/a/cpu.max"), "25000 100000\n");
  t.write("/a/cpu.max", "max 200000");
  EXPECT_EQ(t.read("/a/cpu.max"), "max 200000\n");
  EXPECT_EQ(t.refused("/a/cpu.max", "500 100000"), "/a/cpu.max: Invalid argument");   // quota < 1 ms
  EXPECT_EQ(t.refused("/a/cpu.max", "5000 500"), "/a/cpu.max: Invalid argument");     // period < 1 ms
  EXPECT_EQ(t.refused("/a/cpu.max", "5000 2000000"), "/a/cpu.max: Invalid argument"); // period > 1 s
  EXPECT_EQ(t.refused("/a/cpu.max", "lots"), "/a/cpu.max: Invalid argument");
  EXPECT_EQ(t.refused("/a/cpu.max", "99999999999999999999999999 100000"), "/a/cpu.max: Invalid argument");
  EXPECT_EQ(t.refused("/a/cpu.max", std::string(5000, '7')), "/a/cpu.max: Invalid argument");
  EXPECT_EQ(t.read("/a/cpu.max"), "max 200000\n");
  EXPECT_EQ(t.refused("/a/cpu.weight", "0"), "/a/cpu.weight: Numerical result out of range");
  EXPECT_EQ(t.refused("/a/cpu.weight", "10001"), "/a/cpu.weight: Numerical result out of range");
  EXPECT_EQ(t.refused("/a/cpu.weight", "heavy"), "/a/cpu.weight: Invalid argument");
  t.write("/a/cpu.weight", "0x10");  // kstrtoull base 0, as cgroup_file_write() parses write_u64 files
  EXPECT_EQ(t.read("/a/cpu.weight"), "16\n");
  t.write("/a/cpu.weight", "250");
  EXPECT_EQ(t.read("/a/cpu.weight"), "250\n");
  std::string text, error;
  EXPECT_FALSE(t.host->cgroup_read("/cpu.max", text, error));  // the root has none
}

// Item 15: weights 200 and 100, both busy: 2:1 of the CPU. Work-conserving:
// while the heavier one sleeps the other gets all of it, and when it wakes
// it gets no credit for the sleep (the split goes back to 2:1).
TEST(ContainerCgroupCpu, Weights_TwoToOneAndWorkConserving) {
  CpuHost t;
  t.create("/heavy");
  t.create("/light");
  t.write("/cgroup.subtree_control", "+cpu");
  t.write("/heavy/cpu.weight", "200");
  t.spawn_in("/light", {"cpu", kForever});
  t.spawn_in("/heavy", {"cg_cpu", "nap", "500"});  // sleeps 0.5 s, then burns
  // Phase 1: the heavy group sleeps; the light one has the CPU alone.
  t.host->run(400 * kPerMs);
  EXPECT_NEAR(double(t.stat("/light", "usage_usec")), 400000.0, 1000.0);
  EXPECT_LT(t.stat("/heavy", "usage_usec"), 1000);
  // Phase 2: it wakes at 500 ms and gets 2/3 of the next 100 ms, not all of
  // it: no credit for the 0.5 s it slept.
  t.host->run(200 * kPerMs);
  const int64_t h0 = t.stat("/heavy", "usage_usec"), l0 = t.stat("/light", "usage_usec");
  EXPECT_NEAR(double(h0), 66667.0, 5000.0);
  // Then 3 s of both busy.
  const uint64_t start = t.host->now();
  t.host->run(3000 * kPerMs);
  const double heavy = double(t.stat("/heavy", "usage_usec") - h0), light = double(t.stat("/light", "usage_usec") - l0);
  EXPECT_NEAR(heavy / light, 2.0, 0.06) << heavy << " " << light;
  EXPECT_NEAR((heavy + light) * 100, double(t.host->now() - start), 300.0);  // all of the CPU
  EXPECT_EQ(t.host->counters().idle, 0u);
}

// Item 15, the other half: when one sibling exits the other gets 100 %.
TEST(ContainerCgroupCpu, Weights_SurvivorGetsAllOfTheCpu) {
  CpuHost t;
  t.create("/a");
  t.create("/b");
  t.write("/cgroup.subtree_control", "+cpu");
  t.write("/a/cpu.weight", "200");
  const uint32_t a = t.spawn_in("/a", {"cpu", "2000000"});  // finishes after a while
  t.spawn_in("/b", {"cpu", kForever});
  while (!t.host->exit_status(a)) t.host->run(10 * kPerMs);
  const int64_t b0 = t.stat("/b", "usage_usec");
  const uint64_t start = t.host->now();
  t.host->run(500 * kPerMs);
  EXPECT_NEAR(double(t.stat("/b", "usage_usec") - b0) * 100, double(t.host->now() - start), 200.0);
}

// Item 16: the parent's quota (20 ms / 100 ms) is used up while the child
// still has its own (80 ms): the child is throttled, by the parent.
TEST(ContainerCgroupCpu, ParentQuotaExhausted_ThrottlesTheChild) {
  CpuHost t;
  t.create("/p");
  t.create("/p/c");
  t.write("/cgroup.subtree_control", "+cpu");
  t.write("/p/cgroup.subtree_control", "+cpu");
  t.write("/p/cpu.max", "20000 100000");
  t.write("/p/c/cpu.max", "80000 100000");
  std::vector<Throttle> throttles;
  watch_throttles(t, throttles);
  const uint32_t pid = t.spawn_in("/p/c", {"cpu", kForever});
  const uint64_t t0 = t.host->now();
  t.host->run(100 * kPerMs);  // 5 periods' worth of the parent's quota
  EXPECT_EQ(t.host->now() - t0, 500 * kPerMs);  // 20 ms run, 80 ms throttled, 5 times
  EXPECT_EQ(t.stat("/p/c", "usage_usec"), 100000);
  EXPECT_EQ(t.stat("/p", "usage_usec"), 100000);  // hierarchical
  EXPECT_EQ(t.stat("/p", "nr_throttled"), 5);
  EXPECT_EQ(t.stat("/p", "nr_periods"), 5);
  EXPECT_EQ(t.stat("/p/c", "nr_throttled"), 0);   // its own pool never ran dry
  EXPECT_EQ(t.stat("/p/c", "nr_periods"), 5);
  ASSERT_EQ(throttles.size(), 5u);
  for (const Throttle& th : throttles) {
    EXPECT_EQ(th.event.arg[1], throttles[0].event.arg[1]);  // always the parent
    EXPECT_EQ(th.event.arg[2], 80'000'000u);
    EXPECT_EQ(th.event.arg[3], pid);
  }
}

// Changing cpu.max unthrottles at once (sched-bwc.rst), and a new period starts.
TEST(ContainerCgroupCpu, ChangingTheLimit_Unthrottles) {
  CpuHost t;
  t.create("/a");
  t.write("/cgroup.subtree_control", "+cpu");
  t.write("/a/cpu.max", "10000 100000");
  t.spawn_in("/a", {"cpu", kForever});
  t.spawn({"cpu", kForever});  // a busy process in the root keeps the CPU from idling
  t.host->run(20 * kPerMs);    // a tick each: /a has used its quota, throttled until 100 ms
  EXPECT_EQ(t.stat("/a", "usage_usec"), 10000);
  t.write("/a/cpu.max", "max");
  t.host->run(20 * kPerMs);    // a tick each again: /a runs before the boundary
  EXPECT_EQ(t.host->now(), 40 * kPerMs);
  EXPECT_EQ(t.stat("/a", "usage_usec"), 20000);
}

// Determinism: the same runs give the same event stream, throttles included.
TEST(ContainerCgroupCpu, SameInputs_SameEvents) {
  auto one_run = [] {
    CpuHost t;
    std::vector<std::string> lines;
    t.host->log().subscribe(trace::KindSet::of({EventKind::Syscall, EventKind::CgroupThrottle, EventKind::ProcessExit,
                                                EventKind::PageFault}),
                            [&](const trace::Event& e) {
                              lines.push_back(std::to_string(e.when.icount) + " " + std::to_string(int(e.kind)) +
                                              " " + std::to_string(e.pid) + " " + std::to_string(e.arg[0]) + " " +
                                              std::to_string(e.arg[1]) + " " + std::to_string(e.arg[2]) + " " +
                                              std::to_string(e.arg[3]));
                            });
    t.create("/a");
    t.create("/b");
    t.write("/cgroup.subtree_control", "+cpu");
    t.write("/a/cpu.max", "30000 50000");
    t.write("/b/cpu.weight", "300");
    t.spawn_in("/a", {"cpu", "3000000"});
    t.spawn_in("/b", {"cpu", "3000000"});
    t.spawn({"cg_cpu", "spin", "300"});
    t.host->run(2'000'000'000);
    return std::make_pair(lines, t.console);
  };
  const auto first = one_run(), second = one_run();
  EXPECT_GT(first.first.size(), 10u);
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
}

}  // namespace
}  // namespace vs::container_sim

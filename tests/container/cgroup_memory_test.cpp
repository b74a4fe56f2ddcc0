// The cgroup v2 memory controller under container-sim (cgroup-v2.rst
// "Memory"; SEMANTICS.md §2.3, checklist items 17-20;
// docs/container-sim/cgroup-memory.md): charging that stays with the
// cgroup that faulted a page in, reclaim of clean image pages, the memcg
// OOM killer inside the cgroup only, memory.high's throttle, lowering
// memory.max, memory.oom.group — observed from inside by the guest program
// cg_mem (tests/container/guest/cg_mem.c) and from the host API, with the
// OomKill and CgroupThrottle events. No comparison with the host's Linux:
// the program would need root there and would change its hierarchy.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host_helpers.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {
namespace {

using trace::EventKind;

constexpr uint64_t kBudget = 4'000'000'000;
constexpr uint64_t kPage = 4096;

struct MemHost : TestHost {
  std::vector<trace::Event> events;  // OomKill and CgroupThrottle, in order

  MemHost() {
    std::string error;
    EXPECT_TRUE(host->add_directory("/sys/fs/cgroup", error)) << error;
    EXPECT_TRUE(host->add_file("/bin/cg_mem", read_bytes(VS_CT_CG_MEM), error)) << error;
    host->log().subscribe(trace::KindSet::of({EventKind::OomKill, EventKind::CgroupThrottle}),
                          [this](const trace::Event& e) { events.push_back(e); });
  }
  // Runs /bin/cg_mem SUB; the console, after checking "0 failures" and at least min_oks "ok" lines.
  std::string run_guest(const std::string& sub, size_t min_oks) {
    run_checks({"cg_mem", sub}, min_oks, kBudget);
    // The figures the guest measured ("info ..." lines), for the log.
    for (size_t at = 0; (at = console.find("info ", at)) != std::string::npos; ++at)
      if (at == 0 || console[at - 1] == '\n') std::printf("%s\n", console.substr(at, console.find('\n', at) - at).c_str());
    return console;
  }
  size_t count(EventKind k) const {
    size_t n = 0;
    for (const trace::Event& e : events) n += e.kind == k;
    return n;
  }
  std::string read(const std::string& file) {
    std::string text, error;
    EXPECT_TRUE(host->cgroup_read(file, text, error)) << error;
    return text;
  }
  std::string refused(const std::string& file, const std::string& text) {
    std::string error;
    return host->cgroup_write(file, text, error) ? "" : error;
  }
  // The value of "key N" in a keyed file, -1 if absent.
  int64_t field(const std::string& file, const std::string& key) {
    const std::string text = "\n" + read(file);
    const size_t at = text.find("\n" + key + " ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + key.size() + 2));
  }
};


TEST(ContainerMemory, Files_DefaultsParsingAndErrors) {
  MemHost t;
  const std::string out = t.run_guest("files", 27);
  EXPECT_TRUE(has_line(out, "memory.max \"abc\": EINVAL")) << out;
  EXPECT_TRUE(has_line(out, "memory.max 5000 reads back 4096 (bytes / PAGE_SIZE, rounded down)")) << out;
}

TEST(ContainerMemory, Charge_StaysWithTheCgroupThatFaultedItIn) {  // item 20
  MemHost t;
  const std::string out = t.run_guest("charge", 17);
  EXPECT_TRUE(has_line(out, "a/b keeps its charge after the move")) << out;
  EXPECT_TRUE(has_line(out, "freeing the old pages uncharges a/b, where they were charged")) << out;
  EXPECT_TRUE(has_line(out, "a removed cgroup's charges still count in a")) << out;
}

TEST(ContainerMemory, Oom_KillsOnlyInsideTheCgroupAndCountsUpTheTree) {  // item 18
  MemHost t;
  const std::string out = t.run_guest("oom", 15);
  EXPECT_TRUE(has_line(out, "the OOM killer took the largest process in a: a/y's, with SIGKILL")) << out;
  EXPECT_TRUE(has_line(out, "the process in sibling s survives with more memory than a's limit")) << out;
  EXPECT_TRUE(has_line(out, "a/memory.events.local: the limit was a's (oom 1), the kill was not (oom_kill 0)")) << out;
  ASSERT_EQ(t.count(EventKind::OomKill), 2u);
  for (const trace::Event& e : t.events) {
    if (e.kind != EventKind::OomKill) continue;
    EXPECT_NE(e.arg[0], 1u);        // a, not the root
    EXPECT_GE(e.arg[2], e.arg[3]);  // usage at the limit when it decided
    EXPECT_GT(e.arg[3], 0u);
  }
  EXPECT_NE(out.find("out of memory in cgroup /a: killed"), std::string::npos) << out;  // the other process
  EXPECT_NE(out.find("): out of memory at 0x"), std::string::npos) << out;             // the faulter itself
}

TEST(ContainerMemory, High_ReclaimsThrottlesAndNeverKills) {  // item 17
  MemHost t;
  const std::string out = t.run_guest("high", 8);
  EXPECT_TRUE(has_line(out, "the process over memory.high is never killed (exit 0 = all its checks passed)")) << out;
  EXPECT_TRUE(has_line(out, "reclaim took clean image pages (pgsteal > 0)")) << out;
  EXPECT_TRUE(has_line(out, "the allocation was held back (over 100 ms)")) << out;
  EXPECT_EQ(t.count(EventKind::OomKill), 0u);
  ASSERT_GT(t.count(EventKind::CgroupThrottle), 0u);
  uint64_t total_ns = 0;
  for (const trace::Event& e : t.events) {
    EXPECT_EQ(e.arg[0], 2u);  // memory
    EXPECT_GT(e.arg[2], 10'000'000u);
    EXPECT_LE(e.arg[2], 2'000'000'000u);
    total_ns += e.arg[2];
  }
  std::printf("memory.high: %zu throttles, %llu ms in all\n", t.count(EventKind::CgroupThrottle),
              static_cast<unsigned long long>(total_ns / 1'000'000));
}

TEST(ContainerMemory, LowerMaxBelowCurrent_ReclaimsThenOomKills) {  // item 19
  MemHost t;
  const std::string out = t.run_guest("shrink", 13);
  EXPECT_TRUE(has_line(out, "reclaim was enough: the process lives")) << out;
  EXPECT_TRUE(has_line(out, "reclaim could not get there: the OOM killer ended the process")) << out;
  EXPECT_TRUE(has_line(out, "a process that lowers its own cgroup's memory.max below its usage is the victim")) << out;
  EXPECT_EQ(t.count(EventKind::OomKill), 2u);
}

TEST(ContainerMemory, OomGroup_KillsTheWholeCgroup) {
  MemHost t;
  const std::string out = t.run_guest("group", 7);
  EXPECT_TRUE(has_line(out, "g/memory.events: oom_group_kill 1, oom_kill 3")) << out;
  EXPECT_EQ(t.count(EventKind::OomKill), 3u);
}

// The host's side: the same files and errors, and an OOM kill the host's write causes.
TEST(ContainerMemory, HostAccess_ErrorsAndAnOomKillFromALowerMax) {
  MemHost t;
  std::string error;
  ASSERT_TRUE(t.host->cgroup_create("/m", error)) << error;
  EXPECT_EQ(t.refused("/m/memory.max", "1M"), "/m/memory.max: No such file or directory");
  ASSERT_EQ(t.refused("/cgroup.subtree_control", "+memory"), "");
  EXPECT_EQ(t.refused("/m/memory.max", "abc"), "/m/memory.max: Invalid argument");
  EXPECT_EQ(t.refused("/m/memory.high", "1KB"), "/m/memory.high: Invalid argument");
  EXPECT_EQ(t.refused("/m/memory.oom.group", "2"), "/m/memory.oom.group: Invalid argument");
  EXPECT_EQ(t.refused("/m/memory.max", "64m"), "");
  EXPECT_EQ(t.read("/m/memory.max"), "67108864\n");

  // PID 1 of the root namespace is never an OOM victim (is_global_init):
  // the holder gets PID 2, after a first process has come and gone.
  t.spawn({"hello"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  const uint32_t pid = t.spawn({"cg_mem", "hold-stdin", "200"});
  ASSERT_TRUE(t.host->cgroup_move(pid, "/m", error)) << error;
  EXPECT_EQ(t.host->run(kBudget), HostStop::Idle) << t.console;  // waiting for console input
  const int64_t held = std::stoll(t.read("/m/memory.current"));
  EXPECT_GE(held, int64_t(200 * kPage));  // its image stayed in the root: spawned there
  EXPECT_LE(held, int64_t(203 * kPage));
  EXPECT_EQ(t.read("/m/memory.current"), t.read("/m/memory.peak"));

  ASSERT_EQ(t.refused("/m/memory.max", std::to_string(50 * kPage)), "");  // below memory.current: the OOM killer
  ASSERT_EQ(t.count(EventKind::OomKill), 1u) << t.read("/m/memory.events") << t.read("/m/memory.current") << t.console;
  EXPECT_EQ(t.events[0].arg[1], pid);
  EXPECT_EQ(t.events[0].arg[2], uint64_t(held));
  EXPECT_EQ(t.events[0].arg[3], 50 * kPage);
  EXPECT_EQ(t.host->exit_status(pid), 9);  // SIGKILL, reaped by the host
  EXPECT_EQ(t.read("/m/memory.current"), "0\n");
  EXPECT_EQ(t.field("/m/memory.events", "oom"), 1);
  EXPECT_EQ(t.field("/m/memory.events", "oom_kill"), 1);
  EXPECT_EQ(t.field("/m/memory.events", "max"), 0);
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_TRUE(t.host->cgroup_remove("/m", error)) << error;
}

// Charging costs no guest instruction: a workload runs the same with memory on and no limit.
TEST(ContainerMemory, NoLimit_SameInstructionsAsWithoutTheController) {
  HostCounters plain, charged;
  for (int with_memory = 0; with_memory < 2; ++with_memory) {
    MemHost t;
    std::string error;
    if (with_memory) {
      ASSERT_TRUE(t.host->cgroup_create("/w", error)) << error;
      ASSERT_EQ(t.refused("/cgroup.subtree_control", "+memory"), "");
    }
    int64_t charged_bytes = 0;  // the opt-in CgroupCharge events of /w, summed
    size_t charges = 0;
    if (with_memory)
      t.host->log().subscribe(trace::KindSet::of({EventKind::CgroupCharge}), [&](const trace::Event& e) {
        EXPECT_EQ(e.arg[0], 2u);
        if (e.arg[1] != 1) charged_bytes += int64_t(e.arg[2]), ++charges;
      });
    const uint32_t pid = t.spawn({"pagefault", "300"});
    if (with_memory) {
      ASSERT_TRUE(t.host->cgroup_move(pid, "/w", error)) << error;
    }
    EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
    EXPECT_EQ(t.host->exit_status(pid), 0) << t.console;
    (with_memory ? charged : plain) = t.host->counters();
    if (with_memory) {
      EXPECT_GE(t.field("/w/memory.stat", "pgfault"), 300);
      EXPECT_GE(std::stoll(t.read("/w/memory.peak")), int64_t(300 * kPage));
      EXPECT_EQ(t.read("/w/memory.current"), "0\n");  // everything given back at exit
      EXPECT_GE(charges, 600u);                         // 300 pages in, 300 out, at least
      EXPECT_EQ(charged_bytes, 0);
    }
  }
  EXPECT_EQ(plain.instructions, charged.instructions);
  EXPECT_EQ(plain.page_faults, charged.page_faults);
  EXPECT_EQ(plain.frames_peak, charged.frames_peak);
}

// The same run twice: the same kills, the same console, the same instruction count.
TEST(ContainerMemory, Determinism_SameRunSameKillsAndCounts) {
  std::string first_out;
  uint64_t first_insns = 0;
  std::vector<trace::Event> first_events;
  for (int run = 0; run < 2; ++run) {
    MemHost t;
    const std::string out = t.run_guest("oom", 15) + t.console;
    if (run == 0) {
      first_out = out, first_insns = t.host->counters().instructions, first_events = t.events;
      continue;
    }
    EXPECT_EQ(out, first_out);
    EXPECT_EQ(t.host->counters().instructions, first_insns);
    ASSERT_EQ(t.events.size(), first_events.size());
    for (size_t i = 0; i < t.events.size(); ++i) {
      EXPECT_EQ(t.events[i].when.icount, first_events[i].when.icount);
      for (int a = 0; a < 4; ++a) EXPECT_EQ(t.events[i].arg[a], first_events[i].arg[a]);
    }
  }
}

}  // namespace
}  // namespace vs::container_sim

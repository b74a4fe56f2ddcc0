// cgroup v2 under container-sim (SEMANTICS.md Part 1b §2.1, §2.4;
// checklist items 12, 22 and the populated/rmdir half of 23), observed from
// inside by the guest program cg_v2 (tests/container/guest/cg_v2.c), and
// from the host API the CLI will use (ContainerHost::cgroup_*), with the
// CgroupLimit event. No comparison with the host's Linux: the program
// would need root there and would change the host's own hierarchy.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host_helpers.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {
namespace {

using trace::EventKind;

constexpr uint64_t kBudget = 2'000'000'000;

// Runs /bin/cg_v2 SUB with /sys/fs/cgroup to mount on; the console, and checks "0 failures".
std::string run_cg(TestHost& t, const std::string& sub, size_t min_oks) {
  std::string error;
  EXPECT_TRUE(t.host->add_directory("/sys/fs/cgroup", error)) << error;
  EXPECT_TRUE(t.host->add_file("/bin/cg_v2", read_bytes(VS_CT_CG_V2), error)) << error;
  return t.run_checks({"cg_v2", sub}, min_oks, kBudget);
}

TEST(ContainerCgroup, PidsMaxReached_ForkFailsWithEagainAndEventCounts) {  // item 12
  TestHost t;
  std::vector<trace::Event> hits;
  t.host->log().subscribe(trace::KindSet::of({EventKind::CgroupLimit}),
                          [&](const trace::Event& e) { hits.push_back(e); });
  const std::string out = run_cg(t, "pids", 18);
  EXPECT_TRUE(has_line(out, "fork at pids.current == pids.max fails with EAGAIN")) << out;
  EXPECT_TRUE(has_line(out, "pids.events max is 1")) << out;
  EXPECT_TRUE(has_line(out, "... and pushes pids.current (3) above pids.max (2)")) << out;
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].arg[0], 3u);  // pids
  EXPECT_NE(hits[0].arg[1], 1u);  // p, not the root (id 1)
  EXPECT_EQ(hits[0].arg[2], 2u);  // the limit
  EXPECT_EQ(hits[0].arg[3], 1u);  // cg_v2, PID 1
}

TEST(ContainerCgroup, AncestorLimit_StopsForkBelowAndCountsInTheAncestor) {  // item 12
  TestHost t;
  const std::string out = run_cg(t, "ancestor", 8);
  EXPECT_TRUE(has_line(out, "fork in a/b fails with EAGAIN: a's limit is reached")) << out;
  EXPECT_TRUE(has_line(out, "a/b/pids.events max 0 (its own limit was not the one hit)")) << out;
}

TEST(ContainerCgroup, SubtreeControl_TopDownNoInternalProcessesPopulated) {  // items 22, 23
  TestHost t;
  const std::string out = run_cg(t, "tree", 26);
  EXPECT_TRUE(has_line(out, "+memory in a fails (ENOENT) unless the root enabled it")) << out;
  EXPECT_TRUE(has_line(out, "+memory in a while a has a process: EBUSY (no internal processes)")) << out;
  EXPECT_TRUE(has_line(out, "populated flips to 0 in a/b and a")) << out;
  EXPECT_TRUE(has_line(out, "rmdir of populated a/b: EBUSY")) << out;
}

TEST(ContainerCgroup, OnlyZombies_NotPopulatedAndRemovable) {  // §2.1
  TestHost t;
  const std::string out = run_cg(t, "zombie", 5);
  EXPECT_TRUE(has_line(out, "rmdir of z, holding only a zombie, works")) << out;
  EXPECT_TRUE(has_line(out, "the zombie's /proc/PID/cgroup says (deleted)")) << out;
}

TEST(ContainerCgroup, BadValues_GetLinuxErrors) {
  TestHost t;
  const std::string out = run_cg(t, "bad", 18);
  EXPECT_TRUE(has_line(out, "pids.max \"abc\": EINVAL")) << out;
}

// The host's side (the CLI's run --pids-max and stats): the same files.
TEST(ContainerCgroup, HostAccess_CreateMoveReadWriteAndLimitAFork) {
  TestHost t;
  std::string error, text;
  ASSERT_TRUE(t.host->cgroup_create("/web", error)) << error;
  EXPECT_FALSE(t.host->cgroup_create("/web", error));
  EXPECT_EQ(error, "/web: File exists");
  EXPECT_FALSE(t.host->cgroup_write("/web/pids.max", "2", error));  // the root does not enable pids yet
  EXPECT_EQ(error, "/web/pids.max: No such file or directory");
  ASSERT_TRUE(t.host->cgroup_write("/cgroup.subtree_control", "+pids", error)) << error;
  EXPECT_FALSE(t.host->cgroup_write("/web/pids.max", "abc", error));
  EXPECT_EQ(error, "/web/pids.max: Invalid argument");
  ASSERT_TRUE(t.host->cgroup_write("/web/pids.max", "1", error)) << error;
  ASSERT_TRUE(t.host->cgroup_read("/web/pids.max", text, error)) << error;
  EXPECT_EQ(text, "1\n");

  // `fork 3` moved into /web before it runs: its first fork hits pids.max 1.
  std::vector<trace::Event> hits;
  t.host->log().subscribe(trace::KindSet::of({EventKind::CgroupLimit}),
                          [&](const trace::Event& e) { hits.push_back(e); });
  const uint32_t pid = t.spawn({"fork", "3"});
  ASSERT_TRUE(t.host->cgroup_move(pid, "/web", error)) << error;
  ASSERT_TRUE(t.host->cgroup_read("/web/cgroup.procs", text, error)) << error;
  EXPECT_EQ(text, std::to_string(pid) + "\n");
  ASSERT_TRUE(t.host->cgroup_read("/cgroup.procs", text, error)) << error;
  EXPECT_EQ(text, "");
  ASSERT_TRUE(t.host->cgroup_read("/web/cgroup.events", text, error)) << error;
  EXPECT_EQ(text, "populated 1\nfrozen 0\n");
  EXPECT_EQ(t.host->processes().at(0).cgroup, "/web");
  EXPECT_FALSE(t.host->cgroup_remove("/web", error));
  EXPECT_EQ(error, "/web: Device or resource busy");

  t.host->run(kBudget);
  ASSERT_TRUE(t.host->exit_status(pid).has_value()) << t.console;
  EXPECT_NE(*t.host->exit_status(pid), 0) << t.console;  // the workload reports its failed fork
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].arg[0], 3u);
  EXPECT_EQ(hits[0].arg[2], 1u);
  EXPECT_EQ(hits[0].arg[3], pid);
  ASSERT_TRUE(t.host->cgroup_read("/web/pids.events", text, error)) << error;
  EXPECT_EQ(text, "max 1\n");
  ASSERT_TRUE(t.host->cgroup_read("/web/cgroup.events", text, error)) << error;
  EXPECT_EQ(text, "populated 0\nfrozen 0\n");
  ASSERT_TRUE(t.host->cgroup_read("/web/pids.current", text, error)) << error;
  EXPECT_EQ(text, "0\n");
  EXPECT_TRUE(t.host->cgroup_remove("/web", error)) << error;
  EXPECT_FALSE(t.host->cgroup_read("/web/pids.max", text, error));
}

TEST(ContainerCgroup, HostMoveOfUnknownPid_Esrch) {
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->cgroup_create("/a", error)) << error;
  EXPECT_FALSE(t.host->cgroup_move(4242, "/a", error));
  EXPECT_EQ(error, "/a/cgroup.procs: No such process");
}

}  // namespace
}  // namespace vs::container_sim

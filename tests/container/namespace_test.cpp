// Namespaces under container-sim (SEMANTICS.md Part 1, checklist items 1-8,
// 10, 11), observed from inside by the guest programs ns_pid and ns_view
// (tests/container/guest), and from the host API where that is the natural
// observer (NamespaceCreate and ProcessExit events, ProcessInfo::uid). The
// same ELF files also run as ordinary i386 processes on this Linux host
// when it lets them make namespaces, and their output must be the same.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "host_helpers.h"
#include "subprocess.h"
#include "virtscope/trace/event.h"

namespace vs::container_sim {
namespace {

using trace::EventKind;

constexpr uint64_t kBudget = 4'000'000'000;

struct GuestRun {
  std::string out;
  std::optional<int> status;  // wait status
};

// Runs /bin/PROGRAM SUB under container-sim in `t`.
GuestRun run_sim(TestHost& t, const std::string& program, const std::string& sub) {
  std::string error;
  const std::string elf = program == "ns_pid" ? VS_CT_NS_PID : VS_CT_NS_VIEW;
  EXPECT_TRUE(t.host->add_file("/bin/" + program, read_bytes(elf), error)) << error;
  const uint32_t pid = t.spawn({program, sub});
  const HostStop stop = t.host->run(kBudget);
  std::string ps;
  for (const ProcessInfo& p : t.host->processes())
    ps += std::to_string(p.pid) + " ppid " + std::to_string(p.ppid) + " " + p.name + " " + p.state + "\n";
  EXPECT_EQ(stop, HostStop::AllExited) << t.console << "still there:\n" << ps;
  return GuestRun{t.console, t.host->exit_status(pid)};
}

GuestRun run_sim(const std::string& program, const std::string& sub) {
  TestHost t;
  return run_sim(t, program, sub);
}

void expect_all_ok(const GuestRun& r, size_t min_oks) { expect_checks_passed(r.out, r.status, min_oks); }

bool has_line(const GuestRun& r, const std::string& line) { return r.out.find(line + "\n") != std::string::npos; }

// --- checklist items, from inside -------------------------------------------------

TEST(ContainerNamespaces, CloneNewPid_ChildIsPid1WithParent0) {  // item 1
  const GuestRun r = run_sim("ns_pid", "pid1");
  expect_all_ok(r, 3);
  EXPECT_TRUE(has_line(r, "ok child of CLONE_NEWPID: getpid() is 1")) << r.out;
  EXPECT_TRUE(has_line(r, "ok child of CLONE_NEWPID: getppid() is 0")) << r.out;
}

TEST(ContainerNamespaces, Depth2_ThreePidsAncestorsKillByTheirPid) {  // item 2
  const GuestRun r = run_sim("ns_pid", "levels");
  expect_all_ok(r, 5);
  EXPECT_TRUE(has_line(r, "ok a process at depth 2 has 3 PIDs (NSpid), the last 1")) << r.out;
  EXPECT_TRUE(has_line(r, "ok level 2 cannot name any process of the levels above (kill(pid, 0) is ESRCH)"));
}

TEST(ContainerNamespaces, Nesting_StopsAt32WithEnospc) {  // item 2
  const GuestRun r = run_sim("ns_pid", "depth");
  expect_all_ok(r, 1);
  EXPECT_TRUE(has_line(r, "depth: 32 nested PID namespaces")) << r.out;
}

TEST(ContainerNamespaces, UnshareNewPid_CallerStaysNextChildIs1ThenEnomem) {  // item 3
  const GuestRun r = run_sim("ns_pid", "unshare");
  expect_all_ok(r, 4);
  EXPECT_TRUE(has_line(r, "ok after that init exited, fork() fails with ENOMEM")) << r.out;
}

TEST(ContainerNamespaces, Orphan_AdoptedAndReapedByNamespaceInit) {  // item 4
  const GuestRun r = run_sim("ns_pid", "reparent");
  expect_all_ok(r, 4);
}

TEST(ContainerNamespaces, InitExits_MembersGetSigkill) {  // item 5
  TestHost t;
  std::vector<trace::Event> exits;
  t.host->log().subscribe(trace::KindSet::of({EventKind::ProcessExit}),
                          [&](const trace::Event& e) { exits.push_back(e); });
  const GuestRun r = run_sim(t, "ns_pid", "initdeath");
  expect_all_ok(r, 2);
  // From the host: the two members ended by signal 9, after init's exit.
  size_t init_exit = exits.size(), killed = 0;
  for (size_t i = 0; i < exits.size(); ++i) {
    if (exits[i].arg[1] == 0 && init_exit == exits.size() && exits[i].arg[0] != 1) init_exit = i;
    if (exits[i].arg[1] == 9) killed += i > init_exit;
  }
  EXPECT_EQ(killed, 2u);
}

TEST(ContainerNamespaces, InitSignals_ProtectedUnlessHandledSigkillFromParent) {  // item 6
  const GuestRun r = run_sim("ns_pid", "initsignal");
  expect_all_ok(r, 6);
  EXPECT_TRUE(has_line(r, "ok with a handler, SIGTERM from inside is delivered")) << r.out;
}

TEST(ContainerNamespaces, NewPidThread_EinvalAndFreshProcShowsOnlyTheNamespace) {  // item 7
  const GuestRun r = run_sim("ns_pid", "proc");
  expect_all_ok(r, 4);
  EXPECT_TRUE(has_line(r, "/proc lists: 1 2 3")) << r.out;
}

TEST(ContainerNamespaces, Uts_HostnameChangesOnlyInside) {  // item 8
  const GuestRun r = run_sim("ns_view", "uts");
  expect_all_ok(r, 3);
}

TEST(ContainerNamespaces, Setns_ProcNsDescriptorsJoinUtsAndChildPidNamespace) {
  const GuestRun r = run_sim("ns_view", "setns");
  expect_all_ok(r, 9);
}

TEST(ContainerNamespaces, Ipc_KeysInvisibleInAnotherNamespace) {  // item 8
  const GuestRun r = run_sim("ns_view", "ipc");
  expect_all_ok(r, 5);
}

TEST(ContainerNamespaces, User_UnmappedIs65534ThenMappedOnce) {  // item 10
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->add_file("/bin/ns_view", read_bytes(VS_CT_NS_VIEW), error)) << error;
  const uint32_t pid = t.spawn({"ns_view", "user"});
  // The host's view: a process whose uid is 1000 shows up once the map is written.
  bool saw_1000 = false;
  HostStop stop = HostStop::Budget;
  for (int i = 0; i < 20000 && stop == HostStop::Budget; ++i) {
    stop = t.host->run(20'000);
    for (const ProcessInfo& p : t.host->processes()) saw_1000 |= p.uid == 1000 && p.state != 'Z';
  }
  EXPECT_EQ(stop, HostStop::AllExited);
  EXPECT_TRUE(saw_1000);
  expect_all_ok(GuestRun{t.console, t.host->exit_status(pid)}, 9);
}

TEST(ContainerNamespaces, PivotRoot_EinvalCasesAndCwdKept) {  // item 11
  const GuestRun r = run_sim("ns_view", "pivot");
  expect_all_ok(r, 13);
}

TEST(ContainerNamespaces, Chroot_CwdOutsideLetsTheProcessWalkOut) {  // item 11
  const GuestRun r = run_sim("ns_view", "chroot");
  expect_all_ok(r, 7);
}

TEST(ContainerNamespaces, CloneWithChildStack_ChildRunsOnItAndParentTidSet) {
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->add_file("/bin/clone_stack", read_bytes(VS_CT_CLONE_STACK), error)) << error;
  const uint32_t pid = t.spawn({"clone_stack"});
  EXPECT_EQ(t.host->run(kBudget), HostStop::AllExited);
  EXPECT_EQ(t.host->exit_status(pid), 42 << 8) << "43: wrong stack, 99: parent_tid not written";
}

TEST(ContainerNamespaces, CloneWithChildStack_SameOnLinux) {
  const test::ProcessResult native = test::run_process(VS_CT_CLONE_STACK, {}, "", std::vector<std::string>{}, 60);
  if (native.exec_errno != 0) GTEST_SKIP() << "this host cannot run i386 programs";
  EXPECT_EQ(native.status, 42);
}

// --- the host's view: events -------------------------------------------------------

TEST(ContainerNamespaces, Events_OnePerNamespaceUserFirst) {
  TestHost t;
  std::vector<trace::Event> made;
  t.host->log().subscribe(trace::KindSet::of({EventKind::NamespaceCreate}),
                          [&](const trace::Event& e) { made.push_back(e); });
  const GuestRun r = run_sim(t, "ns_view", "uts");
  expect_all_ok(r, 3);
  // ns_view's probe: clone(NEWUTS|NEWNS|NEWIPC|NEWUSER) -> user (the owner) first,
  // then Linux's order mnt, uts, ipc; then the uts test's clone(NEWUTS).
  ASSERT_EQ(made.size(), 5u);
  const uint64_t types[] = {0x10000000, 0x00020000, 0x04000000, 0x08000000, 0x04000000};
  std::set<uint64_t> ids;
  for (size_t i = 0; i < made.size(); ++i) {
    EXPECT_EQ(made[i].arg[0], types[i]) << i;
    EXPECT_EQ(made[i].arg[2], 1u) << i;  // the creator: ns_view, PID 1
    EXPECT_EQ(made[i].arg[3], 0u) << i;  // clone
    EXPECT_GT(made[i].arg[1], 0xF0000000u);
    ids.insert(made[i].arg[1]);
  }
  EXPECT_EQ(ids.size(), made.size());  // every namespace its own id
}

TEST(ContainerNamespaces, Events_UnshareIsCause1) {
  TestHost t;
  std::vector<trace::Event> made;
  t.host->log().subscribe(trace::KindSet::of({EventKind::NamespaceCreate}),
                          [&](const trace::Event& e) { made.push_back(e); });
  expect_all_ok(run_sim(t, "ns_pid", "unshare"), 4);
  ASSERT_EQ(made.size(), 2u);  // the probe's clone, then unshare(CLONE_NEWPID)
  EXPECT_EQ(made[1].arg[0], 0x20000000u);
  EXPECT_EQ(made[1].arg[3], 1u);
}

// --- the same programs on the host Linux --------------------------------------------

struct NativeCase {
  const char* program;
  const char* sub;
};

class ContainerNamespacesNative : public ::testing::TestWithParam<NativeCase> {};

TEST_P(ContainerNamespacesNative, SameOutputAsLinux) {
  const NativeCase c = GetParam();
  const std::string elf = std::strcmp(c.program, "ns_pid") == 0 ? VS_CT_NS_PID : VS_CT_NS_VIEW;
  const GuestRun sim = run_sim(c.program, c.sub);
  if (const std::string why = expect_same_output_as_linux(elf, {c.sub}, sim.out); !why.empty()) GTEST_SKIP() << why;
}

INSTANTIATE_TEST_SUITE_P(Checklist, ContainerNamespacesNative,
                         ::testing::Values(NativeCase{"ns_pid", "pid1"}, NativeCase{"ns_pid", "levels"},
                                           NativeCase{"ns_pid", "unshare"}, NativeCase{"ns_pid", "reparent"},
                                           NativeCase{"ns_pid", "initdeath"}, NativeCase{"ns_pid", "initsignal"},
                                           NativeCase{"ns_pid", "proc"}, NativeCase{"ns_view", "uts"}, NativeCase{"ns_view", "setns"},
                                           NativeCase{"ns_view", "ipc"}, NativeCase{"ns_view", "user"},
                                           NativeCase{"ns_view", "pivot"}, NativeCase{"ns_view", "chroot"}),
                         [](const ::testing::TestParamInfo<NativeCase>& i) {
                           return std::string(i.param.program) + "_" + i.param.sub;
                         });

// The host's own nesting limit counts from wherever this test runs (a
// sandbox may already be some levels deep), so only the error is compared.
TEST(ContainerNamespacesNativeDepth, NestingStopsWithEnospcOnLinuxToo) {
  const test::ProcessResult native = test::run_process(VS_CT_NS_PID, {"depth"}, "", std::vector<std::string>{}, 60);
  if (native.exec_errno != 0) GTEST_SKIP() << "this host cannot run i386 programs";
  if (native.status == 77) GTEST_SKIP() << "the host forbids it: " << native.out;
  EXPECT_NE(native.out.find("ok nesting stops with ENOSPC\n"), std::string::npos) << native.out;
  std::cout << "[ native ] " << native.out;
}

}  // namespace
}  // namespace vs::container_sim

// compare's measuring core (vmm::run_workload) and the cost model: the
// native row of a workload is its real run, deterministic; modes that are
// not built say so; costs change only through valid assignments.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "virtscope/vmm/compare.h"
#include "virtscope/vmm/cost_model.h"
#include "workloads.h"

namespace vs::vmm {
namespace {


TEST(Compare, ModeNames_RoundTripAndUnknownIsRefused) {
  for (const ModeInfo& m : all_modes()) {
    ASSERT_TRUE(mode_from_name(m.name)) << m.name;
    EXPECT_EQ(*mode_from_name(m.name), m.mode);
    EXPECT_STREQ(mode_name(m.mode), m.name);
  }
  EXPECT_EQ(all_modes().size(), 8u);
  EXPECT_FALSE(mode_from_name("vmware"));
}

TEST(Compare, NativeRow_IsTheWorkloadsRealRunAndRepeatsExactly) {
  const CostModel costs;
  const ModeResult a = run_workload(Mode::Native, workload({"pagefault", "50"}), costs);
  ASSERT_TRUE(a.ran()) << a.unavailable;
  EXPECT_EQ(a.stop, MachineStop::GuestExit);
  EXPECT_EQ(a.exit_status, 1);  // pid 1 exited 0: (0 << 1) | 1
  EXPECT_EQ(a.console.substr(0, 30), "pagefault: 50 pages touched, s");
  EXPECT_GE(a.guest_page_faults, 50u);  // one per fresh page, plus the program's own
  EXPECT_GE(a.syscalls, 3u);            // mmap2, write, exit_group at least
  EXPECT_EQ(a.total_exits(), 0u);       // no VMM
  EXPECT_EQ(a.hypercalls, 0u);
  EXPECT_EQ(a.modelled_cycles, a.instructions * costs.cycles("instruction"));

  const ModeResult b = run_workload(Mode::Native, workload({"pagefault", "50"}), costs);
  EXPECT_EQ(b.instructions, a.instructions);
  EXPECT_EQ(b.guest_page_faults, a.guest_page_faults);
  EXPECT_EQ(b.syscalls, a.syscalls);
  EXPECT_EQ(b.console, a.console);

  // More pages, more faults: the counter follows the workload.
  const ModeResult c = run_workload(Mode::Native, workload({"pagefault", "100"}), costs);
  EXPECT_EQ(c.guest_page_faults - a.guest_page_faults, 50u);
}

TEST(Compare, SyscallWorkload_CountsEachGetpid) {
  const ModeResult r = run_workload(Mode::Native, workload({"syscall", "300"}), CostModel());
  ASSERT_TRUE(r.ran());
  const ModeResult s = run_workload(Mode::Native, workload({"syscall", "100"}), CostModel());
  EXPECT_EQ(r.syscalls - s.syscalls, 200u);
}

TEST(Compare, ModesNotBuiltYet_AreUnavailableWithAReason) {
  for (Mode m : {Mode::Kvm, Mode::Container}) {
    const ModeResult r = run_workload(m, workload({"hello"}), CostModel());
    EXPECT_FALSE(r.ran()) << mode_name(m);
    EXPECT_NE(r.unavailable.find("not built yet"), std::string::npos) << r.unavailable;
  }
}

TEST(Compare, MissingKernel_IsUnavailableNotACrash) {
  Workload w = workload({"hello"});
  w.kernel = "/nonexistent/kernel.elf";
  const ModeResult r = run_workload(Mode::Native, w, CostModel());
  EXPECT_FALSE(r.ran());
  EXPECT_FALSE(r.unavailable.empty());
}

TEST(CostModel, EveryDefaultHasASourceAndAssignmentsAreChecked) {
  CostModel costs;
  for (const CostEntry& e : costs.entries()) {
    EXPECT_FALSE(e.source.empty()) << e.name;
    EXPECT_FALSE(e.what.empty()) << e.name;
  }
  EXPECT_EQ(costs.cycles("hw_exit"), 1360u);
  EXPECT_EQ(costs.set("hw_exit=2000"), "");
  EXPECT_EQ(costs.cycles("hw_exit"), 2000u);
  EXPECT_NE(costs.set("hw_exit"), "");
  EXPECT_NE(costs.set("no_such_cost=5"), "");
  EXPECT_NE(costs.set("hw_exit=-1"), "");
  EXPECT_NE(costs.set("hw_exit=12x"), "");
  EXPECT_NE(costs.set("hw_exit=99999999999"), "");
  EXPECT_EQ(costs.cycles("hw_exit"), 2000u);  // failed assignments changed nothing
}

TEST(CostModel, FileIsAllOrNothingWithTheLineOfTheError) {
  const std::string path = ::testing::TempDir() + "virtscope_costs_" + std::to_string(::getpid());
  {
    std::ofstream f(path);
    f << "# costs for a lesson\nhypercall = 500\n\ntrap=100  # cheaper traps\n";
  }
  CostModel costs;
  EXPECT_EQ(costs.load(path), "");
  EXPECT_EQ(costs.cycles("hypercall"), 500u);
  EXPECT_EQ(costs.cycles("trap"), 100u);
  {
    std::ofstream f(path);
    f << "hypercall = 7\nbogus = 3\n";
  }
  const std::string why = costs.load(path);
  EXPECT_NE(why.find(":2: unknown cost 'bogus'"), std::string::npos) << why;
  EXPECT_EQ(costs.cycles("hypercall"), 500u);  // line 1 was not applied
  EXPECT_NE(costs.load(path + ".missing"), "");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace vs::vmm

// compare's measuring core (vmm::run_workload) and the cost model: the
// native row of a workload is its real run, deterministic; modes that are
// not built say so; costs change only through valid assignments.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "virtscope/vmm/compare.h"
#include "virtscope/trace/event.h"
#include "virtscope/vmm/cost_model.h"
#include "virtscope/vmm/machine.h"
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

TEST(Compare, ModesThatCannotRunHere_AreUnavailableWithAReason) {
  // vmm cannot run container mode itself (container-sim links vmm, not the
  // other way round): it says where that row comes from.
  const ModeResult container = run_workload(Mode::Container, workload({"hello"}), CostModel());
  EXPECT_FALSE(container.ran());
  EXPECT_NE(container.unavailable.find("container_sim::run_workload"), std::string::npos) << container.unavailable;
  // kvm runs where the host's KVM runs 32-bit code natively; elsewhere the
  // row says why (kvm_pvm here, or no /dev/kvm).
  const ModeResult kvm = run_workload(Mode::Kvm, workload({"hello"}), CostModel());
  if (!kvm.ran()) EXPECT_NE(kvm.unavailable.find("kvm mode: "), std::string::npos) << kvm.unavailable;
  else EXPECT_EQ(kvm.console, "hello, world\n");
}

TEST(Compare, MissingKernel_IsUnavailableNotACrash) {
  Workload w = workload({"hello"});
  w.kernel = "/nonexistent/kernel.elf";
  const ModeResult r = run_workload(Mode::Native, w, CostModel());
  EXPECT_FALSE(r.ran());
  EXPECT_FALSE(r.unavailable.empty());
}

TEST(CostModel, ExitsAreCostedByReasonWithHwExitForTheRest) {
  CostModel costs;
  EXPECT_EQ(costs.exit_cycles("IO_INSTRUCTION"), costs.cycles("hw_exit.IO_INSTRUCTION"));
  EXPECT_NE(costs.exit_cycles("IO_INSTRUCTION"), costs.cycles("hw_exit"));
  EXPECT_EQ(costs.exit_cycles("CPUID"), costs.cycles("hw_exit"));
  EXPECT_EQ(costs.set("hw_exit.CPUID=777"), "");  // any reason can get its own cost
  EXPECT_EQ(costs.exit_cycles("CPUID"), 777u);
  EXPECT_NE(costs.set("hw_exit.cpuid=1"), "");    // reasons are VT-x names
  EXPECT_NE(costs.set("hw_exit.=1"), "");
  // The hvm row follows the per-reason costs.
  const Workload w = workload({"write", "5"});
  const ModeResult a = run_workload(Mode::Hvm, w, CostModel());
  CostModel cheap_io;
  ASSERT_EQ(cheap_io.set("hw_exit.IO_INSTRUCTION=0"), "");
  const ModeResult b = run_workload(Mode::Hvm, w, cheap_io);
  EXPECT_EQ(a.modelled_cycles - b.modelled_cycles,
            a.exits.at("IO_INSTRUCTION") * CostModel().exit_cycles("IO_INSTRUCTION"));
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

namespace vs::vmm {
namespace {

// Bare-metal (type 1) against hosted (type 2): the same guest, the same
// exits; each I/O request takes one more hop, to the host kernel and a
// user-space device model, and the cost model charges it.
TEST(Compare, HostedVmmChargesEachIoRequestTheHopToUserSpace) {
  const CostModel costs;
  Workload w = workload({"write", "20"});
  const ModeResult bare = run_workload(Mode::Hvm, w, costs);
  w.hosted = true;
  const ModeResult hosted = run_workload(Mode::Hvm, w, costs);
  ASSERT_TRUE(bare.ran() && hosted.ran());
  EXPECT_EQ(hosted.console, bare.console);
  EXPECT_EQ(hosted.exits, bare.exits);
  EXPECT_EQ(bare.io_path, 1);
  EXPECT_EQ(hosted.io_path, 2);
  // Every IN/OUT exit is one request to the device model.
  EXPECT_EQ(hosted.io_requests, hosted.exits.at("IO_INSTRUCTION"));
  EXPECT_EQ(hosted.modelled_cycles - bare.modelled_cycles, hosted.io_requests * costs.cycles("hw_exit_to_user"));
  // pv is a bare-metal design: --hosted leaves it as it is.
  const ModeResult pv = run_workload(Mode::Pv, w, costs);
  ASSERT_TRUE(pv.ran()) << pv.unavailable;
  EXPECT_EQ(pv.io_path, 1);
  EXPECT_GT(pv.io_requests, 0u);  // the console ring's notifications
  EXPECT_LT(pv.io_requests * 20, hosted.io_requests);
}

TEST(Compare, IoRequestEventsRecordThePath) {
  for (bool hosted : {false, true}) {
    MachineConfig c;
    c.kernel = VS_KERNEL;
    c.initrd = {VS_INITRD};
    c.append = "run=hello";
    c.debug_exit = true;
    c.vmm = MachineConfig::Vmm::Bt;
    c.hosted = hosted;
    std::string error;
    auto m = Machine::create(c, error);
    ASSERT_TRUE(m) << error;
    uint64_t requests = 0, on_path = 0;
    m->log().subscribe(trace::KindSet::of({trace::EventKind::IoRequest}), [&](const trace::Event& e) {
      ++requests;
      if (e.arg[3] == (hosted ? 2u : 1u)) ++on_path;
    });
    ASSERT_EQ(m->run(500'000'000), MachineStop::GuestExit);
    EXPECT_GT(requests, 100u);
    EXPECT_EQ(on_path, requests);
    EXPECT_EQ(m->trap_stats()->io_requests, requests);
  }
  MachineConfig native;
  native.kernel = VS_KERNEL;
  native.hosted = true;  // a bare PC has no VMM to host
  std::string error;
  EXPECT_FALSE(Machine::create(native, error));
  EXPECT_NE(error.find("--hosted"), std::string::npos) << error;
}

}  // namespace
}  // namespace vs::vmm

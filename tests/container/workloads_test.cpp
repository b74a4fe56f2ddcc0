// Every guest/user workload under container-sim shows the guest exactly what
// the teaching kernel shows it (DESIGN.md §5): the same console output, exit
// status, system calls and user page faults, with the teaching kernel on the
// bare emulated PC (vmm::Mode::Native) as the reference.
#include <gtest/gtest.h>

#include "../vmm/workloads.h"
#include "virtscope/container_sim/compare.h"

namespace vs::container_sim {
namespace {

class ContainerWorkloads : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(ContainerWorkloads, Workload_SameGuestViewAsTeachingKernel) {
  const vmm::Workload w = vmm::workload(GetParam());
  const vmm::CostModel costs;
  const vmm::ModeResult native = vmm::run_workload(vmm::Mode::Native, w, costs);
  ASSERT_TRUE(native.ran()) << native.unavailable;
  ASSERT_EQ(native.stop, vmm::MachineStop::GuestExit);
  const vmm::ModeResult r = run_workload(w, costs);
  vmm::expect_same_guest_view(native, r);
  EXPECT_EQ(r.mode, vmm::Mode::Container);
  // No guest kernel: only the workload's own instructions are emulated.
  EXPECT_GT(r.instructions, 0u);
  EXPECT_LT(r.instructions, native.instructions);
}

INSTANTIATE_TEST_SUITE_P(Every, ContainerWorkloads, vmm::kEveryWorkload,
                         [](const auto& info) { return info.param[0]; });

TEST(ContainerCompare, MissingProgram_IsUnavailableWithReason) {
  const vmm::ModeResult r = run_workload(vmm::workload({"no-such-program"}), vmm::CostModel());
  EXPECT_FALSE(r.ran());
  EXPECT_NE(r.unavailable.find("/bin/no-such-program: no such file"), std::string::npos) << r.unavailable;
}

TEST(ContainerCompare, BadUsage_ExitStatusTwoLikeNative) {
  const vmm::Workload w = vmm::workload({"cpu"});  // no N: usage line on stderr, exit 2
  const vmm::ModeResult native = vmm::run_workload(vmm::Mode::Native, w, vmm::CostModel());
  const vmm::ModeResult r = run_workload(w, vmm::CostModel());
  vmm::expect_same_guest_view(native, r);
  EXPECT_EQ(r.exit_status, (2 << 1) | 1);
}

TEST(ContainerCompare, ModelledCycles_ChargeTheSharedKernelPerCallAndFault) {
  // User instructions at CPI 1, plus kernel_syscall per call and
  // kernel_page_fault per fault, plus container_intercept on each of both.
  const vmm::Workload w = vmm::workload({"pagefault", "20"});
  vmm::CostModel costs;
  const vmm::ModeResult r = run_workload(w, costs);
  ASSERT_TRUE(r.ran()) << r.unavailable;
  ASSERT_GT(r.syscalls, 0u);
  ASSERT_GE(r.guest_page_faults, 20u);
  EXPECT_EQ(r.modelled_cycles, r.instructions + r.syscalls * 87 + r.guest_page_faults * 383);
  ASSERT_EQ(costs.set("container_intercept=1000"), "");
  const vmm::ModeResult gvisor_like = run_workload(w, costs);
  EXPECT_EQ(gvisor_like.modelled_cycles, r.modelled_cycles + (r.syscalls + r.guest_page_faults) * 1000);
}

}  // namespace
}  // namespace vs::container_sim

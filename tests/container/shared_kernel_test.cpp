// One kernel for every container (docs/container-sim.md "One kernel for
// all"): when it panics, every process of every container stops with it.
// The VM side of the contrast — a guest kernel's crash ends only its own VM —
// is MultiVm.AKernelCrashInOneVmLeavesTheOtherRunning (tests/vmm).
#include "host_helpers.h"

namespace vs::container_sim {
namespace {

TEST(SharedKernel, RootWritingSysrqC_PanicsTheKernelAndStopsEveryProcess) {
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->add_file("/bin/sysrq", read_bytes(VS_CT_SYSRQ), error)) << error;
  const uint32_t a = t.spawn({"cpu", "30000000"});
  const uint32_t b = t.spawn({"cpu", "30000000"});
  const uint32_t crasher = t.spawn({"sysrq"});
  ASSERT_TRUE(a && b && crasher);
  EXPECT_EQ(t.host->run(2'000'000'000), HostStop::Panic);
  EXPECT_NE(t.host->panic_reason().find("sysrq triggered crash"), std::string::npos) << t.host->panic_reason();
  EXPECT_NE(t.console.find("sysrq: Trigger a crash\nKernel panic - not syncing: sysrq triggered crash"),
            std::string::npos)
      << t.console;
  EXPECT_EQ(t.console.find("still running"), std::string::npos) << t.console;
  // Nobody finished, nobody exited: the machine is dead, not the processes killed one by one.
  for (uint32_t pid : {a, b, crasher}) EXPECT_FALSE(t.host->exit_status(pid).has_value()) << pid;
  const uint64_t at_panic = t.host->counters().instructions;
  EXPECT_LT(at_panic, 2u * 30'000'000u);  // the two cpu loops were cut short
  EXPECT_EQ(t.host->run(1'000'000), HostStop::Panic);
  EXPECT_EQ(t.host->counters().instructions, at_panic);  // nothing runs again
}

TEST(SharedKernel, UnprivilegedWriter_IsRefusedAndTheOthersFinish) {
  TestHost t;
  std::string error;
  ASSERT_TRUE(t.host->add_file("/bin/sysrq", read_bytes(VS_CT_SYSRQ), error)) << error;
  const uint32_t a = t.spawn({"cpu", "1000"});
  const uint32_t crasher = t.spawn({"sysrq", "drop"});
  EXPECT_EQ(t.host->run(2'000'000'000), HostStop::AllExited);
  EXPECT_TRUE(t.host->panic_reason().empty());
  EXPECT_NE(t.console.find("open /proc/sysrq-trigger: EACCES"), std::string::npos) << t.console;
  EXPECT_EQ(t.host->exit_status(a), 0);
  EXPECT_EQ(t.host->exit_status(crasher), 0);
}

}  // namespace
}  // namespace vs::container_sim

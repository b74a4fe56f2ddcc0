// The paravirtual mode (vmm/src/pv, docs/modes/pv.md): the pv build of the
// teaching kernel under virtscope's small Xen. Every workload behaves as
// natively; system calls reach the guest kernel without the VMM; page
// faults pass through it; page-table updates are batched and validated;
// console output crosses a ring with few notifications.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "virtscope/trace/event.h"
#include "virtscope/vmm/compare.h"
#include "virtscope/vmm/machine.h"
#include "virtscope/vmm/pv_abi.h"
#include "workloads.h"

namespace vs::vmm {
namespace {

MachineConfig pv_config(const char* append) { return vm_config(MachineConfig::Vmm::Pv, append); }

class PvMode : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(PvMode, SameConsoleAndExitStatusAsNativeWithNoShadowAtAll) {
  const CostModel costs;
  const ModeResult native = run_workload(Mode::Native, workload(GetParam()), costs);
  const ModeResult pv = run_workload(Mode::Pv, workload(GetParam()), costs);
  expect_same_guest_view(native, pv);
  // The guest's tables are the real ones: nothing hidden, nothing to sync.
  EXPECT_EQ(pv.hidden_page_faults, 0u);
  EXPECT_EQ(pv.shadow_syncs, 0u);
  EXPECT_GT(pv.hypercalls, 0u);
}

INSTANTIATE_TEST_SUITE_P(Workloads, PvMode, kEveryWorkload);

TEST(PvMode, SystemCallsReachTheGuestKernelWithoutTheVmm) {
  const ModeResult few = run_workload(Mode::Pv, workload({"syscall", "100"}), CostModel());
  const ModeResult many = run_workload(Mode::Pv, workload({"syscall", "1000"}), CostModel());
  ASSERT_TRUE(few.ran() && many.ran()) << few.unavailable << many.unavailable;
  EXPECT_EQ(many.syscalls - few.syscalls, 900u);
  // 900 more int $0x80 through the real gate: no exit and no hypercall
  // each (a timer tick may fall in the longer run).
  EXPECT_LE(many.total_exits() - few.total_exits(), 2u);
  EXPECT_LE(many.hypercalls - few.hypercalls, 2u);
  EXPECT_EQ(many.exit_count("SOFTWARE_INTERRUPT"), 0u);
}

TEST(PvMode, PageFaultsPassThroughTheVmmOnceEach) {
  const ModeResult a = run_workload(Mode::Pv, workload({"pagefault", "100"}), CostModel());
  const ModeResult b = run_workload(Mode::Pv, workload({"pagefault", "200"}), CostModel());
  ASSERT_TRUE(a.ran() && b.ran());
  EXPECT_EQ(b.exit_count("EXCEPTION_NMI") - a.exit_count("EXCEPTION_NMI"), 100u);
  EXPECT_EQ(b.guest_page_faults - a.guest_page_faults, 100u);
  EXPECT_EQ(b.hidden_page_faults, 0u);
}

TEST(PvMode, ConsoleOutputNeedsFarFewerVmmTransitionsThanHvmExits) {
  const ModeResult hvm = run_workload(Mode::Hvm, workload({"write", "200"}), CostModel());
  const ModeResult pv = run_workload(Mode::Pv, workload({"write", "200"}), CostModel());
  ASSERT_TRUE(hvm.ran() && pv.ran());
  EXPECT_EQ(pv.console, hvm.console);
  EXPECT_GE(hvm.exit_count("IO_INSTRUCTION"), 200u);  // at least one OUT per byte written
  EXPECT_LT((pv.total_exits() + pv.hypercalls) * 20, hvm.total_exits());
}

// The disk over the block ring: one request and one notification per
// 4 KiB read, where the ATA driver under hvm makes 256 port reads a sector.
TEST(PvMode, DiskReadsAreRingRequestsNotPortIo) {
  const ModeResult hvm = run_workload(Mode::Hvm, workload({"disk", "128"}), CostModel());
  const ModeResult pv = run_workload(Mode::Pv, workload({"disk", "128"}), CostModel());
  ASSERT_TRUE(hvm.ran() && pv.ran());
  uint32_t hash = 2166136261u;
  const std::vector<uint8_t> image = compare_disk_image();
  for (size_t i = 0; i < 128 * 512; ++i) hash = (hash ^ image[i]) * 16777619u;
  char expected[64];
  std::snprintf(expected, sizeof expected, "disk: 128 sectors, checksum 0x%08x\n", hash);
  EXPECT_EQ(pv.console, expected);
  EXPECT_EQ(hvm.console, expected);
  EXPECT_GE(hvm.exit_count("IO_INSTRUCTION"), 128u * 256);
  // 16 block requests (8 sectors each) plus the console's notifications.
  EXPECT_GE(pv.io_requests, 16u);
  EXPECT_LT(pv.io_requests, 24u);
  EXPECT_LT(pv.hypercalls, 150u);
}

TEST(PvMode, PageTableUpdatesAreBatchedAndValidated) {
  std::string error;
  auto m = Machine::create(pv_config("run=fork 10"), error);
  ASSERT_TRUE(m) << error;
  uint64_t rejected = 0, batches = 0, batched_entries = 0;
  m->log().subscribe(trace::KindSet::of({trace::EventKind::Hypercall}), [&](const trace::Event& e) {
    if (int64_t(e.arg[3]) < 0) ++rejected;
    // mmu_update(requests, count): fork copies a child's pages in lazy MMU
    // mode, so each copy is one call carrying all its entries.
    if (e.arg[0] == PV_HC_mmu_update && e.arg[2] >= 5) ++batches, batched_entries += e.arg[2];
  });
  ASSERT_EQ(m->run(500'000'000), MachineStop::GuestExit) << (m->unsupported() ? m->unsupported() : "");
  EXPECT_EQ(m->exit_status(), 1);
  EXPECT_EQ(rejected, 0u);
  EXPECT_EQ(batches, 10u);  // one per child
  EXPECT_GE(batched_entries, 50u);
  const TrapStats* t = m->trap_stats();
  ASSERT_NE(t, nullptr);
  EXPECT_GT(t->pte_updates, t->hypercalls.at(PV_HC_mmu_update) + t->hypercalls.at(PV_HC_update_va_mapping));
  EXPECT_GT(t->hypercalls.at(PV_HC_mmuext_op), 20u);  // pins, unpins and CR3 switches
  EXPECT_EQ(t->hidden_page_faults, 0u);
}

TEST(PvMode, EventsShowHypercallsAndUpcalls) {
  std::string error;
  auto m = Machine::create(pv_config("run=cpu 300000"), error);
  ASSERT_TRUE(m) << error;
  uint64_t hypercalls = 0, upcalls = 0, syscall_exits = 0;
  m->log().subscribe(trace::KindSet::of({trace::EventKind::Hypercall, trace::EventKind::VirtualInterrupt,
                                         trace::EventKind::VmExit}),
                     [&](const trace::Event& e) {
                       if (e.kind == trace::EventKind::Hypercall) ++hypercalls;
                       if (e.kind == trace::EventKind::VirtualInterrupt && e.arg[0] == 0x30) ++upcalls;
                       if (e.kind == trace::EventKind::VmExit && e.arg[1] == 0x80) ++syscall_exits;
                     });
  ASSERT_EQ(m->run(500'000'000), MachineStop::GuestExit);
  EXPECT_EQ(hypercalls, m->trap_stats()->total_hypercalls());
  EXPECT_EQ(upcalls, m->trap_stats()->upcalls);
  EXPECT_GT(upcalls, 3u);  // the timer's ticks, as events
  EXPECT_EQ(syscall_exits, 0u);
  EXPECT_EQ(m->cpu().state().cpl, 1);  // the kernel powered off from ring 1
}

TEST(PvMode, FiguresRepeatExactly) {
  const ModeResult a = run_workload(Mode::Pv, workload({"fork", "4"}), CostModel());
  const ModeResult b = run_workload(Mode::Pv, workload({"fork", "4"}), CostModel());
  ASSERT_TRUE(a.ran());
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.exits, b.exits);
  EXPECT_EQ(a.hypercalls, b.hypercalls);
  EXPECT_EQ(a.modelled_cycles, b.modelled_cycles);
}

TEST(PvMode, ShellSessionOverTheRingConsoleMatchesNative) {
  auto run = [](MachineConfig c, int& status) {
    c.append = "";
    std::string console;
    c.serial_out[0] = [&console](uint8_t b) { console.push_back(char(b)); };
    std::string error;
    auto m = Machine::create(c, error);
    EXPECT_TRUE(m) << error;
    if (!m) return console;
    m->queue_serial_input("hello\ncpu 500\nexit 3\n");
    EXPECT_EQ(m->run(600'000'000), MachineStop::GuestExit);
    status = m->exit_status();
    return console;
  };
  MachineConfig native = pv_config("");
  native.kernel = VS_KERNEL;
  native.vmm = MachineConfig::Vmm::None;
  int native_status = 0, pv_status = 0;
  const std::string expected = run(native, native_status);
  EXPECT_NE(expected.find("cpu: 500 iterations"), std::string::npos) << expected;
  EXPECT_EQ(run(pv_config(""), pv_status), expected);
  EXPECT_EQ(pv_status, 7);
}

TEST(PvMode, TheNativeKernelIsRefusedWithAReason) {
  MachineConfig c = pv_config("run=hello");
  c.kernel = VS_KERNEL;
  std::string error;
  auto m = Machine::create(c, error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->run(50'000'000), MachineStop::Unsupported);
  ASSERT_NE(m->unsupported(), nullptr);
  EXPECT_NE(std::string(m->unsupported()).find("vs_kernel_pv.elf"), std::string::npos) << m->unsupported();
}

}  // namespace
}  // namespace vs::vmm

// The trap-and-emulate VMM (vmm/src/trap): the unmodified teaching kernel at
// ring 1, every workload printing exactly what it prints natively, and the
// traps a student should expect, counted.
#include <gtest/gtest.h>

#include <string>

#include "virtscope/trace/event.h"
#include "virtscope/vmm/compare.h"
#include "virtscope/vmm/machine.h"

namespace vs::vmm {
namespace {

Workload workload(std::vector<std::string> argv) {
  Workload w;
  w.kernel = VS_KERNEL;
  w.initrd = VS_INITRD;
  w.argv = std::move(argv);
  return w;
}

uint64_t exits(const ModeResult& r, const char* reason) {
  const auto it = r.exits.find(reason);
  return it == r.exits.end() ? 0 : it->second;
}

class TrapMode : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(TrapMode, SameConsoleAndExitStatusAsNative) {
  const CostModel costs;
  const ModeResult native = run_workload(Mode::Native, workload(GetParam()), costs);
  const ModeResult trap = run_workload(Mode::Trap, workload(GetParam()), costs);
  ASSERT_TRUE(trap.ran()) << trap.unavailable;
  EXPECT_EQ(trap.stop, MachineStop::GuestExit);
  EXPECT_EQ(trap.console, native.console);
  EXPECT_EQ(trap.exit_status, native.exit_status);
  // The guest sees the same system calls and the same page faults of its
  // own; the shadow's faults are the VMM's, hidden from it.
  EXPECT_EQ(trap.syscalls, native.syscalls);
  EXPECT_EQ(trap.guest_page_faults, native.guest_page_faults);
  EXPECT_GT(trap.hidden_page_faults, 0u);
  EXPECT_GT(trap.modelled_cycles, native.modelled_cycles);
}

INSTANTIATE_TEST_SUITE_P(Workloads, TrapMode,
                         ::testing::Values(std::vector<std::string>{"hello"},
                                           std::vector<std::string>{"cpu", "20000"},
                                           std::vector<std::string>{"syscall", "100"},
                                           std::vector<std::string>{"write", "20"},
                                           std::vector<std::string>{"fork", "5"},
                                           std::vector<std::string>{"pagefault", "40"},
                                           std::vector<std::string>{"mmap", "10"},
                                           std::vector<std::string>{"pipe", "10"}));

TEST(TrapMode, PrivilegedInstructionsOfTheKernelTrapAndAreCounted) {
  const ModeResult r = run_workload(Mode::Trap, workload({"syscall", "100"}), CostModel());
  ASSERT_TRUE(r.ran()) << r.unavailable;
  EXPECT_GT(exits(r, "IO_INSTRUCTION"), 0u);    // the console's UART, the PIC, the PIT
  EXPECT_EQ(exits(r, "GDTR_IDTR_ACCESS"), 2u);  // LGDT, LIDT at boot
  EXPECT_EQ(exits(r, "LDTR_TR_ACCESS"), 1u);    // LTR
  EXPECT_GE(exits(r, "CR_ACCESS"), 3u);         // CR3 and CR0 to turn paging on, CR3 per switch
  EXPECT_GE(exits(r, "CLI"), 1u);
  // Every int 0x80 reaches the VMM first, and is reflected into the guest.
  EXPECT_EQ(exits(r, "SOFTWARE_INTERRUPT"), r.syscalls);
  const ModeResult more = run_workload(Mode::Trap, workload({"syscall", "300"}), CostModel());
  EXPECT_EQ(more.syscalls - r.syscalls, 200u);
}

TEST(TrapMode, FiguresRepeatExactly) {
  const ModeResult a = run_workload(Mode::Trap, workload({"pipe", "5"}), CostModel());
  const ModeResult b = run_workload(Mode::Trap, workload({"pipe", "5"}), CostModel());
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.exits, b.exits);
  EXPECT_EQ(a.hidden_page_faults, b.hidden_page_faults);
  EXPECT_EQ(a.modelled_cycles, b.modelled_cycles);
}

TEST(TrapMode, EventsNameTheExitsAndTheReflections) {
  MachineConfig c;
  c.ram_bytes = 64u << 20;
  c.kernel = VS_KERNEL;
  c.initrd = {VS_INITRD};
  c.append = "run=hello";
  c.debug_exit = true;
  c.vmm = MachineConfig::Vmm::Trap;
  std::string error;
  auto m = Machine::create(c, error);
  ASSERT_TRUE(m) << error;
  uint64_t vm_exits = 0, virtual_interrupts = 0, shadow_syncs = 0, stamped = 0, events = 0;
  m->log().subscribe(trace::KindSet::of({trace::EventKind::VmExit, trace::EventKind::VirtualInterrupt,
                                         trace::EventKind::ShadowSync}),
                     [&](const trace::Event& e) {
                       ++events;
                       if (e.vm == 1) ++stamped;
                       if (e.kind == trace::EventKind::VmExit) ++vm_exits;
                       if (e.kind == trace::EventKind::VirtualInterrupt) ++virtual_interrupts;
                       if (e.kind == trace::EventKind::ShadowSync) ++shadow_syncs;
                     });
  EXPECT_EQ(m->run(400'000'000), MachineStop::GuestExit) << (m->unsupported() ? m->unsupported() : "");
  ASSERT_NE(m->trap_stats(), nullptr);
  EXPECT_GT(vm_exits, 0u);
  EXPECT_EQ(virtual_interrupts, m->trap_stats()->reflected);
  EXPECT_EQ(shadow_syncs, m->trap_stats()->shadow_syncs);
  EXPECT_EQ(stamped, events);  // every VMM event carries the VM's number
  std::string why;
  EXPECT_FALSE(m->save(::testing::TempDir() + "trap.vss", why));
  EXPECT_NE(why.find("not supported"), std::string::npos);
}

}  // namespace
}  // namespace vs::vmm

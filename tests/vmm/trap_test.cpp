// The software VMMs (vmm/src/trap): the unmodified teaching kernel at ring 1.
// Under plain trap-and-emulate it goes wrong, deterministically, where the
// lesson says it must: its pushf/cli ... popf idiom loses the virtual IF, so
// the timer tick its boot-time delay calibration waits for never comes.
// Under binary translation (bt) and under simulated VT-x with nested paging
// (hvm) the same kernel runs every workload exactly as it does natively.
#include <gtest/gtest.h>

#include <string>

#include "virtscope/trace/event.h"
#include "virtscope/vmm/compare.h"
#include "virtscope/vmm/machine.h"
#include "workloads.h"

namespace vs::vmm {
namespace {


TEST(TrapMode, NativeKernelHangsBecausePopfLosesTheVirtualIf) {
  MachineConfig c = vm_config(MachineConfig::Vmm::Trap, "run=hello");
  std::string console;
  c.serial_out[0] = [&console](uint8_t b) { console.push_back(char(b)); };
  std::string error;
  auto m = Machine::create(c, error);
  ASSERT_TRUE(m) << error;
  // Natively hello needs about 2 million instructions; this never gets there.
  EXPECT_EQ(m->run(30'000'000), MachineStop::Budget);
  EXPECT_EQ(console.substr(console.find('\n') + 1), "");  // the banner, then nothing
  const TrapStats* t = m->trap_stats();
  ASSERT_NE(t, nullptr);
  auto exits = [t](ExitReason r) {
    const auto it = t->exits.find(r);
    return it == t->exits.end() ? uint64_t(0) : it->second;
  };
  // The kernel ran its privileged set-up through the VMM...
  EXPECT_EQ(exits(ExitReason::GdtrIdtrAccess), 2u);  // LGDT, LIDT
  EXPECT_EQ(exits(ExitReason::LdtrTrAccess), 1u);    // LTR
  EXPECT_GE(exits(ExitReason::CrAccess), 3u);
  EXPECT_GT(exits(ExitReason::IoInstruction), 0u);
  // ...then STI (trapped: virtual IF on), CLI (trapped: off), and POPF,
  // which at ring 1 neither traps nor restores IF: no tick is delivered.
  EXPECT_EQ(exits(ExitReason::Sti), 1u);
  EXPECT_EQ(exits(ExitReason::Popf), 0u);
  EXPECT_EQ(exits(ExitReason::ExternalInterrupt), 0u);
  // The real IF is set (the VMM keeps it so), the virtual IF is clear, and
  // the guest kernel is at ring 1.
  ASSERT_TRUE(m->virtual_cpu());
  EXPECT_FALSE(m->virtual_cpu()->interrupts_enabled);
  EXPECT_TRUE(m->virtual_cpu()->interrupt_pending);  // the tick it waits for, held back
  EXPECT_TRUE(m->cpu().state().eflags & cpu::flag::IF);
  EXPECT_EQ(m->cpu().state().cpl, 1);
}


class BtMode : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(BtMode, SameConsoleAndExitStatusAsNative) {
  const CostModel costs;
  const ModeResult native = run_workload(Mode::Native, workload(GetParam()), costs);
  const ModeResult bt = run_workload(Mode::Bt, workload(GetParam()), costs);
  expect_same_guest_view(native, bt);
  // The shadow's faults are the VMM's, hidden from the guest.
  EXPECT_GT(bt.hidden_page_faults, 0u);
  EXPECT_GT(bt.modelled_cycles, native.modelled_cycles);
}

INSTANTIATE_TEST_SUITE_P(Workloads, BtMode,
                         kEveryWorkload);

TEST(BtMode, SensitiveInstructionsCallTheVmmInsteadOfMisbehaving) {
  const ModeResult r = run_workload(Mode::Bt, workload({"syscall", "100"}), CostModel());
  ASSERT_TRUE(r.ran()) << r.unavailable;
  EXPECT_GE(r.exit_count("POPF"), 1u);   // the calibration's restore, now seen
  EXPECT_GE(r.exit_count("PUSHF"), 1u);
  EXPECT_GE(r.exit_count("IRET"), 1u);   // every return to user mode
  EXPECT_GE(r.exit_count("EXTERNAL_INTERRUPT"), 1u);  // the tick the calibration waits for
  EXPECT_GT(r.exit_count("IO_INSTRUCTION"), 0u);
  // Every int 0x80 reaches the VMM first, and is reflected into the guest.
  EXPECT_EQ(r.exit_count("SOFTWARE_INTERRUPT"), r.syscalls);
  const ModeResult more = run_workload(Mode::Bt, workload({"syscall", "300"}), CostModel());
  EXPECT_EQ(more.syscalls - r.syscalls, 200u);
  EXPECT_EQ(more.exit_count("IRET") - r.exit_count("IRET"), 200u);  // one return per system call
}

TEST(BtMode, GuestPageTableWritesAreCaughtAndSynced) {
  // Each page the workload touches makes the guest kernel store a PTE into a
  // page table the shadow was built from: write-protected, so it traps, and
  // the VMM re-syncs the shadow (ShadowSync cause 1).
  auto run = [](const char* append, uint64_t& cause1) {
    std::string error;
    auto m = Machine::create(vm_config(MachineConfig::Vmm::Bt, append), error);
    EXPECT_TRUE(m) << error;
    cause1 = 0;
    m->log().subscribe(trace::KindSet::of({trace::EventKind::ShadowSync}), [&](const trace::Event& e) {
      if (e.arg[3] == 1) ++cause1;
    });
    EXPECT_EQ(m->run(400'000'000), MachineStop::GuestExit);
    return m->trap_stats()->traced_writes;
  };
  uint64_t few_syncs = 0, many_syncs = 0;
  const uint64_t few = run("run=pagefault 20", few_syncs);
  const uint64_t many = run("run=pagefault 120", many_syncs);
  EXPECT_GE(many - few, 100u);  // at least one per extra page
  EXPECT_EQ(few_syncs, few);
  EXPECT_EQ(many_syncs, many);
}

TEST(BtMode, FiguresRepeatExactly) {
  const ModeResult a = run_workload(Mode::Bt, workload({"pipe", "5"}), CostModel());
  const ModeResult b = run_workload(Mode::Bt, workload({"pipe", "5"}), CostModel());
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.exits, b.exits);
  EXPECT_EQ(a.hidden_page_faults, b.hidden_page_faults);
  EXPECT_EQ(a.modelled_cycles, b.modelled_cycles);
}

TEST(BtMode, EventsNameTheExitsAndTheReflections) {
  std::string error;
  auto m = Machine::create(vm_config(MachineConfig::Vmm::Bt, "run=hello"), error);
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
  const TrapStats* t = m->trap_stats();
  ASSERT_NE(t, nullptr);
  EXPECT_GT(vm_exits, 0u);
  EXPECT_GT(t->translation_sites, 0u);
  EXPECT_GT(t->translated, t->translation_sites);
  EXPECT_GT(t->callouts, 0u);
  EXPECT_EQ(virtual_interrupts, t->reflected);
  EXPECT_EQ(shadow_syncs, t->shadow_syncs);
  EXPECT_EQ(stamped, events);  // every VMM event carries the VM's number
  std::string why;
  EXPECT_FALSE(m->save(::testing::TempDir() + "bt.vss", why));
  EXPECT_NE(why.find("not supported"), std::string::npos);
}

class HvmMode : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(HvmMode, SameConsoleAndExitStatusAsNativeWithOnlyTheExitsAskedFor) {
  const CostModel costs;
  const ModeResult native = run_workload(Mode::Native, workload(GetParam()), costs);
  const ModeResult hvm = run_workload(Mode::Hvm, workload(GetParam()), costs);
  expect_same_guest_view(native, hvm);
  // The kernel runs at ring 0 with its own IDT and page tables: its system
  // calls and page faults never leave the guest, and nested paging leaves
  // the VMM no shadow to fill or sync.
  EXPECT_EQ(hvm.hidden_page_faults, 0u);
  EXPECT_EQ(hvm.shadow_syncs, 0u);
  EXPECT_EQ(hvm.exit_count("CLI") + hvm.exit_count("CR_ACCESS") + hvm.exit_count("SOFTWARE_INTERRUPT") +
                hvm.exit_count("EXCEPTION_NMI") + hvm.exit_count("GDTR_IDTR_ACCESS"),
            0u);
  EXPECT_GT(hvm.exit_count("IO_INSTRUCTION"), 0u);      // the VM's devices are the VMM's
  EXPECT_GE(hvm.exit_count("EXTERNAL_INTERRUPT"), 1u);  // the tick the calibration waits for
  EXPECT_EQ(hvm.total_exits(), hvm.exit_count("IO_INSTRUCTION") + hvm.exit_count("EXTERNAL_INTERRUPT") +
                                   hvm.exit_count("INTERRUPT_WINDOW") + hvm.exit_count("HLT") + hvm.exit_count("CPUID"));
}

INSTANTIATE_TEST_SUITE_P(Workloads, HvmMode,
                         kEveryWorkload);

// A CPU-bound loop exits for nothing but the timer: more iterations add
// only timer ticks (each with its EOI, and maybe an interrupt window), no
// exit per iteration.
TEST(HvmMode, ComputeExitsOnlyForTimerTicks) {
  const ModeResult shorter = run_workload(Mode::Hvm, workload({"cpu", "1000000"}), CostModel());
  const ModeResult longer = run_workload(Mode::Hvm, workload({"cpu", "3000000"}), CostModel());
  ASSERT_TRUE(shorter.ran() && longer.ran());
  const uint64_t more_exits = longer.total_exits() - shorter.total_exits();
  const uint64_t more_ticks = longer.exit_count("EXTERNAL_INTERRUPT") - shorter.exit_count("EXTERNAL_INTERRUPT");
  EXPECT_GE(more_ticks, 10u);  // 2 million more iterations: tens of 10 ms ticks
  // Each tick is an external-interrupt exit and the handler's EOI to the
  // PIC (one OUT); the output line is the same length in both runs.
  EXPECT_EQ(longer.exit_count("IO_INSTRUCTION") - shorter.exit_count("IO_INSTRUCTION"), more_ticks);
  EXPECT_EQ(more_exits, 2 * more_ticks + longer.exit_count("INTERRUPT_WINDOW") - shorter.exit_count("INTERRUPT_WINDOW"));
}

// Nested paging pays in its walks instead: every TLB miss reads nested
// entries too, and compare charges each (`nested_walk_ref`).
TEST(HvmMode, NestedWalkReferencesAreCountedAndCharged) {
  const ModeResult a = run_workload(Mode::Hvm, workload({"pagefault", "50"}), CostModel());
  const ModeResult b = run_workload(Mode::Hvm, workload({"pagefault", "200"}), CostModel());
  ASSERT_TRUE(a.ran() && b.ran());
  EXPECT_GT(a.nested_references, 1000u);
  EXPECT_GT(b.nested_references, a.nested_references);  // more pages, more misses, more references
  CostModel free_walks;
  ASSERT_EQ(free_walks.set("nested_walk_ref=0"), "");
  EXPECT_EQ(a.modelled_cycles - run_workload(Mode::Hvm, workload({"pagefault", "50"}), free_walks).modelled_cycles,
            a.nested_references * CostModel().cycles("nested_walk_ref"));
  EXPECT_EQ(run_workload(Mode::HvmShadow, workload({"pagefault", "50"}), CostModel()).nested_references, 0u);
}

TEST(HvmMode, PageFaultsCostNoExitUnderNestedPagingButTrapsUnderBt) {
  const ModeResult hvm = run_workload(Mode::Hvm, workload({"pagefault", "100"}), CostModel());
  const ModeResult bt = run_workload(Mode::Bt, workload({"pagefault", "100"}), CostModel());
  ASSERT_TRUE(hvm.ran() && bt.ran());
  EXPECT_EQ(hvm.guest_page_faults, bt.guest_page_faults);
  EXPECT_EQ(hvm.exit_count("EXCEPTION_NMI"), 0u);
  EXPECT_GE(bt.exit_count("EXCEPTION_NMI"), bt.guest_page_faults + bt.hidden_page_faults);
}

// The whole console, the kernel's own banner included: binary translation
// must not touch the kernel's data (its strings share an executable segment
// with its code), and the VMs' consoles take typed input like the bare PC's.
TEST(VmConsole, WholeConsoleAndTypedInputAreTheSameInEveryWorkingMode) {
  auto run = [](MachineConfig::Vmm vmm, int& status) {
    MachineConfig c = vm_config(vmm, "");  // no run=: the shell on the console
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
  int native_status = 0, bt_status = 0, hvm_status = 0;
  const std::string native = run(MachineConfig::Vmm::None, native_status);
  EXPECT_NE(native.find("hello, world"), std::string::npos) << native;
  EXPECT_NE(native.find("cpu: 500 iterations"), std::string::npos) << native;
  EXPECT_EQ(native_status, 7);  // (3 << 1) | 1
  EXPECT_EQ(run(MachineConfig::Vmm::Bt, bt_status), native);
  EXPECT_EQ(bt_status, 7);
  EXPECT_EQ(run(MachineConfig::Vmm::Hvm, hvm_status), native);
  EXPECT_EQ(hvm_status, 7);
}

}  // namespace
}  // namespace vs::vmm

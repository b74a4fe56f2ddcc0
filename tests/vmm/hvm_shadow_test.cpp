// hvm-shadow (vmm/src/hvm/hvm_shadow.cpp): simulated VT-x without nested
// paging, as KVM ran before EPT. The unmodified teaching kernel runs at
// ring 0 in non-root mode exactly as natively, but memory is the VMM's
// business again: CR3 loads, INVLPG, page faults and the guest's stores to
// its page tables exit, and the shadow is synced (SEMANTICS.md §9, checklist
// item 35), where nested paging (hvm) exits for none of them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "virtscope/trace/event.h"
#include "virtscope/vmm/compare.h"
#include "virtscope/vmm/machine.h"
#include "workloads.h"

namespace vs::vmm {
namespace {

ModeResult run(Mode mode, std::vector<std::string> argv) {
  ModeResult r = run_workload(mode, workload(std::move(argv)), CostModel());
  EXPECT_TRUE(r.ran()) << r.unavailable;
  EXPECT_EQ(r.stop, MachineStop::GuestExit) << mode_name(mode) << ": " << r.unavailable;
  return r;
}

class HvmShadowWorkload : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(HvmShadowWorkload, GuestSeesWhatItSeesNatively_WhileTheVmmFillsTheShadow) {
  const ModeResult native = run(Mode::Native, GetParam());
  const ModeResult shadow = run(Mode::HvmShadow, GetParam());
  // The guest's own view: its output, status, system calls and page faults
  // (the VMM tells its hidden faults from the guest's, and a call whose
  // delivery the shadow interrupted counts once).
  EXPECT_EQ(shadow.console, native.console);
  EXPECT_EQ(shadow.exit_status, native.exit_status);
  EXPECT_EQ(shadow.syscalls, native.syscalls);
  EXPECT_EQ(shadow.guest_page_faults, native.guest_page_faults);
  // The VMM's view: every page the guest touches costs a hidden fault first.
  EXPECT_GT(shadow.hidden_page_faults, 0u);
  EXPECT_GE(shadow.shadow_syncs, shadow.hidden_page_faults);
  EXPECT_GE(shadow.exit_count("EXCEPTION_NMI"), shadow.hidden_page_faults + shadow.guest_page_faults);
  EXPECT_EQ(shadow.exit_count("EPT_VIOLATION"), 0u);
  EXPECT_GT(shadow.modelled_cycles, native.modelled_cycles);
}

INSTANTIATE_TEST_SUITE_P(
    EveryWorkload, HvmShadowWorkload,
    ::testing::Values(std::vector<std::string>{"hello"}, std::vector<std::string>{"cpu", "30000"},
                      std::vector<std::string>{"syscall", "150"}, std::vector<std::string>{"write", "25"},
                      std::vector<std::string>{"fork", "6"}, std::vector<std::string>{"pagefault", "60"},
                      std::vector<std::string>{"mmap", "12"}, std::vector<std::string>{"pipe", "12"}));

TEST(HvmShadow, PagefaultN_SyncsTheShadowAtLeastNTimes_NestedPagingNever) {
  const ModeResult few = run(Mode::HvmShadow, {"pagefault", "100"});
  const ModeResult many = run(Mode::HvmShadow, {"pagefault", "300"});
  EXPECT_GE(few.shadow_syncs, 100u);
  EXPECT_GE(many.shadow_syncs, 300u);
  EXPECT_GE(many.shadow_syncs - few.shadow_syncs, 200u);  // at least one per extra page
  const ModeResult nested = run(Mode::Hvm, {"pagefault", "300"});
  EXPECT_EQ(nested.shadow_syncs, 0u);
  EXPECT_EQ(nested.hidden_page_faults, 0u);
  EXPECT_EQ(nested.exit_count("EXCEPTION_NMI"), 0u);
  EXPECT_EQ(nested.guest_page_faults, many.guest_page_faults);
  // Shadow paging costs more than nested paging for the same guest work.
  EXPECT_GT(many.modelled_cycles, nested.modelled_cycles);
}

// Each traced write is one guest store to a page-table page: a #PF exit, a
// single step, a #DB exit and a ShadowSync with cause 1.
TEST(HvmShadow, GuestPageTableWritesExitAndResyncTheShadow) {
  auto traced = [](const char* append, uint64_t& cause1, uint64_t& vm_exits, uint64_t& total_exits) {
    const MachineConfig c = vm_config(MachineConfig::Vmm::HvmShadow, append);
    std::string error;
    auto m = Machine::create(c, error);
    EXPECT_TRUE(m) << error;
    if (!m) return uint64_t(0);
    cause1 = vm_exits = total_exits = 0;
    m->log().subscribe(trace::KindSet::of({trace::EventKind::ShadowSync, trace::EventKind::VmExit}),
                       [&](const trace::Event& e) {
                         if (e.kind == trace::EventKind::VmExit) ++vm_exits;
                         else if (e.arg[3] == 1) ++cause1;
                       });
    EXPECT_EQ(m->run(400'000'000), MachineStop::GuestExit) << (m->unsupported() ? m->unsupported() : "");
    for (const auto& [reason, n] : m->trap_stats()->exits) total_exits += n;
    return m->trap_stats()->traced_writes;
  };
  uint64_t few_syncs = 0, many_syncs = 0, few_events = 0, many_events = 0, few_exits = 0, many_exits = 0;
  const uint64_t few = traced("run=pagefault 20", few_syncs, few_events, few_exits);
  const uint64_t many = traced("run=pagefault 120", many_syncs, many_events, many_exits);
  EXPECT_GE(many - few, 100u);  // at least one PTE store per extra page
  EXPECT_EQ(few_syncs, few);
  EXPECT_EQ(many_syncs, many);
  EXPECT_EQ(few_events, few_exits);  // every exit is a VmExit event
  EXPECT_EQ(many_events, many_exits);
}

TEST(HvmShadow, Cr3LoadsExitAndGrowWithFork_NotUnderNestedPaging) {
  const ModeResult two = run(Mode::HvmShadow, {"fork", "2"});
  const ModeResult ten = run(Mode::HvmShadow, {"fork", "10"});
  EXPECT_GT(two.exit_count("CR_ACCESS"), 0u);
  EXPECT_GE(ten.exit_count("CR_ACCESS"), two.exit_count("CR_ACCESS") + 8);  // a new address space per child
  EXPECT_EQ(run(Mode::Hvm, {"fork", "10"}).exit_count("CR_ACCESS"), 0u);
}

TEST(HvmShadow, InvlpgExits_NotUnderNestedPaging) {
  // pagefault N unmaps its N pages at the end: one INVLPG each.
  const ModeResult shadow = run(Mode::HvmShadow, {"pagefault", "80"});
  EXPECT_GE(shadow.exit_count("INVLPG"), 80u);
  EXPECT_EQ(run(Mode::Hvm, {"pagefault", "80"}).exit_count("INVLPG"), 0u);
}

TEST(HvmShadow, FiguresRepeatExactly) {
  const ModeResult a = run(Mode::HvmShadow, {"pipe", "5"});
  const ModeResult b = run(Mode::HvmShadow, {"pipe", "5"});
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.exits, b.exits);
  EXPECT_EQ(a.hidden_page_faults, b.hidden_page_faults);
  EXPECT_EQ(a.guest_page_faults, b.guest_page_faults);
  EXPECT_EQ(a.shadow_syncs, b.shadow_syncs);
  EXPECT_EQ(a.modelled_cycles, b.modelled_cycles);
  EXPECT_EQ(a.console, b.console);
}

// The teaching kernel never runs CPUID, so a Multiboot kernel of a few bytes
// does: an ELF32 whose one segment is the file itself, loaded at 1 MiB.
std::string cpuid_kernel() {
  const uint32_t load = 0x100000, code_at = 52 + 32 + 12;
  const uint8_t code[] = {
      0x0F, 0xA2,  // cpuid
      0x0F, 0xA2,  // cpuid
      0x0F, 0xA2,  // cpuid
      0xB0, 0x21,  // mov al, 0x21
      0xE6, 0xF4,  // out 0xF4, al  (isa-debug-exit)
      0xF4,        // hlt
  };
  std::vector<uint8_t> f(code_at + sizeof(code), 0);
  auto put16 = [&f](size_t at, uint16_t v) { std::memcpy(&f[at], &v, 2); };
  auto put32 = [&f](size_t at, uint32_t v) { std::memcpy(&f[at], &v, 4); };
  const uint8_t ident[] = {0x7F, 'E', 'L', 'F', 1, 1, 1};  // ELFCLASS32, little-endian, version 1
  std::memcpy(f.data(), ident, sizeof(ident));
  put16(16, 2);                // ET_EXEC
  put16(18, 3);                // EM_386
  put32(20, 1);                // EV_CURRENT
  put32(24, load + code_at);   // e_entry
  put32(28, 52);               // e_phoff
  put16(40, 52);               // e_ehsize
  put16(42, 32);               // e_phentsize
  put16(44, 1);                // e_phnum
  put32(52 + 0, 1);            // PT_LOAD
  put32(52 + 8, load);         // p_vaddr
  put32(52 + 12, load);        // p_paddr
  put32(52 + 16, uint32_t(f.size()));
  put32(52 + 20, uint32_t(f.size()));
  put32(52 + 24, 5);           // R X
  put32(84, 0x1BADB002);       // Multiboot header (spec §3.1): magic, flags 0, checksum
  put32(88, 0);
  put32(92, uint32_t(-0x1BADB002));
  std::memcpy(&f[code_at], code, sizeof(code));
  const std::string path = ::testing::TempDir() + "virtscope_cpuid_" + std::to_string(::getpid()) + ".elf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(f.data()), std::streamsize(f.size()));
  return path;
}

TEST(HvmShadow, CpuidAlwaysExits_UnderShadowAndNestedPaging) {
  const std::string kernel = cpuid_kernel();
  for (MachineConfig::Vmm vmm : {MachineConfig::Vmm::Hvm, MachineConfig::Vmm::HvmShadow}) {
    MachineConfig c;
    c.ram_bytes = 16u << 20;
    c.kernel = kernel;
    c.debug_exit = true;
    c.vmm = vmm;
    std::string error;
    auto m = Machine::create(c, error);
    ASSERT_TRUE(m) << error;
    ASSERT_EQ(m->run(1'000'000), MachineStop::GuestExit) << (m->unsupported() ? m->unsupported() : "");
    EXPECT_EQ(m->exit_status(), (0x21 << 1) | 1);
    const auto& exits = m->trap_stats()->exits;
    ASSERT_TRUE(exits.count(ExitReason::Cpuid));
    EXPECT_EQ(exits.at(ExitReason::Cpuid), 3u);
  }
  std::remove(kernel.c_str());
}

}  // namespace
}  // namespace vs::vmm

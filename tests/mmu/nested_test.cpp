// Nested paging (mmu/src/nested.cpp, docs/hvm-hardware.md): a guest's
// 32-bit paging over an EPT-like second stage that maps guest-physical g to
// host-physical g + 16 MiB. Both stages, the reference count of the
// two-dimensional walk, EPT violations, A/D bits through the nested map,
// flush_nested(), and the CPU turning a violation into a VM exit.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "virtscope/cpu/cpu.h"
#include "virtscope/cpu/state.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"

using namespace vs;
using namespace vs::mmu;
using cpu::Access;

namespace {

constexpr uint32_t kOffset = 16u << 20;      // host = guest-physical + 16 MiB
constexpr uint32_t kGuestSize = 8u << 20;    // guest-physical 0 .. 8 MiB is mapped
constexpr uint32_t kNested = 0x01800000;     // nested tables in host memory (24 MiB)
constexpr uint32_t kPml4 = kNested, kPdpt = kNested + 0x1000, kPd = kNested + 0x2000, kPts = kNested + 0x3000;
constexpr uint32_t kDir = 0x1000;            // guest page directory (guest-physical)
constexpr uint32_t kTables = 0x100000;       // guest page tables (guest-physical)
constexpr uint32_t kPg = cpu::cr0::PG | cpu::cr0::PE;
constexpr uint64_t kRwx = nested_entry::R | nested_entry::W | nested_entry::X;

struct Nested {
  cpu::FlatMemory host{32u << 20};
  trace::EventLog log;
  Mmu mmu{host, log};
  uint32_t cr0 = kPg, cr3 = kDir, cr4 = 0;

  void put(uint32_t at, uint32_t v) { std::memcpy(host.data() + at, &v, 4); }
  uint32_t get(uint32_t at) {
    uint32_t v;
    std::memcpy(&v, host.data() + at, 4);
    return v;
  }
  void put64(uint32_t at, uint64_t v) { std::memcpy(host.data() + at, &v, 8); }
  // Guest-physical memory, as the guest sees it.
  void gput(uint32_t gpa, uint32_t v) { put(gpa + kOffset, v); }
  uint32_t gget(uint32_t gpa) { return get(gpa + kOffset); }
  static uint32_t nested_pte_address(uint32_t gpa) { return kPts + (gpa >> 12) * 8; }

  Nested() {
    // One PML4E, one PDPTE, four PDEs (2 MiB each), four page tables: 8 MiB.
    put64(kPml4, kPdpt | kRwx);
    put64(kPdpt, kPd | kRwx);
    for (uint32_t i = 0; i < kGuestSize >> 21; ++i) put64(kPd + i * 8, (kPts + i * 0x1000) | kRwx);
    for (uint32_t g = 0; g < kGuestSize; g += 0x1000) put64(nested_pte_address(g), (g + kOffset) | kRwx);
    mmu.set_nested(NestedPaging{kPml4});
  }
  // Guest 4 KiB mapping lin -> gpa in the guest's own tables.
  void map(uint32_t lin, uint32_t gpa, uint32_t flags = entry::P | entry::RW) {
    const uint32_t table = kTables + (lin >> 22) * 0x1000;
    gput(kDir + (lin >> 22) * 4, table | entry::P | entry::RW);
    gput(table + ((lin >> 12) & 0x3FF) * 4, (gpa & entry::kFrame) | flags);
  }
  cpu::Translation tr(uint32_t lin, Access a = Access::Read) { return mmu.translate(lin, a, false, cr0, cr3, cr4); }
};

}  // namespace

TEST(Nested, GuestWithPagingOn_ReadsThroughBothStages) {
  Nested n;
  n.map(0x00400000, 0x5000);
  const cpu::Translation t = n.tr(0x00400123);
  ASSERT_FALSE(t.fault);
  ASSERT_FALSE(t.nested_fault);
  EXPECT_EQ(t.phys, 0x5123u + kOffset);
}

TEST(Nested, ColdMissWithTwoLevelGuestPaging_Costs14References) {
  Nested n;
  n.map(0x00400000, 0x5000);
  n.mmu.reset_stats();
  ASSERT_FALSE(n.tr(0x00400000).nested_fault);
  EXPECT_EQ(n.mmu.stats().walk_references, 14u);  // (2 + 1) * (4 + 1) - 1
  EXPECT_EQ(n.mmu.stats().nested_walks, 3u);       // PDE address, PTE address, the page
  EXPECT_EQ(n.mmu.stats().nested_walk_references, 12u);
  ASSERT_FALSE(n.tr(0x00400004).nested_fault);     // now a TLB hit: no reference at all
  EXPECT_EQ(n.mmu.stats().walk_references, 14u);

  // The side-effect-free walk lists both dimensions in order.
  std::vector<WalkReference> refs;
  const WalkResult w = n.mmu.walk(0x00400000, n.cr0, n.cr3, n.cr4, {}, refs);
  EXPECT_EQ(w.phys, 0x5000u + kOffset);
  ASSERT_EQ(refs.size(), 14u);
  for (unsigned i = 0; i < 14; ++i) {
    const bool guest_entry = i == 4 || i == 9;
    EXPECT_EQ(refs[i].kind, guest_entry ? WalkRefKind::GuestEntry : WalkRefKind::NestedEntry) << i;
  }
  EXPECT_EQ(refs[0].host_address, kPml4);
  EXPECT_EQ(refs[4].host_address, kDir + 4 + kOffset);  // the guest PDE, in host memory
}

TEST(Nested, GuestPagingOff_Costs4References) {
  Nested n;
  n.cr0 = cpu::cr0::PE;
  n.mmu.reset_stats();
  const cpu::Translation t = n.tr(0x7123);
  ASSERT_FALSE(t.nested_fault);
  EXPECT_EQ(t.phys, 0x7123u + kOffset);
  EXPECT_EQ(n.mmu.stats().walk_references, 4u);
  EXPECT_EQ(n.mmu.stats().nested_walks, 1u);
}

TEST(Nested, HoleInTheNestedTable_IsAnEptViolationNotAPageFault) {
  Nested n;
  n.map(0x00400000, 0x5000);
  n.put64(Nested::nested_pte_address(0x5000), 0);  // guest-physical page 0x5000 unmapped
  const cpu::Translation t = n.tr(0x00400123, Access::Write);
  EXPECT_FALSE(t.fault);
  ASSERT_TRUE(t.nested_fault);
  EXPECT_EQ(t.phys, 0x5123u);
  EXPECT_EQ(t.error_code, cpu::exit_qual::kEptWrite | cpu::exit_qual::kEptFinalPage);
  EXPECT_EQ(n.mmu.stats().page_faults, 0u);
  EXPECT_EQ(n.mmu.stats().nested_faults, 1u);

  // A hole under the guest's page table: the violation is at the PTE's
  // guest-physical address, and not on the final page.
  n.put64(Nested::nested_pte_address(kTables + 0x1000), 0);  // the table of directory slot 1
  const cpu::Translation u = n.tr(0x00400000);
  ASSERT_TRUE(u.nested_fault);
  EXPECT_EQ(u.phys, kTables + 0x1000);  // PTE 0 of that table
  EXPECT_EQ(u.error_code, cpu::exit_qual::kEptRead);
}

TEST(Nested, ReadOnlyNestedPage_AllowsReadsAndRefusesWrites) {
  Nested n;
  n.map(0x00400000, 0x5000);
  n.put64(Nested::nested_pte_address(0x5000), (0x5000 + kOffset) | nested_entry::R);
  EXPECT_FALSE(n.tr(0x00400000).nested_fault);
  const cpu::Translation t = n.tr(0x00400000, Access::Write);  // through the TLB entry, then a re-walk
  ASSERT_TRUE(t.nested_fault);
  EXPECT_EQ(t.error_code,
            cpu::exit_qual::kEptWrite | cpu::exit_qual::kEptReadable | cpu::exit_qual::kEptFinalPage);
}

TEST(Nested, GuestPageFault_StaysAGuestPageFault) {
  Nested n;
  n.map(0x00400000, 0x5000, 0);  // guest PTE not present
  const cpu::Translation t = n.tr(0x00400000);
  EXPECT_TRUE(t.fault);
  EXPECT_FALSE(t.nested_fault);
}

TEST(Nested, AccessedAndDirtyBits_AreSetInTheGuestTablesInHostMemory) {
  Nested n;
  n.map(0x00400000, 0x5000);
  ASSERT_FALSE(n.tr(0x00400000, Access::Write).nested_fault);
  EXPECT_TRUE(n.gget(kDir + 4) & entry::A);
  const uint32_t pte = n.gget(kTables + 0x1000);
  EXPECT_TRUE(pte & entry::A);
  EXPECT_TRUE(pte & entry::D);
  EXPECT_EQ(n.get(kDir + 4), 0u);  // nothing written at the untranslated address
}

TEST(Nested, FlushNested_DropsCombinedTranslations) {
  Nested n;
  n.map(0x00400000, 0x5000);
  EXPECT_EQ(n.tr(0x00400000).phys, 0x5000u + kOffset);
  n.put64(Nested::nested_pte_address(0x5000), 0x00A00000 | kRwx);  // the VMM moves the page
  EXPECT_EQ(n.tr(0x00400000).phys, 0x5000u + kOffset);            // still cached
  n.mmu.flush_nested();
  EXPECT_EQ(n.tr(0x00400000).phys, 0x00A00000u);
  EXPECT_EQ(n.mmu.stats().nested_flushes, 1u);
}

// The CPU in non-root mode with nested paging: a guest with paging off reads
// guest-physical memory through the nested map, and an access to a hole
// exits with EPT_VIOLATION, the instruction not executed and no #PF.
TEST(Nested, CpuInNonRootMode_TurnsAViolationIntoAVmExit) {
  Nested n;
  cpu::NullIo io;
  cpu::Cpu c(n.host, io, n.log);
  c.set_translator(&n.mmu);
  n.gput(0x7000, 0xCAFEF00D);
  n.put64(Nested::nested_pte_address(0x9000), 0);
  // mov eax, [0x7000]; mov ebx, [0x9000]; hlt
  const uint8_t code[] = {0xA1, 0x00, 0x70, 0x00, 0x00, 0x8B, 0x1D, 0x00, 0x90, 0x00, 0x00, 0xF4};
  std::memcpy(n.host.data() + kOffset + 0x2000, code, sizeof code);
  cpu::CpuState s = c.state();
  cpu::enter_flat_protected_mode(s, 0x2000);
  c.set_state(s);
  cpu::VmxControls vc;
  vc.nested_paging = true;
  c.enter_non_root(vc);
  ASSERT_EQ(c.run(10), cpu::RunStop::VmExit);
  EXPECT_EQ(c.state().gpr[cpu::EAX], 0xCAFEF00Du);
  EXPECT_EQ(c.state().eip, 0x2005u);  // at the faulting MOV
  const cpu::VmExit& e = c.last_vm_exit();
  EXPECT_EQ(e.reason, cpu::VmxExitReason::EptViolation);
  EXPECT_EQ(e.guest_physical, 0x9000u);
  EXPECT_EQ(e.guest_linear, 0x9000u);
  EXPECT_EQ(e.qualification & 7, cpu::exit_qual::kEptRead);
  EXPECT_EQ(c.state().cr2, 0u);
  // The VMM maps the page and resumes: the instruction now completes.
  n.put64(Nested::nested_pte_address(0x9000), (0x9000 + kOffset) | kRwx);
  n.gput(0x9000, 77);
  n.mmu.flush_nested();
  c.flush_tlb();
  EXPECT_EQ(c.run(10), cpu::RunStop::Halted);
  EXPECT_EQ(c.state().gpr[cpu::EBX], 77u);
}

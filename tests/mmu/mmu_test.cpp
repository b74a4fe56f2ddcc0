// The MMU against hand-built page tables: 4 KiB and 4 MiB translation, the
// access-rights rules with CR0.WP (SDM Vol. 3A §4.6), #PF error codes
// (§4.7), reserved bits (§4.3), accessed/dirty bits (§4.8), events, and the
// side-effect-free walk() the UI uses.
#include <gtest/gtest.h>

#include <map>

#include "paging_fixture.h"

using namespace vs;
using namespace vs::mmu;
using namespace vs::mmu::testing;

TEST(Mmu, FourKiBPage_TranslatesFrameAndOffset) {
  Paging p;
  p.map(0x00403000, 0x00052000, e::P | e::RW);
  const cpu::Translation t = p.tr(0x00403ABC);
  EXPECT_FALSE(t.fault);
  EXPECT_EQ(t.phys, 0x00052ABCu);
}

TEST(Mmu, FourMiBPage_WithPse_TranslatesFromThePdeAlone) {
  Paging p;
  p.map_large(0x00800000, 0x00400000, e::P | e::RW);
  EXPECT_EQ(p.tr(0x00812345).phys, 0x00412345u);
  EXPECT_EQ(p.tr(0x00BFFFFF).phys, 0x007FFFFFu);
}

TEST(Mmu, PsBitWithoutCr4Pse_PointsAtAPageTable) {
  Paging p;
  p.cr4 = 0;
  // PS set, but CR4.PSE = 0: the PDE is a page-table pointer (§4.3), PS ignored.
  p.put(Paging::pde_address(0x00800000), Paging::table_of(0x00800000) | e::PS | e::P | e::RW);
  p.put(Paging::pte_address(0x00801000), 0x00033000 | e::P);
  EXPECT_EQ(p.tr(0x00801010).phys, 0x00033010u);
  EXPECT_EQ(p.mmu.walk(0x00801010, p.cr3, p.cr4).levels, 2u);
}

TEST(Mmu, NotPresentPde_FaultsWithPZeroAndTheAccessBits) {
  Paging p;
  EXPECT_EQ(p.fault(0x12345678), 0x0);
  EXPECT_EQ(p.fault(0x12345678, Access::Write), 0x2);
  EXPECT_EQ(p.fault(0x12345678, Access::Read, true), 0x4);
  EXPECT_EQ(p.fault(0x12345678, Access::Write, true), 0x6);
}

TEST(Mmu, NotPresentPte_FaultsWithPZero) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW | e::US);
  p.put(Paging::pte_address(0x00401000), 0x00051000 | e::RW | e::US);  // P = 0
  EXPECT_EQ(p.fault(0x00401000, Access::Write, true), 0x6);
  EXPECT_EQ(p.fault(0x00400000, Access::Write, true), -1);
}

// Instruction fetches report I/D = 0 with 32-bit paging and no SMEP (§4.7).
TEST(Mmu, UserFetchFromSupervisorPage_ReportsNoInstructionFetchBit) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  EXPECT_EQ(p.fault(0x00400000, Access::Execute, true), 0x5);
  EXPECT_EQ(p.fault(0x00500000, Access::Execute, true), 0x4);  // not present
  // No SMEP: supervisor code may run from user pages.
  p.map(0x00401000, 0x00051000, e::P | e::US);
  EXPECT_EQ(p.fault(0x00401000, Access::Execute, false), -1);
}

// The access-rights rules of §4.6, one row per case, checked through a fresh
// MMU each time so no cached entry interferes.
struct RightsCase {
  uint32_t pde_flags, pte_flags;
  bool user, write, wp;
  int64_t error;  // -1: allowed
};

TEST(Mmu, AccessRights_FollowTheSdmRules) {
  const uint32_t P = e::P, RW = e::RW, US = e::US;
  const RightsCase cases[] = {
      // Supervisor reads are allowed from any present page.
      {P, P, false, false, false, -1},
      {P, P, false, false, true, -1},
      // Supervisor writes to read-only pages: allowed with WP = 0, #PF(P|W) with WP = 1.
      {P | RW, P, false, true, false, -1},
      {P | RW, P, false, true, true, 0x3},
      // Read-only at the directory level is just as read-only.
      {P, P | RW, false, true, false, -1},
      {P, P | RW, false, true, true, 0x3},
      {P | RW, P | RW, false, true, true, -1},
      // User accesses need U/S = 1 at both levels.
      {P | RW | US, P | RW | US, true, false, false, -1},
      {P | RW | US, P | RW, true, false, false, 0x5},
      {P | RW, P | RW | US, true, false, false, 0x5},
      {P | RW, P | RW, true, true, false, 0x7},
      // User writes need R/W = 1 at both levels, whatever WP says.
      {P | RW | US, P | RW | US, true, true, false, -1},
      {P | RW | US, P | US, true, true, false, 0x7},
      {P | US, P | RW | US, true, true, false, 0x7},
      {P | US, P | RW | US, true, true, true, 0x7},
      {P | US, P | US, true, false, true, -1},
  };
  for (const RightsCase& c : cases) {
    Paging p;
    p.cr0 = kPg | (c.wp ? kWp : 0);
    p.map(0x00400000, 0x00050000, c.pte_flags, c.pde_flags);
    const int64_t got = p.fault(0x00400123, c.write ? Access::Write : Access::Read, c.user);
    EXPECT_EQ(got, c.error) << "pde " << c.pde_flags << " pte " << c.pte_flags << " user " << c.user
                            << " write " << c.write << " wp " << c.wp;
    // The same rights on a 4 MiB page (the PDE alone) give the same answer
    // when both levels agree.
    if (c.pde_flags == c.pte_flags) {
      Paging q;
      q.cr0 = p.cr0;
      q.map_large(0x00800000, 0x00400000, c.pde_flags);
      EXPECT_EQ(q.fault(0x00800123, c.write ? Access::Write : Access::Read, c.user), c.error);
    }
  }
}

// 32-bit paging without PSE-36 or PAT: a 4 MiB PDE must have bits 21:12
// clear, a PTE bit 7, when CR4.PSE = 1 (§4.3).
TEST(Mmu, ReservedBitInFourMiBPde_FaultsWithRsvdAndP) {
  for (uint32_t bit : {13u, 17u, 21u, 12u}) {
    Paging p;
    p.map_large(0x00800000, 0x00400000, e::P | e::RW | e::US | (1u << bit));
    EXPECT_EQ(p.fault(0x00800000), 0x9) << "bit " << bit;
    EXPECT_EQ(p.fault(0x00800000, Access::Write, true), 0xF) << "bit " << bit;
    EXPECT_FALSE(p.mmu.walk(0x00800000, p.cr3, p.cr4).translated);
  }
}

TEST(Mmu, PatBitInPte_IsReservedOnlyWithPse) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW | e::PAT);
  EXPECT_EQ(p.fault(0x00400000), 0x9);
  p.cr4 = 0;  // with CR4.PSE = 0 no bit is reserved in 32-bit paging
  EXPECT_EQ(p.fault(0x00400000), -1);
}

TEST(Mmu, ReservedBitsOfNotPresentEntry_AreNotChecked) {
  Paging p;
  p.put(Paging::pde_address(0x00800000), 0x00402000 | e::PS);  // P = 0, bit 13 set
  EXPECT_EQ(p.fault(0x00800000), 0x0);
}

TEST(Mmu, Read_SetsAccessedOnBothLevelsButNotDirty) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  ASSERT_FALSE(p.tr(0x00400000).fault);
  EXPECT_TRUE(p.pde(0x00400000) & e::A);
  EXPECT_TRUE(p.pte(0x00400000) & e::A);
  EXPECT_FALSE(p.pte(0x00400000) & e::D);
}

TEST(Mmu, Write_SetsDirtyOnThePteOnly) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  ASSERT_FALSE(p.tr(0x00400000, Access::Write).fault);
  EXPECT_EQ(p.pte(0x00400000) & (e::A | e::D), e::A | e::D);
  EXPECT_FALSE(p.pde(0x00400000) & e::D);  // bit 6 of a page-table pointer is ignored: left alone
}

TEST(Mmu, WriteToFourMiBPage_SetsDirtyInThePde) {
  Paging p;
  p.map_large(0x00800000, 0x00400000, e::P | e::RW);
  ASSERT_FALSE(p.tr(0x00800000, Access::Write).fault);
  EXPECT_EQ(p.pde(0x00800000) & (e::A | e::D), e::A | e::D);
}

// A TLB entry filled by a read remembers D = 0; the first write through it
// must still set D in memory (§4.8).
TEST(Mmu, WriteAfterReadHit_SetsDirtyInMemory) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  ASSERT_FALSE(p.tr(0x00400000).fault);
  ASSERT_FALSE(p.pte(0x00400000) & e::D);
  ASSERT_FALSE(p.tr(0x00400004, Access::Write).fault);
  EXPECT_TRUE(p.pte(0x00400000) & e::D);
  EXPECT_EQ(p.mmu.stats().hits, 1u);
  EXPECT_EQ(p.mmu.stats().misses, 1u);
  EXPECT_EQ(p.mmu.stats().walks, 2u);  // the write went back to the tables
  // Now the entry knows D = 1: further writes neither walk nor write memory.
  p.put(Paging::pte_address(0x00400000), p.pte(0x00400000) & ~e::D);
  ASSERT_FALSE(p.tr(0x00400008, Access::Write).fault);
  EXPECT_FALSE(p.pte(0x00400000) & e::D);
  EXPECT_EQ(p.mmu.stats().walks, 2u);
}

TEST(Mmu, FaultingAccess_LeavesAccessedAndDirtyBitsClear) {
  Paging p;
  p.cr0 = kPg | kWp;
  p.map(0x00400000, 0x00050000, e::P);  // read-only
  EXPECT_EQ(p.fault(0x00400000, Access::Write), 0x3);
  EXPECT_FALSE(p.pde(0x00400000) & e::A);
  EXPECT_FALSE(p.pte(0x00400000) & (e::A | e::D));
}

TEST(Mmu, AccessedBitAlreadySet_IsNotWrittenAgain) {
  // Page tables behind a bus with no host pages: every read and write is seen.
  class CountingBus final : public cpu::MemoryBus {
   public:
    uint8_t* map_page(uint32_t, bool) override { return nullptr; }
    uint32_t read(uint32_t a, unsigned) override { return words[a]; }
    void write(uint32_t a, unsigned, uint32_t v) override {
      words[a] = v;
      ++writes;
    }
    std::map<uint32_t, uint32_t> words;
    int writes = 0;
  } bus;
  trace::EventLog log;
  Mmu mmu(bus, log);
  bus.words[kDir] = 0x2000 | e::P | e::RW | e::A;
  bus.words[0x2000] = 0x7000 | e::P | e::RW;
  EXPECT_EQ(mmu.translate(0x123, Access::Read, false, kPg, kDir, 0).phys, 0x7123u);
  EXPECT_EQ(bus.writes, 1);  // only the PTE's A: the PDE already had it
  EXPECT_EQ(bus.words[0x2000], 0x7000u | e::P | e::RW | e::A);
}

TEST(Mmu, PageFault_EmitsEventWithLinearErrorAndCr3) {
  Paging p;
  std::vector<trace::Event> events;
  p.log.subscribe(trace::KindSet::of({trace::EventKind::PageFault}), [&](const trace::Event& ev) { events.push_back(ev); });
  p.icount = 77;
  p.fault(0xC0001234, Access::Write, true);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].arg[0], 0xC0001234u);
  EXPECT_EQ(events[0].arg[1], 0x6u);
  EXPECT_EQ(events[0].arg[2], kDir);
  EXPECT_EQ(events[0].when.icount, 77u);
  EXPECT_EQ(p.mmu.stats().page_faults, 1u);
}

TEST(Mmu, PageWalkEvent_IsEmittedOnlyWhenWantedAndNamesBothEntries) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  p.map_large(0x00800000, 0x00400000, e::P | e::RW);
  p.tr(0x00400010);  // nobody listens yet
  EXPECT_EQ(p.log.count(trace::EventKind::PageWalk), 0u);
  std::vector<trace::Event> walks;
  p.log.subscribe(trace::KindSet::of({trace::EventKind::PageWalk}), [&](const trace::Event& ev) { walks.push_back(ev); });
  p.tr(0x00400020);  // a hit: no walk
  p.tr(0x00400020, Access::Write);  // clean entry: walks to set D
  p.tr(0x00801000);
  ASSERT_EQ(walks.size(), 2u);
  EXPECT_EQ(walks[0].arg[0], 0x00400020u);
  EXPECT_EQ(walks[0].arg[1], p.pde(0x00400000));
  EXPECT_EQ(walks[0].arg[2] & e::kFrame, 0x00050000u);
  EXPECT_EQ(walks[0].arg[3], 0x00050020u);
  EXPECT_EQ(walks[1].arg[2], 0u);  // 4 MiB page: no PTE
  EXPECT_EQ(walks[1].arg[3], 0x00401000u);
}

TEST(Mmu, Walk_ReportsEachLevelDecoded) {
  Paging p;
  p.map(0x00403000, 0x00052000, e::P | e::RW | e::US | e::D | e::G, e::P | e::US | e::A);
  const WalkResult w = p.mmu.walk(0x00403ABC, p.cr3, p.cr4);
  ASSERT_EQ(w.levels, 2u);
  EXPECT_EQ(w.steps[0].level, 2u);
  EXPECT_EQ(w.steps[0].table, kDir);
  EXPECT_EQ(w.steps[0].entry_address, kDir + 4);
  EXPECT_TRUE(w.steps[0].bits.accessed);
  EXPECT_FALSE(w.steps[0].bits.writable);
  EXPECT_FALSE(w.steps[0].maps_page);
  EXPECT_EQ(w.steps[0].bits.frame, Paging::table_of(0x00403000));
  EXPECT_EQ(w.steps[1].level, 1u);
  EXPECT_EQ(w.steps[1].table, Paging::table_of(0x00403000));
  EXPECT_EQ(w.steps[1].entry_address, Paging::table_of(0x00403000) + 3 * 4);
  EXPECT_TRUE(w.steps[1].bits.dirty);
  EXPECT_TRUE(w.steps[1].bits.global);
  EXPECT_TRUE(w.steps[1].maps_page);
  EXPECT_EQ(w.steps[1].bits.frame, 0x00052000u);
  EXPECT_TRUE(w.translated);
  EXPECT_FALSE(w.large_page);
  EXPECT_EQ(w.phys, 0x00052ABCu);
  EXPECT_FALSE(w.writable);  // the PDE is read-only
  EXPECT_TRUE(w.user);
  EXPECT_TRUE(w.global);
  EXPECT_FALSE(w.fault);
  // The same walk judged for a supervisor write with WP = 1.
  const WalkResult ww = p.mmu.walk(0x00403ABC, p.cr3, p.cr4, {.access = Access::Write, .wp = true});
  EXPECT_TRUE(ww.fault);
  EXPECT_EQ(ww.error_code, 0x3u);
}

TEST(Mmu, Walk_ReportsTheFaultTranslateWouldRaise) {
  Paging p;
  p.map_large(0x00800000, 0x00400000, e::P | e::RW | (1u << 15));
  const WalkResult w = p.mmu.walk(0x00800000, p.cr3, p.cr4, {.access = Access::Write, .user = true});
  EXPECT_EQ(w.levels, 1u);
  EXPECT_EQ(w.steps[0].reserved_set, 1u << 15);
  EXPECT_TRUE(w.fault);
  EXPECT_EQ(w.error_code, uint32_t(p.fault(0x00800000, Access::Write, true)));
}

TEST(Mmu, Walk_HasNoSideEffects) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  uint64_t events = 0;
  p.log.subscribe(trace::KindSet::all(), [&](const trace::Event&) { ++events; });
  const uint32_t pde = p.pde(0x00400000), pte = p.pte(0x00400000);
  const WalkResult w = p.mmu.walk(0x00400000, p.cr3, p.cr4, {.access = Access::Write});
  EXPECT_TRUE(w.translated);
  EXPECT_EQ(p.pde(0x00400000), pde);  // no A
  EXPECT_EQ(p.pte(0x00400000), pte);  // no A, no D
  EXPECT_EQ(p.mmu.stats().walks, 0u);
  EXPECT_EQ(p.mmu.stats().misses, 0u);
  EXPECT_EQ(events, 0u);
  for (const TlbEntry& t : p.mmu.tlb_entries()) EXPECT_FALSE(t.valid);
  // ...and a walk() does not make the next translate a hit.
  p.tr(0x00400000);
  EXPECT_EQ(p.mmu.stats().misses, 1u);
}

TEST(Mmu, PageTablesOutsideHostPages_GoThroughReadAndPeek) {
  // walk() must use peek(): a bus whose read() has side effects would show it.
  class SideEffectBus final : public cpu::MemoryBus {
   public:
    uint8_t* map_page(uint32_t, bool) override { return nullptr; }
    uint32_t read(uint32_t a, unsigned) override {
      ++reads;
      return words[a];
    }
    void write(uint32_t a, unsigned, uint32_t v) override { words[a] = v; }
    uint32_t peek(uint32_t a, unsigned) override { return words[a]; }
    std::map<uint32_t, uint32_t> words;
    int reads = 0;
  } bus;
  trace::EventLog log;
  Mmu mmu(bus, log);
  bus.words[kDir + 4] = 0x00400000 | e::PS | e::P;
  const WalkResult w = mmu.walk(0x00400010, kDir, kPse);
  EXPECT_EQ(w.phys, 0x00400010u);
  EXPECT_EQ(bus.reads, 0);
  EXPECT_EQ(mmu.translate(0x00400010, Access::Read, false, kPg, kDir, kPse).phys, 0x00400010u);
  EXPECT_GT(bus.reads, 0);
  EXPECT_TRUE(bus.words[kDir + 4] & e::A);
}

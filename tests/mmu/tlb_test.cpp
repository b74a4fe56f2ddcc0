// The TLB model: hits skip the walk (and so can be stale), rights are still
// checked on a hit, a fault drops the entry, global entries survive a CR3
// load, INVLPG, capacity and LRU replacement, counters, events and the
// snapshot state (SDM Vol. 3A §4.10).
#include <gtest/gtest.h>

#include "paging_fixture.h"

using namespace vs;
using namespace vs::mmu;
using namespace vs::mmu::testing;

namespace {
unsigned valid_entries(const Mmu& m) {
  unsigned n = 0;
  for (const TlbEntry& t : m.tlb_entries()) n += t.valid;
  return n;
}
}  // namespace

TEST(Tlb, Hit_SkipsTheWalkSoAChangedPteIsNotSeenUntilInvlpg) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  EXPECT_EQ(p.tr(0x00400010).phys, 0x00050010u);
  p.map(0x00400000, 0x00060000, e::P | e::RW);  // software forgot INVLPG
  EXPECT_EQ(p.tr(0x00400010).phys, 0x00050010u);
  p.mmu.invalidate_page(0x00400FFF);
  EXPECT_EQ(p.tr(0x00400010).phys, 0x00060010u);
  EXPECT_EQ(p.mmu.stats().hits, 1u);
  EXPECT_EQ(p.mmu.stats().misses, 2u);
  EXPECT_EQ(p.mmu.stats().invlpgs, 1u);
}

TEST(Tlb, HitWithInsufficientRights_FaultsWithPresentBitAndDropsTheEntry) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P);  // supervisor, read-only
  ASSERT_FALSE(p.tr(0x00400000).fault);
  EXPECT_EQ(p.fault(0x00400000, Access::Read, true), 0x5);   // user read of a supervisor page
  EXPECT_EQ(p.mmu.stats().hits, 1u);
  EXPECT_EQ(valid_entries(p.mmu), 0u);  // a #PF invalidates the page's entry (§4.10.4.1)
  ASSERT_FALSE(p.tr(0x00400000).fault);
  p.cr0 = kPg | kWp;
  EXPECT_EQ(p.fault(0x00400000, Access::Write), 0x3);  // supervisor write, WP = 1
  EXPECT_EQ(p.mmu.stats().hits, 2u);
  EXPECT_EQ(p.mmu.stats().misses, 2u);
  p.cr0 = kPg;  // WP = 0: the same page is writable for the supervisor
  EXPECT_FALSE(p.tr(0x00400000, Access::Write).fault);
}

TEST(Tlb, FaultAfterPteFixed_IsNotRepeatedFromAStaleEntry) {
  Paging p;
  p.cr0 = kPg | kWp;
  p.map(0x00400000, 0x00050000, e::P);
  ASSERT_FALSE(p.tr(0x00400000).fault);
  EXPECT_EQ(p.fault(0x00400000, Access::Write), 0x3);
  p.map(0x00400000, 0x00050000, e::P | e::RW);  // the #PF handler makes it writable, no INVLPG
  EXPECT_EQ(p.fault(0x00400000, Access::Write), -1);
}

TEST(Tlb, GlobalEntries_SurviveCr3LoadButNotFullFlush) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW | e::G);
  p.map(0x00401000, 0x00051000, e::P | e::RW);
  p.map_large(0x00800000, 0x00400000, e::P | e::RW | e::G);
  p.tr(0x00400000);
  p.tr(0x00401000);
  p.tr(0x00800000);
  ASSERT_EQ(valid_entries(p.mmu), 3u);
  p.mmu.flush(false);
  EXPECT_EQ(valid_entries(p.mmu), 2u);
  p.tr(0x00400000);
  p.tr(0x00812345);
  EXPECT_EQ(p.mmu.stats().hits, 2u);
  p.mmu.flush(true);
  EXPECT_EQ(valid_entries(p.mmu), 0u);
  EXPECT_EQ(p.mmu.stats().nonglobal_flushes, 1u);
  EXPECT_EQ(p.mmu.stats().full_flushes, 1u);
}

TEST(Tlb, GlobalBitWithoutCr4Pge_IsNotGlobal) {
  Paging p;
  p.cr4 = kPse;
  p.map(0x00400000, 0x00050000, e::P | e::RW | e::G);
  p.tr(0x00400000);
  p.mmu.flush(false);
  EXPECT_EQ(valid_entries(p.mmu), 0u);
}

TEST(Tlb, InvalidatePage_DropsAWholeFourMiBEntryAndGlobals) {
  Paging p;
  p.map_large(0x00800000, 0x00400000, e::P | e::RW | e::G);
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  p.tr(0x00800000);
  p.tr(0x00400000);
  p.mmu.invalidate_page(0x00BFF000);  // any address inside the 4 MiB page
  ASSERT_EQ(valid_entries(p.mmu), 1u);
  EXPECT_EQ(p.mmu.tlb_entries()[1].linear, 0x00400000u);
}

TEST(Tlb, Capacity_EvictsTheLeastRecentlyUsedEntry) {
  Paging p(4);
  for (uint32_t i = 0; i < 5; ++i) p.map(0x00400000 + i * 0x1000, 0x00050000 + i * 0x1000, e::P | e::RW);
  for (uint32_t i = 0; i < 4; ++i) p.tr(0x00400000 + i * 0x1000);
  p.tr(0x00400000);  // page 0 becomes the most recently used; page 1 the least
  p.tr(0x00404000);
  EXPECT_EQ(p.mmu.stats().evictions, 1u);
  EXPECT_EQ(p.mmu.tlb_capacity(), 4u);
  const uint64_t misses = p.mmu.stats().misses;
  p.tr(0x00400000);
  p.tr(0x00402000);
  p.tr(0x00403000);
  p.tr(0x00404000);
  EXPECT_EQ(p.mmu.stats().misses, misses);  // all still cached
  p.tr(0x00401000);
  EXPECT_EQ(p.mmu.stats().misses, misses + 1);  // this one was evicted
}

TEST(Tlb, ZeroEntries_WalksEveryAccess) {
  Paging p(0);
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(p.tr(0x00400000).phys, 0x00050000u);
  EXPECT_EQ(p.mmu.stats().hits, 0u);
  EXPECT_EQ(p.mmu.stats().misses, 3u);
  EXPECT_EQ(p.mmu.stats().walks, 3u);
}

TEST(Tlb, Entries_DescribeTheCachedTranslation) {
  Paging p;
  p.map(0x00403000, 0x00052000, e::P | e::US);
  p.tr(0x00403ABC, Access::Read, true);
  const TlbEntry& t = p.mmu.tlb_entries()[0];
  EXPECT_TRUE(t.valid);
  EXPECT_FALSE(t.large);
  EXPECT_EQ(t.linear, 0x00403000u);
  EXPECT_EQ(t.phys, 0x00052000u);
  EXPECT_TRUE(t.user);
  EXPECT_FALSE(t.writable);
  EXPECT_FALSE(t.dirty);
  EXPECT_FALSE(t.global);
}

TEST(Tlb, ResetStats_ZeroesEveryCounterButKeepsEntries) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  p.tr(0x00400000);
  p.tr(0x00400000);
  p.mmu.invalidate_page(0);
  p.mmu.flush(false);
  p.mmu.reset_stats();
  const MmuStats& s = p.mmu.stats();
  EXPECT_EQ(s.hits + s.misses + s.walks + s.invlpgs + s.full_flushes + s.nonglobal_flushes + s.evictions +
                s.page_faults,
            0u);
  p.mmu.reset_stats();
  p.tr(0x00401000);  // not mapped
  EXPECT_EQ(p.mmu.stats().page_faults, 1u);
}

TEST(Tlb, FlushEvents_NameCauseAndHowManyEntriesWereValid) {
  Paging p;
  std::vector<trace::Event> ev;
  p.log.subscribe(trace::KindSet::of({trace::EventKind::TlbFlush}), [&](const trace::Event& x) { ev.push_back(x); });
  p.map(0x00400000, 0x00050000, e::P | e::RW | e::G);
  p.map(0x00401000, 0x00051000, e::P | e::RW);
  p.map(0x00402000, 0x00052000, e::P | e::RW);
  for (uint32_t i = 0; i < 3; ++i) p.tr(0x00400000 + i * 0x1000);
  p.mmu.invalidate_page(0x00402000);
  p.mmu.flush(false);
  p.mmu.flush(true);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].arg[0], 1u);
  EXPECT_EQ(ev[0].arg[1], 0x00402000u);
  EXPECT_EQ(ev[0].arg[2], 1u);
  EXPECT_EQ(ev[1].arg[0], 0u);
  EXPECT_EQ(ev[1].arg[2], 1u);  // the non-global 0x401000
  EXPECT_EQ(ev[2].arg[0], 2u);
  EXPECT_EQ(ev[2].arg[2], 1u);  // the global 0x400000
}

TEST(Tlb, SavedState_RestoresEntriesLruAndCounters) {
  Paging a(4);
  for (uint32_t i = 0; i < 4; ++i) {
    a.map(0x00400000 + i * 0x1000, 0x00050000 + i * 0x1000, e::P | e::RW);
    a.tr(0x00400000 + i * 0x1000);
  }
  a.tr(0x00400000);
  const MmuState saved = a.mmu.save_state();

  Paging b(4);
  b.map(0x00404000, 0x00054000, e::P | e::RW);
  ASSERT_EQ(b.mmu.load_state(saved), nullptr);
  EXPECT_EQ(b.mmu.stats().misses, 4u);
  EXPECT_EQ(b.mmu.stats().hits, 1u);
  // The restored TLB translates without the tables (b has none for these
  // pages) and evicts the same LRU victim as the original would.
  EXPECT_EQ(b.tr(0x00402010).phys, 0x00052010u);
  b.tr(0x00404000);
  EXPECT_EQ(b.fault(0x00401000), 0x0);  // page 1 was the LRU victim: now it walks and faults
  EXPECT_EQ(b.tr(0x00403000).phys, 0x00053000u);
}

TEST(Tlb, LoadState_RejectsImpossibleData) {
  Paging p(4);
  MmuState s = p.mmu.save_state();
  s.tlb.resize(5);
  EXPECT_NE(p.mmu.load_state(s), nullptr);
  s = p.mmu.save_state();
  s.tlb[0] = TlbEntry{.valid = true, .large = true, .linear = 0x00401000};  // not 4 MiB aligned
  EXPECT_NE(p.mmu.load_state(s), nullptr);
  s = p.mmu.save_state();
  s.tlb[0] = TlbEntry{.valid = true, .linear = 0x00401000, .last_used = 9};
  s.tlb_clock = 3;
  EXPECT_NE(p.mmu.load_state(s), nullptr);
  s.tlb_clock = 9;
  EXPECT_EQ(p.mmu.load_state(s), nullptr);
}

// The Tlb class alone: ties in LRU go to the lowest slot; invalidate counts.
TEST(Tlb, ReplacementOrder_IsDeterministic) {
  Tlb t(3);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_FALSE(t.insert({.linear = i << 12, .phys = i << 12}));
  EXPECT_NE(t.lookup(0x0000), nullptr);
  EXPECT_TRUE(t.insert({.linear = 0x5000, .phys = 0x5000}));  // evicts page 1 (slot 1)
  EXPECT_EQ(t.entries()[1].linear, 0x5000u);
  EXPECT_EQ(t.lookup(0x1000), nullptr);
  EXPECT_EQ(t.invalidate(0x5FFF), 1u);
  EXPECT_EQ(t.valid_count(), 2u);
  EXPECT_EQ(Tlb(100000).capacity(), Tlb::kMaxEntries);
}

// The TLB model: hits skip the walk (and so can be stale), rights are still
// checked on a hit, a fault drops the entry, global entries survive a CR3
// load, INVLPG, the P6 geometry (4-way sets for 4 KiB pages, a separate
// array for 4 MiB pages) and LRU replacement within a set, counters, events
// and the snapshot state (SDM Vol. 3A §4.10).
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
// The valid entry for `lin`'s page, if any (without touching the LRU order).
const TlbEntry* cached(const Mmu& m, uint32_t lin) {
  for (const TlbEntry& t : m.tlb_entries())
    if (t.covers(lin)) return &t;
  return nullptr;
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
  EXPECT_NE(cached(p.mmu, 0x00400000), nullptr);
  EXPECT_EQ(cached(p.mmu, 0x00800000), nullptr);
}

// Both sizes can cover one address when software turns a page table into a
// 4 MiB page without INVLPG: the stale 4 KiB entry still hits for its own
// page, other pages fill the 4 MiB array, and INVLPG drops both.
TEST(Tlb, InvalidatePage_DropsEntriesOfBothSizesCoveringTheAddress) {
  Paging p;
  p.map(0x00400000, 0x00050000, e::P | e::RW);
  p.tr(0x00400000);
  p.map_large(0x00400000, 0x00800000, e::P | e::RW);  // no INVLPG
  EXPECT_EQ(p.tr(0x00401000).phys, 0x00801000u);  // a miss: walks, finds the 4 MiB page
  EXPECT_EQ(p.tr(0x00400010).phys, 0x00050010u);  // the stale 4 KiB entry is looked up first
  ASSERT_EQ(valid_entries(p.mmu), 2u);
  std::vector<trace::Event> ev;
  p.log.subscribe(trace::KindSet::of({trace::EventKind::TlbFlush}), [&](const trace::Event& x) { ev.push_back(x); });
  p.mmu.invalidate_page(0x00400FFF);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].arg[2], 2u);
  EXPECT_EQ(valid_entries(p.mmu), 0u);
  EXPECT_EQ(p.tr(0x00400010).phys, 0x00800010u);
}

TEST(Tlb, Geometry_IsTheP6DataTlb) {
  Paging p;  // MmuConfig's default: 64 entries
  const Tlb& t = p.mmu.tlb();
  EXPECT_EQ(t.small_entries(), 64u);
  EXPECT_EQ(t.small_sets(), 16u);
  EXPECT_EQ(t.large_entries(), 8u);
  EXPECT_EQ(p.mmu.tlb_capacity(), 72u);
  EXPECT_EQ(p.mmu.tlb_entries().size(), 72u);
  // The set is the low 4 bits of the page number; 4 MiB pages: bit 22.
  EXPECT_EQ(t.set_base(0x00403ABC, false), 3u * Tlb::kWays);
  EXPECT_EQ(t.set_base(0x12345000, false), 5u * Tlb::kWays);
  EXPECT_EQ(t.set_base(0x00800000, true), 64u);
  EXPECT_EQ(t.set_base(0x00C00000, true), 64u + Tlb::kWays);
}

TEST(Tlb, Size_IsRoundedUpToWholeSetsAndClamped) {
  EXPECT_EQ(Tlb(1).small_entries(), 4u);
  EXPECT_EQ(Tlb(3).capacity(), 4u + Tlb::kLargeEntries);
  EXPECT_EQ(Tlb(13).small_sets(), 4u);
  EXPECT_EQ(Tlb(100000).small_entries(), Tlb::kMaxEntries);
  EXPECT_EQ(Tlb(0).capacity(), 0u);
  EXPECT_EQ(Tlb(0).large_entries(), 0u);
}

// Twelve entries: three sets, which no mask of page bits can pick; the set
// is the page number modulo 3.
TEST(Tlb, NonPowerOfTwoSetCount_IndexesByPageNumberModuloSets) {
  Tlb t(12);
  ASSERT_EQ(t.small_sets(), 3u);
  EXPECT_EQ(t.set_base(0x3000, false), 0u);
  EXPECT_EQ(t.set_base(0x4000, false), 4u);
  EXPECT_EQ(t.set_base(0x8000, false), 8u);
  t.insert({.linear = 0x8123, .phys = 0x1000});
  EXPECT_TRUE(t.entries()[8].valid);
  EXPECT_EQ(t.entries()[8].linear, 0x8000u);
  ASSERT_NE(t.lookup(0x8FFF), nullptr);
}

// Five pages whose page numbers agree in their low 4 bits share a set of 4
// ways: the fifth evicts that set's least recently used page although 59
// entries elsewhere are free, and pages in other sets stay.
TEST(Tlb, SetConflict_EvictsTheLeastRecentlyUsedWayOfThatSetOnly) {
  Paging p;
  auto same_set = [](uint32_t i) { return 0x00400000 + i * 0x10000; };  // 16 pages apart
  for (uint32_t i = 0; i < 5; ++i) p.map(same_set(i), 0x00050000 + i * 0x1000, e::P | e::RW);
  p.map(0x00401000, 0x00060000, e::P | e::RW);  // set 1
  p.tr(0x00401000);
  for (uint32_t i = 0; i < 4; ++i) p.tr(same_set(i));
  EXPECT_EQ(p.mmu.stats().evictions, 0u);
  p.tr(same_set(0));  // page 0 becomes the most recently used; page 1 the least
  p.tr(same_set(4));
  EXPECT_EQ(p.mmu.stats().evictions, 1u);
  EXPECT_EQ(valid_entries(p.mmu), 5u);
  EXPECT_EQ(cached(p.mmu, same_set(1)), nullptr);
  const uint64_t misses = p.mmu.stats().misses;
  for (uint32_t i : {0u, 2u, 3u, 4u}) p.tr(same_set(i));
  p.tr(0x00401000);
  EXPECT_EQ(p.mmu.stats().misses, misses);  // all still cached
  p.tr(same_set(1));
  EXPECT_EQ(p.mmu.stats().misses, misses + 1);  // this one was evicted
  EXPECT_EQ(cached(p.mmu, same_set(0)), nullptr);  // ... and took the LRU way: page 0's
}

// A full 4 KiB set does not stop a 4 MiB fill, and a full 4 MiB set (bit
// 22 equal) evicts only among 4 MiB pages.
TEST(Tlb, LargePages_FillAndEvictInTheirOwnArray) {
  Paging p;
  for (uint32_t i = 0; i < 4; ++i) p.map(0x00400000 + i * 0x10000, 0x00050000, e::P | e::RW);
  for (uint32_t i = 0; i < 4; ++i) p.tr(0x00400000 + i * 0x10000);
  for (uint32_t i = 0; i < 5; ++i) p.map_large(0x00800000 + i * 0x00800000, 0x00400000, e::P | e::RW);
  p.map_large(0x00C00000, 0x00400000, e::P | e::RW);  // bit 22 = 1: the other 4 MiB set
  p.tr(0x00C00000);
  for (uint32_t i = 0; i < 4; ++i) p.tr(0x00800000 + i * 0x00800000);
  EXPECT_EQ(p.mmu.stats().evictions, 0u);
  for (unsigned slot = 0; slot < 72; ++slot) {
    const TlbEntry& t = p.mmu.tlb_entries()[slot];
    if (t.valid) {
      EXPECT_EQ(t.large, slot >= 64) << "slot " << slot;
    }
  }
  p.tr(0x00800000 + 4 * 0x00800000);
  EXPECT_EQ(p.mmu.stats().evictions, 1u);
  EXPECT_EQ(cached(p.mmu, 0x00800000), nullptr);  // the least recently used 4 MiB page of set 0
  EXPECT_NE(cached(p.mmu, 0x00C00000), nullptr);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_NE(cached(p.mmu, 0x00400000 + i * 0x10000), nullptr);
}

// A write through a clean entry refills it in place: no eviction even when
// its set is full, and still one entry for the page.
TEST(Tlb, CleanEntryWrite_RefillsTheSameWay) {
  Paging p;
  for (uint32_t i = 0; i < 4; ++i) p.map(0x00400000 + i * 0x10000, 0x00050000 + i * 0x1000, e::P | e::RW);
  for (uint32_t i = 0; i < 4; ++i) p.tr(0x00400000 + i * 0x10000);
  const TlbEntry* before = cached(p.mmu, 0x00420000);
  ASSERT_NE(before, nullptr);
  ASSERT_FALSE(before->dirty);
  p.tr(0x00420000, Access::Write);
  EXPECT_EQ(p.mmu.stats().walks, 5u);
  EXPECT_EQ(p.mmu.stats().evictions, 0u);
  EXPECT_EQ(valid_entries(p.mmu), 4u);
  EXPECT_EQ(cached(p.mmu, 0x00420000), before);
  EXPECT_TRUE(before->dirty);
}

TEST(Tlb, Capacity_CountsBothArrays) {
  Paging p(4);
  EXPECT_EQ(p.mmu.tlb_capacity(), 4u + Tlb::kLargeEntries);
  EXPECT_EQ(p.mmu.tlb().small_sets(), 1u);
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
  const TlbEntry& t = p.mmu.tlb_entries()[3 * Tlb::kWays];  // set 3, way 0
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

TEST(Tlb, SavedState_KeepsEachSetsLruOrder) {
  Paging a;
  for (uint32_t i = 0; i < 5; ++i) a.map(0x00400000 + i * 0x10000, 0x00050000 + i * 0x1000, e::P | e::RW);
  for (uint32_t i = 0; i < 4; ++i) a.tr(0x00400000 + i * 0x10000);
  a.tr(0x00400000);
  Paging b;
  b.map(0x00440000, 0x00054000, e::P | e::RW);
  ASSERT_EQ(b.mmu.load_state(a.mmu.save_state()), nullptr);
  EXPECT_EQ(b.mmu.tlb().valid_count(), 4u);
  b.tr(0x00440000);  // evicts the same way as a would: page 1
  EXPECT_EQ(b.mmu.stats().evictions, 1u);
  EXPECT_EQ(cached(b.mmu, 0x00410000), nullptr);
  EXPECT_EQ(b.tr(0x00420010).phys, 0x00052010u);  // from the restored entry: b has no table for it
}

TEST(Tlb, LoadState_RejectsImpossibleData) {
  Paging p(4);
  MmuState s = p.mmu.save_state();
  s.tlb.resize(5);
  EXPECT_NE(p.mmu.load_state(s), nullptr);
  s = p.mmu.save_state();
  s.tlb[4] = TlbEntry{.valid = true, .large = true, .linear = 0x00401000};  // not 4 MiB aligned
  EXPECT_NE(p.mmu.load_state(s), nullptr);
  s = p.mmu.save_state();
  s.tlb[0] = TlbEntry{.valid = true, .linear = 0x00401000, .last_used = 9};
  s.tlb_clock = 3;
  EXPECT_NE(p.mmu.load_state(s), nullptr);
  s.tlb_clock = 9;
  EXPECT_EQ(p.mmu.load_state(s), nullptr);
}

// Every valid entry must sit where insert() could have put it.
TEST(Tlb, LoadState_RejectsMisplacedEntries) {
  Paging p;  // 16 sets (slots 0-63), then the 4 MiB sets (64-67, 68-71)
  const MmuState empty = p.mmu.save_state();
  auto load_with = [&](std::initializer_list<std::pair<unsigned, TlbEntry>> slots) {
    MmuState s = empty;
    for (const auto& [slot, entry] : slots) s.tlb[slot] = entry;
    return p.mmu.load_state(s);
  };
  const TlbEntry page3{.valid = true, .linear = 0x00403000, .phys = 0x7000};
  const TlbEntry large_odd{.valid = true, .large = true, .linear = 0x00C00000, .phys = 0x00400000};
  EXPECT_NE(load_with({{12, page3}, {15, page3}}), nullptr);       // one page twice in its set
  EXPECT_EQ(load_with({{13, page3}, {70, large_odd}}), nullptr);  // set 3, 4 MiB set 1
  EXPECT_NE(load_with({{16, page3}}), nullptr);                    // set 4
  EXPECT_NE(load_with({{68, page3}}), nullptr);                    // a 4 KiB page in the 4 MiB array
  EXPECT_NE(load_with({{3, large_odd}}), nullptr);                 // a 4 MiB page in the 4 KiB array
  EXPECT_NE(load_with({{64, large_odd}}), nullptr);                // 4 MiB set 0
  // A rejected load changed nothing: the good one above is still there.
  EXPECT_EQ(valid_entries(p.mmu), 2u);
  EXPECT_EQ(p.tr(0x00403010).phys, 0x7010u);
}

// The Tlb class alone: LRU ties go to the lowest way; counts; flush.
TEST(Tlb, ReplacementOrder_IsDeterministic) {
  Tlb t(4);  // one set
  for (uint32_t i = 0; i < 4; ++i) EXPECT_FALSE(t.insert({.linear = i << 12, .phys = i << 12}));
  EXPECT_NE(t.lookup(0x0000), nullptr);
  EXPECT_TRUE(t.insert({.linear = 0x5000, .phys = 0x5000}));  // evicts page 1 (way 1)
  EXPECT_EQ(t.entries()[1].linear, 0x5000u);
  EXPECT_EQ(t.lookup(0x1000), nullptr);
  EXPECT_EQ(t.invalidate(0x5FFF), 1u);
  EXPECT_EQ(t.valid_count(), 3u);
  EXPECT_FALSE(t.insert({.linear = 0x6000, .phys = 0x6000}));  // the free way 1 again
  EXPECT_EQ(t.entries()[1].linear, 0x6000u);
  EXPECT_FALSE(t.insert({.dirty = true, .linear = 0x3000, .phys = 0x9000}));  // page 3 again: in place
  EXPECT_EQ(t.valid_count(), 4u);
  EXPECT_EQ(t.entries()[3].phys, 0x9000u);
  EXPECT_TRUE(t.entries()[3].dirty);
}

TEST(Tlb, Flush_CountsWhatItDropsAndKeepsGlobals) {
  Tlb t(64);
  EXPECT_EQ(t.flush(true), 0u);
  t.insert({.global = true, .linear = 0x1000});
  t.insert({.linear = 0x2000});
  t.insert({.large = true, .linear = 0x00400000});
  ASSERT_EQ(t.valid_count(), 3u);
  EXPECT_EQ(t.flush(false), 2u);
  EXPECT_EQ(t.valid_count(), 1u);
  EXPECT_NE(t.lookup(0x1234), nullptr);
  EXPECT_EQ(t.flush(false), 0u);
  EXPECT_EQ(t.flush(true), 1u);
  EXPECT_EQ(t.valid_count(), 0u);
  EXPECT_EQ(t.lookup(0x1234), nullptr);
}

// The memory controller's state per cgroup (cgroup-v2.rst "Memory";
// ../shared/SEMANTICS.md §2.3; docs/container-sim/cgroup-memory.md).
//
// Everything is counted in 4 KiB pages, as Linux's page_counter does, and
// printed in bytes (pages * PAGE_SIZE). What is charged are the frames
// of the kernel model (frames.h): a process's pages and its page tables.
// Every cgroup counts, whether or not memory is enabled for it (so a
// parent that enables memory later sees its children's usage, as Linux's
// nearest-enabled-ancestor charging would give), but limits and interface
// files exist only where the parent enables memory.
//
// Charges are hierarchical (memory.current of a cgroup is its subtree's),
// and a page stays charged to the cgroup that allocated it until it is
// freed (Frames keeps the owner per frame): migration moves no charge, and
// a removed cgroup's pages still count in its ancestors.
#pragma once

#include <cstdint>
#include <string>

namespace vs::container_sim {

struct Cgroup;

constexpr int64_t kMemUnlimited = -1;  // "max" (Linux's PAGE_COUNTER_MAX)

// memory.events keys, in the order Linux prints them (memory_events_show()).
enum MemEvent : uint32_t { kMemLow, kMemHigh, kMemMax, kMemOom, kMemOomKill, kMemOomGroupKill, kMemEventCount };

// What a charged frame holds (memory.stat's breakdown).
enum MemUse : uint32_t {
  kUseAnon,       // demand-zero pages, and image pages once written
  kUseFile,       // image pages still equal to the executable's bytes (reclaimable)
  kUsePageTable,  // page directory and page tables (memory.stat pagetables, part of kernel)
  kUseCount
};

// memory.stat's event counters (hierarchical: a cgroup's include its subtree's).
enum MemCount : uint32_t {
  kPgfault,     // page faults served for the cgroup's processes
  kPgmajfault,  // ... that had to read the page back from the executable (a reclaimed image page)
  kPgscan,      // pages reclaim looked at
  kPgsteal,     // pages reclaim freed
  kPgrefill,    // pages reclaim passed over because they were recently used (second chance)
  kCountCount
};

struct CgroupMemory {
  uint64_t current = 0;  // pages charged to the subtree (memory.current)
  uint64_t peak = 0;     // the highest `current` seen (memory.peak)
  int64_t max = kMemUnlimited;   // pages, or kMemUnlimited (memory.max)
  int64_t high = kMemUnlimited;  // pages, or kMemUnlimited (memory.high)
  int64_t low = 0, min = 0;      // pages: stored and shown; reclaim does not honour them (see the doc)
  bool oom_group = false;        // memory.oom.group
  uint64_t events[kMemEventCount] = {};        // memory.events (this cgroup and its subtree)
  uint64_t events_local[kMemEventCount] = {};  // memory.events.local (this cgroup only)
  uint64_t use[kUseCount] = {};                // pages by MemUse (subtree)
  uint64_t counts[kCountCount] = {};           // MemCount events (subtree)
};

// --- charging (cgroup_memory.cpp): the per-cgroup arithmetic, no reclaim ---
// Adds `pages` (negative: removes) of kind `use` to cg and every ancestor.
void memcg_account(Cgroup& cg, MemUse use, int64_t pages);
// The lowest cgroup from cg up whose memory.max `pages` more would exceed
// (page_counter_try_charge()'s `fail`), or null. Only where memory is on.
Cgroup* memcg_over_max(Cgroup& cg, uint64_t pages);
// Counts an event in cg's .local and in cg and every ancestor (memcg_memory_event()).
void memcg_event(Cgroup& cg, MemEvent e);
// Counts a memory.stat event in cg and every ancestor.
void memcg_count(Cgroup& cg, MemCount c, uint64_t n = 1);
// Is `c` cg or below it?
bool memcg_within(const Cgroup& c, const Cgroup& cg);

// Linux's memparse() after strstrip(): a number (decimal, 0x hex, 0 octal)
// with an optional K/M/G/T/P/E suffix (either case). False if anything
// else follows. Public for the tests.
bool parse_memory_bytes(const std::string& text, uint64_t& bytes);

}  // namespace vs::container_sim

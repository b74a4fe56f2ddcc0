// The memory controller (cgroup_memory.h): the per-cgroup arithmetic of
// charging, and the interface files (mm/memcontrol.c's memory_files[] as
// cgroup-v2.rst "Memory Interface Files" documents them). What happens when
// a limit is reached — reclaim, the OOM killer, the memory.high throttle —
// needs the process table and lives in the kernel (memory_pressure.cpp).
#include <algorithm>
#include <cctype>

#include "cgroup.h"
#include "frames.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

// --- charging ----------------------------------------------------------------

void memcg_account(Cgroup& cg, MemUse use, int64_t pages) {
  for (Cgroup* c = &cg; c; c = c->parent) {
    CgroupMemory& m = c->memory;
    m.current = uint64_t(int64_t(m.current) + pages);
    m.use[use] = uint64_t(int64_t(m.use[use]) + pages);
    if (m.current > m.peak) m.peak = m.current;
  }
}

Cgroup* memcg_over_max(Cgroup& cg, uint64_t pages) {
  // page_counter_try_charge() walks from the charged counter up and stops
  // at the first one that would go over: that cgroup's subtree is where
  // reclaim and the OOM killer then work (mem_over_limit).
  for (Cgroup* c = &cg; c && c->parent; c = c->parent) {
    const CgroupMemory& m = c->memory;
    if (c->has(kCgMemory) && m.max != kMemUnlimited && m.current + pages > uint64_t(m.max)) return c;
  }
  return nullptr;
}

void memcg_event(Cgroup& cg, MemEvent e) {
  // memcg_memory_event(): the .local counter of the cgroup itself, the
  // hierarchical one of it and every ancestor (cgroup-v2.rst memory.events).
  ++cg.memory.events_local[e];
  for (Cgroup* c = &cg; c; c = c->parent) ++c->memory.events[e];
}

void memcg_count(Cgroup& cg, MemCount what, uint64_t n) {
  for (Cgroup* c = &cg; c; c = c->parent) c->memory.counts[what] += n;
}

bool memcg_within(const Cgroup& c, const Cgroup& cg) {
  for (const Cgroup* at = &c; at; at = at->parent)
    if (at == &cg) return true;
  return false;
}

bool parse_memory_bytes(const std::string& text, uint64_t& bytes) {
  // memparse(): simple_strtoull(s, &end, 0) — base from the prefix, no
  // sign — then one optional suffix letter, each a further factor of 1024.
  // An empty string parses as 0 (Linux too: `echo > memory.max` sets 0).
  const std::string s = strip(text);
  size_t i = 0;
  unsigned base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s.size() > 2 && std::isxdigit(uint8_t(s[2]))) {
    base = 16, i = 2;
  } else if (!s.empty() && s[0] == '0') {
    base = 8;
  }
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = char(std::tolower(uint8_t(s[i])));
    const unsigned d = c >= '0' && c <= '9' ? unsigned(c - '0') : c >= 'a' && c <= 'f' ? unsigned(c - 'a' + 10) : 99;
    if (d >= base) break;
    v = v * base + d;
  }
  if (i < s.size()) {
    static const char kSuffixes[] = "kmgtpe";
    unsigned shift = 0;
    for (unsigned k = 0; kSuffixes[k]; ++k)
      if (std::tolower(uint8_t(s[i])) == kSuffixes[k]) shift = 10 * (k + 1);
    if (shift == 0) return false;
    v <<= shift;
    ++i;
  }
  if (i != s.size()) return false;  // page_counter_memparse(): *end must be the NUL
  bytes = v;
  return true;
}

namespace {

// page_counter_memparse(): "max", or bytes divided by PAGE_SIZE — rounded
// *down*, whatever cgroup-v2.rst says about rounding up (mm/page_counter.c).
int parse_pages(const std::string& text, int64_t& pages) {
  if (strip(text) == "max") {
    pages = kMemUnlimited;
    return 0;
  }
  uint64_t bytes = 0;
  if (!parse_memory_bytes(text, bytes)) return -kEINVAL;
  pages = int64_t(std::min<uint64_t>(bytes / kPageSize, uint64_t(INT64_MAX / kPageSize)));
  return 0;
}

// seq_puts_memcg_tunable(): "max", or pages * PAGE_SIZE.
std::string tunable(int64_t pages) {
  return pages == kMemUnlimited ? "max\n" : std::to_string(uint64_t(pages) * kPageSize) + "\n";
}

void read_current(const Cgroup& cg, std::string& out) { out = std::to_string(cg.memory.current * kPageSize) + "\n"; }
void read_peak(const Cgroup& cg, std::string& out) { out = std::to_string(cg.memory.peak * kPageSize) + "\n"; }
void read_max(const Cgroup& cg, std::string& out) { out = tunable(cg.memory.max); }
void read_high(const Cgroup& cg, std::string& out) { out = tunable(cg.memory.high); }
void read_low(const Cgroup& cg, std::string& out) { out = tunable(cg.memory.low); }
void read_min(const Cgroup& cg, std::string& out) { out = tunable(cg.memory.min); }

// The new value only; the reclaim and OOM kills that follow a lower
// memory.max or memory.high need the process table (Kernel::cgroup_write).
int write_max(Cgroup& cg, const std::string& text) { return parse_pages(text, cg.memory.max); }
int write_high(Cgroup& cg, const std::string& text) { return parse_pages(text, cg.memory.high); }
int write_low(Cgroup& cg, const std::string& text) { return parse_pages(text, cg.memory.low); }
int write_min(Cgroup& cg, const std::string& text) { return parse_pages(text, cg.memory.min); }

void events_text(const uint64_t (&e)[kMemEventCount], std::string& out) {
  static const char* const kNames[kMemEventCount] = {"low", "high", "max", "oom", "oom_kill", "oom_group_kill"};
  out.clear();
  for (uint32_t i = 0; i < kMemEventCount; ++i) out += std::string(kNames[i]) + " " + std::to_string(e[i]) + "\n";
}
void read_events(const Cgroup& cg, std::string& out) { events_text(cg.memory.events, out); }
void read_events_local(const Cgroup& cg, std::string& out) { events_text(cg.memory.events_local, out); }

void read_stat(const Cgroup& cg, std::string& out) {
  // memory_stat_format(): amounts in bytes, then event counts, by key in
  // Linux's order. Keys of things this model does not have (sockets,
  // shmem, writeback, kswapd) are there with 0, as on a Linux that has
  // none of them; the LRU lists and most workingset keys are left out.
  const CgroupMemory& m = cg.memory;
  const auto bytes = [](uint64_t pages) { return std::to_string(pages * kPageSize); };
  out = "anon " + bytes(m.use[kUseAnon]) + "\n";
  out += "file " + bytes(m.use[kUseFile]) + "\n";
  out += "kernel " + bytes(m.use[kUsePageTable]) + "\n";  // the only kernel memory charged here
  out += "kernel_stack 0\n";
  out += "pagetables " + bytes(m.use[kUsePageTable]) + "\n";
  out += "sock 0\nshmem 0\n";
  out += "file_mapped " + bytes(m.use[kUseFile]) + "\n";  // every file page here is mapped
  out += "file_dirty 0\nfile_writeback 0\n";
  out += "workingset_refault_file " + std::to_string(m.counts[kPgmajfault]) + "\n";
  out += "pgscan " + std::to_string(m.counts[kPgscan]) + "\n";
  out += "pgsteal " + std::to_string(m.counts[kPgsteal]) + "\n";
  out += "pgscan_kswapd 0\npgscan_direct " + std::to_string(m.counts[kPgscan]) + "\n";  // no kswapd: all direct
  out += "pgsteal_kswapd 0\npgsteal_direct " + std::to_string(m.counts[kPgsteal]) + "\n";
  out += "pgfault " + std::to_string(m.counts[kPgfault]) + "\n";
  out += "pgmajfault " + std::to_string(m.counts[kPgmajfault]) + "\n";
  out += "pgrefill " + std::to_string(m.counts[kPgrefill]) + "\n";
}

void read_oom_group(const Cgroup& cg, std::string& out) { out = cg.memory.oom_group ? "1\n" : "0\n"; }
int write_oom_group(Cgroup& cg, const std::string& text) {
  // memory_oom_group_write(): kstrtoint(strstrip(buf), 0, ...), then 0 or 1 only.
  int64_t v = 0;
  if (!parse_kernel_int(text, v)) return -kEINVAL;
  if (v != 0 && v != 1) return -kEINVAL;
  cg.memory.oom_group = v == 1;
  return 0;
}

void reset(Cgroup& cg) {
  // The css goes (memory switched off in the parent): the knobs and event
  // counters start again from the defaults. The charges stay: the pages
  // are still there, and count in the ancestors as before.
  CgroupMemory& m = cg.memory;
  m.max = m.high = kMemUnlimited;
  m.low = m.min = 0;
  m.oom_group = false;
  for (uint32_t i = 0; i < kMemEventCount; ++i) m.events[i] = m.events_local[i] = 0;
}

}  // namespace

const CgroupControllerOps& memory_controller() {
  static const CgroupControllerOps ops = {
      {
          {"memory.current", read_current},
          {"memory.events", read_events},
          {"memory.events.local", read_events_local},
          {"memory.high", read_high, write_high},
          {"memory.low", read_low, write_low},
          {"memory.max", read_max, write_max},
          {"memory.min", read_min, write_min},
          {"memory.oom.group", read_oom_group, write_oom_group},
          {"memory.peak", read_peak},
          {"memory.stat", read_stat},
      },
      reset,
  };
  return ops;
}

}  // namespace vs::container_sim

// The cpu controller (cgroup_cpu.h): its interface files — cpu.max,
// cpu.weight, cpu.weight.nice, cpu.stat — as kernel/sched/core.c parses and
// prints them (cgroup-v2.rst "CPU Interface Files"), and the bookkeeping of
// bandwidth control in virtual time (Documentation/scheduler/sched-bwc.rst;
// ../shared/SEMANTICS.md §2.2) that the scheduler (scheduler.cpp) calls.
//
// Bandwidth, the model: a cgroup with a quota owns a pool of MAX µs of run
// time per PERIOD µs. Its periods are aligned from the moment cpu.max was
// last written (Linux restarts the period timer then). Every instruction a
// member of the cgroup or of a descendant runs is taken from the pool of
// every ancestor-or-self with a quota; when one pool is empty, that cgroup
// is throttled — nothing in its subtree runs — until its period ends and
// the pool is refilled. So a parent's exhaustion holds back a child that
// still has quota of its own (sched-bwc.rst "Hierarchical considerations";
// checklist 16). Linux hands the pool out to each CPU in 5 ms slices
// (sched_cfs_bandwidth_slice_us); with one CPU and exact accounting there
// is nothing to hand out, so the pool is charged directly.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "cgroup.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {

// tg_set_cfs_bandwidth(): min_cfs_quota_period 1 ms, max_cfs_quota_period
// 1 s, and max_cfs_runtime = MAX_BW µs with MAX_BW = 2^(64 - BW_SHIFT) - 1,
// BW_SHIFT 20 (kernel/sched/sched.h), "more than 203 days".
constexpr uint64_t kMinQuotaPeriodUs = 1000;
constexpr uint64_t kMaxPeriodUs = 1000000;
constexpr uint64_t kMaxQuotaUs = (uint64_t(1) << 44) - 1;

// sched_prio_to_weight[] (kernel/sched/core.c): the scheduler weight of
// nice -20 .. 19, each step about 1.25x the next, nice 0 = 1024.
constexpr uint64_t kNiceToWeight[40] = {
    88761, 71755, 56483, 46273, 36291,  // -20 .. -16
    29154, 23254, 18705, 14949, 11916,  // -15 .. -11
    9548,  7620,  6100,  4904,  3906,   // -10 .. -6
    3121,  2501,  1991,  1586,  1277,   // -5 .. -1
    1024,  820,   655,   526,   423,    // 0 .. 4
    335,   272,   215,   172,   137,    // 5 .. 9
    110,   87,    70,    56,    45,     // 10 .. 14
    36,    29,    23,    18,    15,     // 15 .. 19
};

uint64_t period_instructions(const CgroupCpu& s) { return s.period_us * kCpuInstructionsPerUsec; }
bool limited(const CgroupCpu& s) { return s.quota_us != kCpuQuotaMax; }

// The leading decimal digits at text[i...] as the kernel's vsscanf "%llu"
// reads them (no sign, no base prefix); false if there are none. Saturates
// instead of wrapping: any value that large fails the range checks anyway.
bool scan_u64(const std::string& text, size_t i, uint64_t& out) {
  if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  uint64_t v = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i)
    v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + uint64_t(text[i] - '0');
  out = v;
  return true;
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// --- cpu.max ---------------------------------------------------------------------

void read_max(const Cgroup& cg, std::string& out) {
  // cpu_max_show(): "max PERIOD" or "QUOTA PERIOD", in µs.
  const CgroupCpu& s = cg.cpu;
  out = (limited(s) ? std::to_string(s.quota_us) : std::string("max")) + " " + std::to_string(s.period_us) + "\n";
}

int write_max(Cgroup& cg, const std::string& text) {
  // cpu_max_write() -> cpu_period_quota_parse(): sscanf(buf, "%20s %llu",
  // tok, &period) must match at least the first word, else EINVAL; a
  // missing (or unreadable) second number leaves the period as it is, so
  // one number sets MAX only. The word is then a number (its leading
  // digits) or "max".
  size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  if (i >= text.size()) return -kEINVAL;
  size_t end = i;
  while (end < text.size() && !is_space(text[end]) && end - i < 20) ++end;
  const std::string tok = text.substr(i, end - i);
  uint64_t period = cg.cpu.period_us;
  size_t j = end;
  while (j < text.size() && is_space(text[j])) ++j;
  scan_u64(text, j, period);
  uint64_t quota = 0;
  bool unlimited = false;
  if (!scan_u64(tok, 0, quota)) {
    if (tok != "max") return -kEINVAL;
    unlimited = true;
  }
  // tg_set_cfs_bandwidth()'s checks, in its order; all EINVAL. (On the
  // unified hierarchy a child's quota may exceed its parent's: no check.)
  if ((!unlimited && quota < kMinQuotaPeriodUs) || period < kMinQuotaPeriodUs) return -kEINVAL;
  if (period > kMaxPeriodUs) return -kEINVAL;
  if (!unlimited && quota > kMaxQuotaUs) return -kEINVAL;
  cg.cpu.quota_us = unlimited ? kCpuQuotaMax : int64_t(quota);
  cg.cpu.period_us = period;
  cg.cpu.reconfigured = true;  // the scheduler restarts the period and unthrottles (cpu_advance)
  return 0;
}

// --- cpu.weight, cpu.weight.nice ------------------------------------------------------

void read_weight(const Cgroup& cg, std::string& out) {
  // cpu_weight_read_u64(): shares * 100 / 1024, rounded to the closest.
  out = std::to_string((cg.cpu.shares * 100 + 512) / 1024) + "\n";
}

int write_weight(Cgroup& cg, const std::string& text) {
  // A write_u64 file: kstrtoull(strstrip(buf), 0) — no minus sign — else
  // EINVAL; then cpu_weight_write_u64() wants [CGROUP_WEIGHT_MIN 1,
  // CGROUP_WEIGHT_MAX 10000] and answers anything else with ERANGE.
  const std::string s = strip(text);
  int64_t w = 0;
  if (s.empty() || s[0] == '-' || !parse_kernel_int(s, w)) return -kEINVAL;
  if (w < 1 || w > 10000) return -kERANGE;
  cg.cpu.shares = (uint64_t(w) * 1024 + 50) / 100;  // W/100 = S/1024, rounded (§2.2)
  return 0;
}

void read_weight_nice(const Cgroup& cg, std::string& out) {
  // cpu_weight_nice_read_s64(): the nice value whose weight is closest.
  size_t best = 0;
  for (size_t i = 1; i < 40; ++i) {
    const auto delta = [&](size_t k) {
      return kNiceToWeight[k] > cg.cpu.shares ? kNiceToWeight[k] - cg.cpu.shares : cg.cpu.shares - kNiceToWeight[k];
    };
    if (delta(i) < delta(best)) best = i;
  }
  out = std::to_string(int(best) - 20) + "\n";
}

int write_weight_nice(Cgroup& cg, const std::string& text) {
  // A write_s64 file (kstrtoll, EINVAL if not a number), then
  // cpu_weight_nice_write_s64(): [MIN_NICE -20, MAX_NICE 19] else ERANGE.
  int64_t nice = 0;
  if (!parse_kernel_int(text, nice)) return -kEINVAL;
  if (nice < -20 || nice > 19) return -kERANGE;
  cg.cpu.shares = kNiceToWeight[nice + 20];
  return 0;
}

// --- cpu.stat ------------------------------------------------------------------------

void read_stat(const Cgroup& cg, std::string& out) {
  // cgroup_base_stat_cputime_show() for every non-root cgroup, then
  // cpu_extra_stat_show() when the controller is on (§2.2).
  //
  // user vs system: every instruction charged here ran at CPL 3, so it is
  // user time. The kernel model's own work (a system call, a page fault
  // served in C++) takes no virtual time at all — that is the container's
  // advantage over a guest kernel that executes instructions for it
  // (docs/container-sim.md) — so there is no system time to report, and
  // system_usec stays 0 rather than an invented per-call cost.
  const CgroupCpu& s = cg.cpu;
  out = "usage_usec " + std::to_string(s.usage / kCpuInstructionsPerUsec) + "\n";
  out += "user_usec " + std::to_string(s.user / kCpuInstructionsPerUsec) + "\n";
  out += "system_usec 0\n";
  if (!cg.has(kCgCpu)) return;
  out += "nr_periods " + std::to_string(s.nr_periods) + "\n";
  out += "nr_throttled " + std::to_string(s.nr_throttled) + "\n";
  // Linux adds a throttle's time when it ends (unthrottle_cfs_rq), so a
  // throttle still in progress is not in the figure yet; the same here.
  out += "throttled_usec " + std::to_string(s.throttled_time / kCpuInstructionsPerUsec) + "\n";
}

void reset(Cgroup& cg) {
  // The css goes: limits, weight and bandwidth statistics start over. The
  // usage figures are the cgroup core's and stay.
  const uint64_t usage = cg.cpu.usage, user = cg.cpu.user;
  cg.cpu = CgroupCpu{};
  cg.cpu.usage = usage;
  cg.cpu.user = user;
}

// A virtual-runtime step: `ran` instructions at scheduler weight `shares`
// (in 1/64 instruction at weight 1024, so that weight 10000 still moves).
uint64_t scaled(uint64_t ran, uint64_t shares) { return ran * 65536 / std::max<uint64_t>(shares, 1); }

}  // namespace

const CgroupControllerOps& cpu_controller() {
  static const CgroupControllerOps ops = {
      {{"cpu.max", read_max, write_max},
       {"cpu.stat", read_stat, nullptr, true},
       {"cpu.weight", read_weight, write_weight},
       {"cpu.weight.nice", read_weight_nice, write_weight_nice}},
      reset,
  };
  return ops;
}

// --- bandwidth and weight bookkeeping (called by scheduler.cpp) ---------------------------

Cgroup& cpu_css(Cgroup& cg) {
  Cgroup* c = &cg;
  while (c->parent && !c->has(kCgCpu)) c = c->parent;
  return *c;
}

void cpu_charge(Cgroup& cg, uint64_t ran, bool scheduling) {
  if (ran == 0) return;
  for (Cgroup* c = &cg; c; c = c->parent) c->cpu.usage += ran, c->cpu.user += ran;
  if (!scheduling) return;
  Cgroup& css = cpu_css(cg);
  // The cgroup's own processes count as one entity of weight 1024 in its
  // queue (see scheduler.cpp); every group on the way up as itself.
  css.cpu.tasks_vruntime += scaled(ran, kCpuDefaultShares);
  for (Cgroup* c = &css; c->parent; c = c->parent) {
    c->cpu.vruntime += scaled(ran, c->cpu.shares);
    if (limited(c->cpu)) {
      c->cpu.runtime_left -= int64_t(ran);
      c->cpu.ran_in_period = true;
    }
  }
}

bool cpu_advance(Cgroup& cg, uint64_t now) {
  CgroupCpu& s = cg.cpu;
  if (s.reconfigured) {
    // tg_set_cfs_bandwidth(): the pool is refilled, the period timer
    // restarted, and throttled run queues are released — "changing the
    // limit unthrottles the group" (sched-bwc.rst).
    const bool was = s.throttled;
    if (was) s.throttled_time += now - s.throttled_since;
    s.reconfigured = false;
    s.throttled = s.ran_in_period = s.throttled_in_period = false;
    s.period_start = now;
    s.runtime_left = limited(s) ? s.quota_us * int64_t(kCpuInstructionsPerUsec) : 0;
    return was;
  }
  if (!limited(s)) return false;
  const uint64_t period = period_instructions(s);
  const uint64_t end = s.period_start + period;
  if (now < end) return false;
  // The period timer fires (do_sched_cfs_period_timer): the period that
  // ended counts if the group used run time or was throttled in it — Linux
  // stops the timer of an idle group, so periods in which nothing ran do
  // not count — and a throttled group is released at the boundary.
  if (s.ran_in_period || s.throttled_in_period) ++s.nr_periods;
  if (s.throttled_in_period) ++s.nr_throttled;
  const bool was = s.throttled;
  if (was) s.throttled_time += end - s.throttled_since;
  s.throttled = s.ran_in_period = s.throttled_in_period = false;
  s.period_start += (now - s.period_start) / period * period;  // periods stay aligned
  s.runtime_left = s.quota_us * int64_t(kCpuInstructionsPerUsec);
  return was;
}

bool cpu_throttle_if_empty(Cgroup& cg, uint64_t now) {
  CgroupCpu& s = cg.cpu;
  if (!limited(s) || s.throttled || s.reconfigured || s.runtime_left > 0) return false;
  s.throttled = true;
  s.throttled_since = now;
  s.throttled_in_period = true;
  return true;
}

uint64_t cpu_period_end(const Cgroup& cg) { return cg.cpu.period_start + period_instructions(cg.cpu); }

uint64_t cpu_run_limit(Cgroup& cg, uint64_t now) {
  uint64_t limit = UINT64_MAX;
  for (Cgroup* c = &cpu_css(cg); c->parent; c = c->parent) {
    const CgroupCpu& s = c->cpu;
    if (!limited(s) || s.reconfigured) continue;
    limit = std::min(limit, uint64_t(std::max<int64_t>(s.runtime_left, 1)));
    const uint64_t end = cpu_period_end(*c);
    if (end > now) limit = std::min(limit, end - now);
  }
  return limit;
}

bool cpu_held(const Cgroup& cg) {
  for (const Cgroup* c = &cg; c; c = c->parent)
    if (c->cpu.throttled) return true;
  return false;
}

}  // namespace vs::container_sim

// The cpu controller's state per cgroup (cgroup-v2.rst "CPU";
// Documentation/scheduler/sched-bwc.rst; ../shared/SEMANTICS.md §2.2).
//
// Three kinds of state live here, each kept by a different part:
//   - the knobs a writer sets (cpu.max, cpu.weight): cgroup_cpu.cpp;
//   - what the scheduler keeps to apply them in virtual time — the
//     bandwidth pool of the current period and the group's virtual runtime
//     among its siblings: kept by the functions below (cgroup_cpu.cpp),
//     called from the scheduler (scheduler.cpp), which picks by them;
//   - the figures cpu.stat prints. usage and user count in every cgroup
//     whether or not the controller is on (they are the cgroup core's
//     statistics in Linux, cgroup_base_stat_cputime_show), and a cgroup's
//     usage includes its descendants'.
//
// Time is kept in instructions (virtual time, one instruction = 10 ns,
// kCpuInstructionsPerUsec of them per microsecond) and converted to
// microseconds only when a file is read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vs::container_sim {

constexpr uint64_t kCpuInstructionsPerUsec = 100;  // 10 ns per instruction (container_host.h)
constexpr int64_t kCpuQuotaMax = -1;               // cpu.max "max": no bandwidth limit
constexpr uint64_t kCpuDefaultPeriodUs = 100000;   // cpu.max's default period (cgroup-v2.rst)
constexpr uint64_t kCpuDefaultShares = 1024;       // the scheduler weight of cpu.weight 100 (nice 0)

struct CgroupCpu {
  // --- the knobs (cgroup_cpu.cpp) ---
  int64_t quota_us = kCpuQuotaMax;            // cpu.max $MAX
  uint64_t period_us = kCpuDefaultPeriodUs;   // cpu.max $PERIOD
  // cpu.weight kept as Linux keeps it, as the scheduler's weight (shares):
  // cpu.weight W is W * 1024 / 100, rounded; cpu.weight.nice sets it from
  // the nice-to-weight table. Reading converts back.
  uint64_t shares = kCpuDefaultShares;
  // cpu.max was written: the scheduler starts a new period with a full
  // pool and lifts a throttle at its next accounting step (tg_set_cfs_bandwidth
  // refills and unthrottles). A flag because a write knows no clock.
  bool reconfigured = false;

  // --- bandwidth in the current period (scheduler), virtual time in instructions ---
  uint64_t period_start = 0;      // where the current period began (periods are aligned per cgroup)
  int64_t runtime_left = 0;       // what the group may still run in this period
  bool throttled = false;         // used up: nothing below runs until the refill
  uint64_t throttled_since = 0;
  bool ran_in_period = false;     // for nr_periods
  bool throttled_in_period = false;  // for nr_throttled
  uint64_t nr_periods = 0, nr_throttled = 0;
  uint64_t throttled_time = 0;    // instructions' worth of time spent throttled

  // --- weight among siblings (scheduler; CFS-like virtual runtime) ---
  uint64_t vruntime = 0;          // this group as one entity in its parent's queue
  uint64_t tasks_vruntime = 0;    // its own processes, as one entity in its own queue
  uint64_t min_vruntime = 0;      // its queue's floor: a returning entity starts no lower
  size_t last_slot = SIZE_MAX;    // round robin among its own processes: the slot that ran last

  // --- cpu.stat's core figures (counted in every cgroup, hierarchically) ---
  uint64_t usage = 0;             // instructions run by members of this cgroup and its descendants
  uint64_t user = 0;              // ... at CPL 3 (all of them: see cgroup_cpu.cpp read_stat)
};

struct Cgroup;

// The cgroup whose run queue a member of `cg` is scheduled in: the nearest
// ancestor-or-self with cpu enabled, else the root (Linux: the task group of
// the cpu css the cgroup resolves to).
Cgroup& cpu_css(Cgroup& cg);
// A member of `cg` ran `ran` instructions at CPL 3: usage and user_usec of
// `cg` and every ancestor; with `scheduling` (cpu enabled somewhere) also
// the virtual runtimes of its entities and the bandwidth pools of every
// ancestor-or-self with a quota.
void cpu_charge(Cgroup& cg, uint64_t ran, bool scheduling);
// At virtual time `now`: applies a cpu.max write (new period, full pool,
// throttle lifted), closes the periods that ended (nr_periods,
// nr_throttled, throttled time, refill). True if a throttle was lifted.
bool cpu_advance(Cgroup& cg, uint64_t now);
// Throttles `cg` if its pool is used up; true if that happened now.
bool cpu_throttle_if_empty(Cgroup& cg, uint64_t now);
// When the current period of `cg` ends (its next refill), in instructions.
uint64_t cpu_period_end(const Cgroup& cg);
// How far a member of `cg` may run from `now` before the pool of `cg` or of
// an ancestor runs dry or one of their periods ends (UINT64_MAX: no limit).
uint64_t cpu_run_limit(Cgroup& cg, uint64_t now);
// Is `cg` or an ancestor throttled?
bool cpu_held(const Cgroup& cg);

}  // namespace vs::container_sim

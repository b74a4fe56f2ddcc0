// The io controller's state per cgroup (cgroup-v2.rst "IO";
// ../shared/SEMANTICS.md §2.5; docs/container-sim/cgroup-io.md).
//
// Per device it keeps what io.stat shows (bytes and requests, read and
// written, this cgroup's and its descendants' — Linux propagates them up
// with blkcg's rstat flush) and what io.max limits (Linux's blk-throttle),
// with one token bucket per limit in virtual time: a request that would
// take the cgroup over its rate waits, it never fails.
//
// The buckets are GCRA ("virtual scheduling"): each limit remembers the
// theoretical time its next request may go (`next_ns`); a request costing
// T ns of the limit (bytes / bps, or 1 / iops) goes at max(now, next - burst)
// and pushes `next` on by T. The burst allowance is blk-throttle's slice,
// 100 ms: after an idle spell a cgroup may go that far ahead of its rate,
// which is the "temporary bursts" cgroup-v2.rst allows. Over any long run
// the throughput is the limit (checklist 21).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vs::container_sim {

struct Cgroup;

constexpr uint64_t kIoUnlimited = UINT64_MAX;      // "max" of rbps/wbps (U64_MAX in blk-throttle)
constexpr uint64_t kIoIopsUnlimited = 0xFFFFFFFFu;  // "max" of riops/wiops (UINT_MAX: they are unsigned int)
constexpr uint64_t kIoBurstNs = 100'000'000;        // blk-throttle's throtl_slice (HZ / 10)

// "MAJ:MIN" of a block device, in the order io.stat and io.max list them.
using IoDevice = std::pair<uint32_t, uint32_t>;

// One device's line of io.stat: blkg_iostat's counters (dbytes/dios: discards, never issued here).
struct IoStat {
  uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0, dbytes = 0, dios = 0;
  bool any() const { return rbytes || wbytes || rios || wios; }
};

// One device's io.max, and the buckets that enforce it.
struct IoLimit {
  enum Index { kRbps, kWbps, kRiops, kWiops, kCount };
  uint64_t max[kCount] = {kIoUnlimited, kIoUnlimited, kIoIopsUnlimited, kIoIopsUnlimited};
  uint64_t next_ns[kCount] = {};  // GCRA: when the next request may go, burst aside
  bool limited(int i) const { return max[i] != (i < kRiops ? kIoUnlimited : kIoIopsUnlimited); }
  bool any() const { return limited(kRbps) || limited(kWbps) || limited(kRiops) || limited(kWiops); }
};

struct CgroupIo {
  std::map<IoDevice, IoStat> stat;    // devices this cgroup's subtree did IO on
  std::map<IoDevice, IoLimit> limit;  // devices io.max names (all four "max": removed)
};

// io.max, as blk-throttle's tg_set_limit() parses it: "MAJ:MIN" (EINVAL if
// malformed), a device that exists (`exists`, else ENODEV), then any of
// rbps= wbps= riops= wiops= with a number or "max" (EINVAL; 0 is ERANGE).
// 0 or -errno; nothing changes on an error.
int io_max_write(Cgroup& cg, const std::string& text, const std::function<bool(IoDevice)>& exists);

// The cgroups whose io.max applies to IO of a process in `cg`: its own
// and every ancestor's where io is enabled, nearest first (the root has none).
std::vector<Cgroup*> io_limited_cgroups(Cgroup& cg);

// Runs `requests` (bytes each, one direction) through the buckets of every
// limit above `cg` starting at `now_ns`: when the last one may go (>= now),
// with each bucket charged. `limiter` gets the cgroup whose limit last held
// the requests back (null when nothing waited).
uint64_t io_throttle(Cgroup& cg, IoDevice dev, bool write, const std::vector<uint32_t>& requests, uint64_t now_ns,
                     Cgroup** limiter);

// Counts `bytes` in `ios` requests in io.stat of `cg` and of each ancestor
// that has io (the root counts everything, as its io.stat is the disk's).
void io_account(Cgroup& cg, IoDevice dev, bool write, uint64_t bytes, uint64_t ios);

// The cgroup whose io.stat a process in `cg` charges first: the nearest with io (else the root).
Cgroup& io_owner(Cgroup& cg);

}  // namespace vs::container_sim

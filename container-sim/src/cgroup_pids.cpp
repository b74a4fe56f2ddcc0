// The pids controller's interface files (kernel/cgroup/pids.c; cgroup-v2.rst
// "PID"; ../shared/SEMANTICS.md §2.4). Its counting — charged at fork or
// migration, uncharged when a zombie is reaped — is the hierarchy's
// (CgroupHierarchy::can_fork, attach, release in cgroup.cpp), because every
// cgroup counts its processes whether or not pids is enabled.
#include "cgroup.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {

void read_max(const Cgroup& cg, std::string& out) {
  out = cg.pids_max == kPidsUnlimited ? "max\n" : std::to_string(cg.pids_max) + "\n";
}

int write_max(Cgroup& cg, const std::string& text) {
  // pids_max_write(): "max", or 0 <= N < PIDS_MAX; anything else EINVAL.
  // Setting it below pids.current is allowed (§2.4); nothing is killed.
  const std::string s = strip(text);
  int64_t limit = 0;
  if (s == "max") {
    limit = kPidsUnlimited;
  } else if (!parse_kernel_int(s, limit) || limit < 0 || limit > kPidsMaxLimit) {
    return -kEINVAL;
  }
  cg.pids_max = limit;
  return 0;
}

void read_current(const Cgroup& cg, std::string& out) { out = std::to_string(cg.pids_current) + "\n"; }
void read_events(const Cgroup& cg, std::string& out) { out = "max " + std::to_string(cg.pids_events_max) + "\n"; }

void reset(Cgroup& cg) {
  cg.pids_max = kPidsUnlimited;
  cg.pids_events_max = 0;
}

}  // namespace

const CgroupControllerOps& pids_controller() {
  static const CgroupControllerOps ops = {
      {{"pids.current", read_current}, {"pids.events", read_events}, {"pids.max", read_max, write_max}},
      reset,
  };
  return ops;
}

}  // namespace vs::container_sim

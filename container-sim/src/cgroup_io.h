// The io controller's state per cgroup (../shared/SEMANTICS.md Part 1b).
// Not built yet: the controller can be enabled in cgroup.subtree_control
// by the hierarchy's rules, but has no interface files and limits nothing.
#pragma once

#include <cstdint>

namespace vs::container_sim {

struct CgroupIo {};

}  // namespace vs::container_sim

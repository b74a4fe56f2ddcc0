// The memory controller (cgroup_memory.h): not built yet — no interface files.
#include "cgroup.h"

namespace vs::container_sim {

const CgroupControllerOps& memory_controller() {
  static const CgroupControllerOps ops = {{}, nullptr};
  return ops;
}

}  // namespace vs::container_sim

// The cpu controller (cgroup_cpu.h): not built yet — no interface files.
#include "cgroup.h"

namespace vs::container_sim {

const CgroupControllerOps& cpu_controller() {
  static const CgroupControllerOps ops = {{}, nullptr};
  return ops;
}

}  // namespace vs::container_sim

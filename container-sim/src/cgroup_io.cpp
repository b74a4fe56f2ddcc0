// The io controller (cgroup_io.h): not built yet — no interface files.
#include "cgroup.h"

namespace vs::container_sim {

const CgroupControllerOps& io_controller() {
  static const CgroupControllerOps ops = {{}, nullptr};
  return ops;
}

}  // namespace vs::container_sim

// The teaching kernel's workloads as the VMM tests run them: the kernel
// and initrd the build made, one command line.
#pragma once

#include <string>
#include <vector>

#include "virtscope/vmm/compare.h"

namespace vs::vmm {

inline Workload workload(std::vector<std::string> argv) {
  Workload w;
  w.kernel = VS_KERNEL;
  w.initrd = VS_INITRD;
  w.argv = std::move(argv);
  return w;
}

}  // namespace vs::vmm

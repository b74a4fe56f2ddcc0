#include "vm_host.h"

#include <cstring>

namespace vs::vmm {

devices::MultibootResult load_into_vm(const devices::MultibootImage& image, devices::PhysicalMemory& host,
                                      uint32_t guest_ram) {
  devices::PhysicalMemory staging(guest_ram);
  devices::MultibootResult r = devices::load_multiboot(image, staging);
  if (r.ok) std::memcpy(host.ram() + kGuestBase, staging.ram(), guest_ram);
  return r;
}

}  // namespace vs::vmm

#include "vm_host.h"

#include <cstring>

namespace vs::vmm {

devices::MultibootResult load_into_vm(const devices::MultibootImage& image, const VmmHost& host,
                                      uint32_t guest_ram) {
  devices::PhysicalMemory staging(guest_ram);
  devices::MultibootResult r = devices::load_multiboot(image, staging);
  if (r.ok) std::memcpy(host.memory.ram() + host.guest_base(), staging.ram(), guest_ram);
  return r;
}

void serve_port_io(const VmmHost& host, TrapStats& stats, devices::PortBus& ports, uint16_t port, unsigned size,
                   bool in, uint32_t& eax) {
  const uint64_t t = host.cpu.instructions();
  const uint32_t mask = size == 4 ? ~0u : (1u << (8 * size)) - 1;
  if (in) {
    const uint32_t v = ports.in(port, size) & mask;
    host.log.emit(trace::EventKind::PortIn, trace::VirtualTime{t, t}, port, size, v);
    eax = (eax & ~mask) | v;
    record_io_request(host, stats, port, v, true);
  } else {
    host.log.emit(trace::EventKind::PortOut, trace::VirtualTime{t, t}, port, size, eax & mask);
    ports.out(port, size, eax & mask);
    record_io_request(host, stats, port, eax & mask, false);
  }
}

}  // namespace vs::vmm

// Start states for the bare machine (Intel SDM Vol. 3 §9.1 for real mode,
// §3.4.5 for the flat 32-bit descriptors the benchmark runs under).
#include "bare_machine.h"

namespace vs::app {

void BareMachine::enter_flat32(uint32_t eip, uint32_t esp) {
  cpu::CpuState s = cpu.state();
  cpu::enter_flat_protected_mode(s, eip);
  s.gpr[cpu::ESP] = esp;
  cpu.set_state(s);
}

void BareMachine::enter_real(uint16_t ip) {
  cpu::CpuState s = cpu.state();
  for (auto& seg : s.seg) {
    seg.selector = 0;
    seg.base = 0;
    seg.limit = 0xFFFF;
    seg.attr = 0x0093;
  }
  s.seg[cpu::CS].attr = 0x009B;
  s.eip = ip;
  s.idtr = {0, 0x3FF};
  cpu.set_state(s);
}

}  // namespace vs::app

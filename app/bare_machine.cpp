// Start states for the bare machine (Intel SDM Vol. 3 §9.1 for real mode,
// §3.4.5 for the flat 32-bit descriptors the benchmark runs under).
#include "bare_machine.h"

namespace vs::app {

void BareMachine::enter_flat32(uint32_t eip, uint32_t esp) {
  cpu::CpuState s = cpu.state();
  s.cr0 |= cpu::cr0::PE;
  for (auto& seg : s.seg) {
    seg.selector = 0x10;
    seg.base = 0;
    seg.limit = 0xFFFFFFFF;
    seg.attr = 0xC093;  // G, D/B, present, DPL 0, read/write data
  }
  s.seg[cpu::CS].selector = 0x08;
  s.seg[cpu::CS].attr = 0xC09B;  // G, D, present, DPL 0, execute/read code
  s.eip = eip;
  s.gpr[cpu::ESP] = esp;
  s.eflags = 0x2;
  s.cpl = 0;
  s.halted = false;
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

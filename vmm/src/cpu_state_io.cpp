#include "cpu_state_io.h"

namespace vs::vmm {

namespace {
void save_segment(devices::StateWriter& out, const cpu::Segment& seg) {
  out.u16(seg.selector);
  out.u32(seg.base);
  out.u32(seg.limit);
  out.u16(seg.attr);
}
void load_segment(devices::StateReader& in, cpu::Segment& seg) {
  seg.selector = in.u16();
  seg.base = in.u32();
  seg.limit = in.u32();
  seg.attr = in.u16();
}
}  // namespace

void save_cpu_state(devices::StateWriter& out, const cpu::CpuState& s, uint64_t icount) {
  out.u64(icount);
  for (uint32_t r : s.gpr) out.u32(r);
  out.u32(s.eip);
  out.u32(s.eflags);
  for (const cpu::Segment& seg : s.seg) save_segment(out, seg);
  out.u32(s.gdtr.base);
  out.u16(s.gdtr.limit);
  out.u32(s.idtr.base);
  out.u16(s.idtr.limit);
  save_segment(out, s.ldtr);
  save_segment(out, s.tr);
  out.u32(s.cr0);
  out.u32(s.cr2);
  out.u32(s.cr3);
  out.u32(s.cr4);
  for (uint32_t d : s.dr) out.u32(d);
  out.u64(s.tsc_offset);
  out.u64(s.msr_sysenter_cs);
  out.u64(s.msr_sysenter_esp);
  out.u64(s.msr_sysenter_eip);
  out.u64(s.msr_apic_base);
  out.boolean(s.halted);
  out.boolean(s.interrupt_shadow);
  out.u8(s.cpl);
}

void load_cpu_state(devices::StateReader& in, cpu::CpuState& s, uint64_t& icount) {
  icount = in.u64();
  for (uint32_t& r : s.gpr) r = in.u32();
  s.eip = in.u32();
  s.eflags = in.u32();
  for (cpu::Segment& seg : s.seg) load_segment(in, seg);
  s.gdtr.base = in.u32();
  s.gdtr.limit = in.u16();
  s.idtr.base = in.u32();
  s.idtr.limit = in.u16();
  load_segment(in, s.ldtr);
  load_segment(in, s.tr);
  s.cr0 = in.u32();
  s.cr2 = in.u32();
  s.cr3 = in.u32();
  s.cr4 = in.u32();
  for (uint32_t& d : s.dr) d = in.u32();
  s.tsc_offset = in.u64();
  s.msr_sysenter_cs = in.u64();
  s.msr_sysenter_esp = in.u64();
  s.msr_sysenter_eip = in.u64();
  s.msr_apic_base = in.u64();
  s.halted = in.boolean();
  s.interrupt_shadow = in.boolean();
  s.cpl = in.u8();
  in.expect(s.cpl <= 3, "snapshot CPU state has a CPL above 3");
}

}  // namespace vs::vmm

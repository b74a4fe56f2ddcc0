// Processor control: control-register writes and the mode changes they cause,
// CPUID, model-specific registers, port I/O with IOPL and the TSS I/O
// permission bitmap. Intel SDM Vol. 3 §2.5 (control registers), §9.9 (mode
// switching), Vol. 1 §19.5 (I/O permission bitmap), Vol. 2 "CPUID", Vol. 4 (MSRs).
#include "core.h"

namespace vs::cpu {

Fault Core::write_cr(unsigned n, uint32_t v) {
  switch (n) {
    case 0: {
      // PG without PE, or NW without CD, is #GP(0); ET is hardwired to 1 (P6).
      if ((v & cr0::PG) && !(v & cr0::PE)) return gp(0);
      if ((v & cr0::NW) && !(v & cr0::CD)) return gp(0);
      const uint32_t old = s.cr0;
      s.cr0 = (v & 0xE005003Fu) | cr0::ET;
      if ((old ^ s.cr0) & (cr0::PE | cr0::PG | cr0::WP)) after_mode_change(old);
      return {};
    }
    case 2: s.cr2 = v; return {};
    case 3:
      s.cr3 = v & 0xFFFFF018u;
      flush_tlb();
      if (translator) translator->flush(false);
      return {};
    case 4: {
      // Bits virtscope does not implement are reserved: setting them is #GP(0).
      constexpr uint32_t kSupported = cr4::TSD | cr4::DE | cr4::PSE | cr4::PGE | cr4::PCE;
      if (v & ~kSupported) return gp(0);
      const uint32_t old = s.cr4;
      s.cr4 = v;
      if ((old ^ v) & (cr4::PSE | cr4::PGE)) {
        flush_tlb();
        if (translator) translator->flush(true);
      }
      return {};
    }
    default: return ud();  // CR1, CR5-CR7
  }
}

// PE or PG changed: translations, decoded blocks (decoding depends on the
// mode) and segment windows all change meaning.
void Core::after_mode_change(uint32_t old_cr0) {
  flush_tlb();
  flush_blocks();
  if (translator) translator->flush(true);
  for (unsigned seg = 0; seg < kSegCount; ++seg) set_segment_cache(seg, s.seg[seg]);
  if ((old_cr0 ^ s.cr0) & cr0::PE) {
    emit(trace::EventKind::ModeChange, old_cr0 & cr0::PE ? 1 : 0, s.cr0 & cr0::PE ? 1 : 0, s.cpl, s.cpl);
  }
  attention = true;
}

// CPUID: virtscope's own signature (docs/cpu.md). Leaf 0 vendor
// "VirtScopeX86"; leaf 1 family 6, model 1, stepping 0 (a Pentium Pro-class
// part) and the features the configuration claims. Leaves above the maximum
// return the highest basic leaf's data, as Intel processors do.
CpuidResult Core::cpuid(uint32_t leaf, uint32_t) const {
  constexpr uint32_t kMaxLeaf = 1;
  auto word = [](const char* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; };
  if (leaf > kMaxLeaf) leaf = kMaxLeaf;
  CpuidResult r;
  if (leaf == 0) {
    r.eax = kMaxLeaf;
    r.ebx = word(kCpuidVendor);
    r.edx = word(kCpuidVendor + 4);
    r.ecx = word(kCpuidVendor + 8);
  } else {
    r.eax = 0x00000610;  // family 6, model 1, stepping 0
    r.edx = config.cpuid_features;
  }
  return r;
}

// The MSRs a P6-class PC platform needs (SDM Vol. 4 Table 2-2); others #GP(0).
bool Core::read_msr(uint32_t index, uint64_t& v) const {
  switch (index) {
    case 0x10: v = icount + s.tsc_offset; return true;        // IA32_TIME_STAMP_COUNTER
    case 0x1B: v = s.msr_apic_base; return true;              // IA32_APIC_BASE
    case 0x174: v = s.msr_sysenter_cs; return true;           // IA32_SYSENTER_CS
    case 0x175: v = s.msr_sysenter_esp; return true;
    case 0x176: v = s.msr_sysenter_eip; return true;
    default: return false;
  }
}

bool Core::write_msr(uint32_t index, uint64_t v) {
  switch (index) {
    case 0x10: s.tsc_offset = v - icount; return true;
    case 0x1B: s.msr_apic_base = v & 0xFFFFF900ull; return true;
    case 0x174: s.msr_sysenter_cs = v & 0xFFFF; return true;
    case 0x175: s.msr_sysenter_esp = v & 0xFFFFFFFF; return true;
    case 0x176: s.msr_sysenter_eip = v & 0xFFFFFFFF; return true;
    default: return false;
  }
}

// Protected-mode I/O permission: CPL <= IOPL, else every bit of the port
// range must be clear in the 32-bit TSS's bitmap (SDM Vol. 1 §19.5.2).
Fault Core::check_io(uint16_t port, unsigned size) {
  if (!protected_mode() || (!v86() && cpl() <= iopl())) return {};
  const bool tss32 = s.tr.type() == 9 || s.tr.type() == 11;
  if (!tss32 || s.tr.limit < 0x67) return gp(0);
  uint32_t map_base;
  if (auto f = read_sys(s.tr.base + 0x66, 2, map_base)) return f;
  const uint32_t at = map_base + port / 8;
  if (at + 1 > s.tr.limit) return gp(0);
  uint32_t bits;
  if (auto f = read_sys(s.tr.base + at, 2, bits)) return f;
  const uint32_t want = ((1u << size) - 1) << (port & 7);
  return (bits & want) ? gp(0) : Fault{};
}

uint32_t Core::port_in(uint16_t port, unsigned size) {
  const uint32_t v = io.in(port, size);
  emit(trace::EventKind::PortIn, port, size, v);
  update_attention();  // a device may have raised or dropped an interrupt
  return v;
}

void Core::port_out(uint16_t port, unsigned size, uint32_t value) {
  emit(trace::EventKind::PortOut, port, size, value);
  io.out(port, size, value);
  update_attention();
}

}  // namespace vs::cpu

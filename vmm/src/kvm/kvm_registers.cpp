// Register transfer between virtscope's CpuState and KVM's kvm_regs /
// kvm_sregs / kvm_vcpu_events (api.rst KVM_GET/SET_REGS, _SREGS,
// _VCPU_EVENTS). Both sides keep a segment as selector plus descriptor cache
// (SDM Vol. 3 §3.4.3): the cache's access-rights bits map one to one, and
// both keep the limit byte-granular with G already applied.
//
// Deliberate choices:
// - VM entry checks the guest's TR and LDTR even where the guest never uses
//   them (SDM Vol. 3C §26.3.1.2). A CpuState whose TR holds no TSS (the
//   power-on state, a Multiboot entry) gets a busy 32-bit TSS descriptor of
//   the same base and limit; an LDTR with a null selector is "unusable".
// - In real mode VMX wants CS to be a code or accessed data segment; a CS
//   cache that is neither becomes execute/read code (type 0xB).
// - EFER is 0 (an IA-32 guest); debug registers, MSRs and the TSC are not
//   transferred. `halted` is the run loop's (HLT exits to user space here).
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "kvm_device.h"
#include "virtscope/vmm/kvm.h"

namespace vs::vmm {
namespace {

using cpu::Segment;

constexpr uint32_t kTypeBusyTss32 = 0xB, kTypeLdt = 0x2, kTypeCodeExecRead = 0xB;

// Descriptor bytes 5-6 (CpuState's attr): type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15.
kvm_segment to_kvm(const Segment& s) {
  kvm_segment k{};
  k.selector = s.selector;
  k.base = s.base;
  k.limit = s.limit;
  k.type = uint8_t(s.attr & 0xF);
  k.s = (s.attr >> 4) & 1;
  k.dpl = (s.attr >> 5) & 3;
  k.present = (s.attr >> 7) & 1;
  k.avl = (s.attr >> 12) & 1;
  k.l = (s.attr >> 13) & 1;
  k.db = (s.attr >> 14) & 1;
  k.g = (s.attr >> 15) & 1;
  k.unusable = !k.present;
  return k;
}

Segment from_kvm(const kvm_segment& k) {
  Segment s;
  s.selector = k.selector;
  s.base = uint32_t(k.base);
  s.limit = k.limit;
  const bool present = k.present && !k.unusable;
  s.attr = uint16_t((k.type & 0xF) | (k.s << 4) | (k.dpl << 5) | (present << 7) | (k.avl << 12) | (k.l << 13) |
                    (k.db << 14) | (k.g << 15));
  return s;
}

kvm_segment task_register(const Segment& tr) {
  kvm_segment k = to_kvm(tr);
  const bool is_tss = !k.s && (k.type == kTypeBusyTss32 || k.type == 0x3);
  if (!is_tss) {
    k.type = kTypeBusyTss32;
    k.s = 0;
    k.db = 0;
    k.g = 0;
    if (k.limit > 0xFFFFF) k.limit = 0x67;  // the minimum 32-bit TSS (SDM Vol. 3 §8.2.1)
  }
  k.present = 1;
  k.unusable = 0;
  return k;
}

kvm_segment ldt_register(const Segment& ldtr) {
  kvm_segment k = to_kvm(ldtr);
  if ((ldtr.selector & ~3) == 0 || !ldtr.present() || k.s || k.type != kTypeLdt) {
    k = kvm_segment{};
    k.selector = ldtr.selector;
    k.type = kTypeLdt;
    k.unusable = 1;
  }
  return k;
}

kvm_segment* slot(kvm_sregs& sr, int seg) {
  switch (seg) {
    case cpu::ES: return &sr.es;
    case cpu::CS: return &sr.cs;
    case cpu::SS: return &sr.ss;
    case cpu::DS: return &sr.ds;
    case cpu::FS: return &sr.fs;
    default: return &sr.gs;
  }
}

__u64* gpr(kvm_regs& r, int reg) {
  __u64* order[8] = {&r.rax, &r.rcx, &r.rdx, &r.rbx, &r.rsp, &r.rbp, &r.rsi, &r.rdi};  // ModRM order, as CpuState
  return order[reg & 7];
}

}  // namespace

bool KvmVm::set_state(const cpu::CpuState& s, std::string& error) {
  kvm_sregs sr{};
  if (auto err = get_raw(nullptr, &sr)) {
    error = *err;
    return false;
  }
  const bool protected_mode = s.cr0 & cpu::cr0::PE;
  for (int seg = cpu::ES; seg < cpu::kSegCount; ++seg) {
    kvm_segment k = to_kvm(s.seg[seg]);
    if (!protected_mode) {
      k.present = 1;  // real-mode segments are always usable
      k.unusable = 0;
      k.s = 1;
      if (seg == cpu::CS && !(k.type & 0x8) && k.type != 0x3) k.type = kTypeCodeExecRead;
    }
    *slot(sr, seg) = k;
  }
  sr.tr = task_register(s.tr);
  sr.ldt = ldt_register(s.ldtr);
  sr.gdt = {s.gdtr.base, s.gdtr.limit, {}};
  sr.idt = {s.idtr.base, s.idtr.limit, {}};
  sr.cr0 = s.cr0;
  sr.cr2 = s.cr2;
  sr.cr3 = s.cr3;
  sr.cr4 = s.cr4;
  sr.efer = 0;
  kvm_regs r{};
  for (int g = cpu::EAX; g <= cpu::EDI; ++g) *gpr(r, g) = s.gpr[g];
  r.rip = s.eip;
  r.rflags = s.eflags | cpu::flag::kFixed1;
  if (auto err = put_raw(&r, &sr)) {
    error = *err;
    return false;
  }
  // The STI / MOV SS shadow (api.rst KVM_SET_VCPU_EVENTS, KVM_VCPUEVENT_VALID_SHADOW).
  kvm_vcpu_events ev{};
  if (::ioctl(vcpu_fd_, KVM_GET_VCPU_EVENTS, &ev) == 0) {
    ev.interrupt.shadow = s.interrupt_shadow ? KVM_X86_SHADOW_INT_STI : 0;
    ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
    if (::ioctl(vcpu_fd_, KVM_SET_VCPU_EVENTS, &ev) != 0) {
      error = kvm::errno_text("KVM_SET_VCPU_EVENTS");
      return false;
    }
  }
  halted_ = s.halted;
  return true;
}

bool KvmVm::get_state(cpu::CpuState& s, std::string& error) {
  kvm_regs r{};
  kvm_sregs sr{};
  if (auto err = get_raw(&r, &sr)) {
    error = *err;
    return false;
  }
  for (int g = cpu::EAX; g <= cpu::EDI; ++g) s.gpr[g] = uint32_t(*gpr(r, g));
  s.eip = uint32_t(r.rip);
  s.eflags = uint32_t(r.rflags);
  for (int seg = cpu::ES; seg < cpu::kSegCount; ++seg) s.seg[seg] = from_kvm(*slot(sr, seg));
  s.tr = from_kvm(sr.tr);
  s.ldtr = from_kvm(sr.ldt);
  s.gdtr = {uint32_t(sr.gdt.base), sr.gdt.limit};
  s.idtr = {uint32_t(sr.idt.base), sr.idt.limit};
  s.cr0 = uint32_t(sr.cr0);
  s.cr2 = uint32_t(sr.cr2);
  s.cr3 = uint32_t(sr.cr3);
  s.cr4 = uint32_t(sr.cr4);
  const bool protected_mode = s.cr0 & cpu::cr0::PE;
  s.cpl = !protected_mode ? 0 : (s.eflags & cpu::flag::VM) ? 3 : uint8_t(sr.ss.dpl);  // KVM keeps CPL in SS.DPL
  kvm_vcpu_events ev{};
  s.interrupt_shadow = ::ioctl(vcpu_fd_, KVM_GET_VCPU_EVENTS, &ev) == 0 && ev.interrupt.shadow != 0;
  s.halted = halted_;
  return true;
}

}  // namespace vs::vmm

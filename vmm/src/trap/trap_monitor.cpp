#include "trap_monitor.h"

#include <cstring>
#include <vector>

#include "../descriptors.h"

#include "virtscope/cpu/state.h"
#include "virtscope/mmu/paging.h"
#include "virtscope/trace/event.h"

namespace vs::vmm {

using cpu::CpuState;
using cpu::HookAction;

namespace {

constexpr uint8_t kDebug = 1, kPageFault = 14, kGeneralProtection = 13;
// How often a pending interrupt the guest has masked is looked at again (the
// guest may have unmasked it with an instruction the VMM does not see, such
// as IRET to user mode). 10,000 instructions = 0.1 ms of virtual time.
constexpr uint64_t kInterruptWindowPoll = 10'000;

// Ring compression (SDM Vol. 3A §5.5): the guest's ring-0 code and data
// descriptors become ring 1, and no guest segment reaches the VMM's top 4 MiB
// (Xen's 32-bit guests are kept out of Xen the same way).
uint64_t compress(uint64_t d) {
  const bool code_or_data = (d >> 44) & 1;
  if (!code_or_data || !((d >> 47) & 1)) return d;  // system descriptors and holes as they are
  if (((d >> 45) & 3) == 0) d |= uint64_t(1) << 45;  // DPL 0 -> 1
  // base + limit stays below the hole; a segment inside the hole is absent.
  if (!limit_below(d, ShadowPaging::kHoleBase)) d &= ~(uint64_t(1) << 47);
  return d;
}

}  // namespace

// ------------------------------------------------------------ set-up ----

TrapMonitor::TrapMonitor(Host host, uint32_t guest_ram_bytes, bool binary_translation)
    : host_(host),
      guest_(host.memory.ram(), host.guest_base(), guest_ram_bytes),
      linear_(guest_, host.log),
      shadow_(host, guest_, linear_, vcpu_.paging, stats_, {host.at(kPoolFirst), (kGuestBase - kPoolFirst) / 0x1000, host.at(kHoleTable)}),
      devices_(host.scheduler, host.log,
               [this](bool level) {
                 pic_intr_ = level;
                 update_intr();
               },
               host.guest_exit, host.serial_out, host.disk.get()) {
  bt_ = binary_translation;
  // Translated code stays read-only in the shadow; the guest's first write
  // there drops the page's translations (the code is the guest's own again).
  if (bt_)
    shadow_.set_code_pages([this](uint32_t page, bool write) {
      const bool translated = translated_pages_.count(page);
      if (translated && write) drop_translations(page);
      return translated;
    });
  window_ = host.scheduler.add("vm-interrupt-window", [this] { update_intr(); });
}

TrapMonitor::~TrapMonitor() = default;

bool TrapMonitor::boot(const devices::MultibootImage& image, CpuState& s, std::string& error) {
  const devices::MultibootResult r = load_into_vm(image, host_, guest_.size());
  if (!r.ok) {
    error = r.error;
    return false;
  }
  if (bt_) translate_kernel(image.kernel);

  // The VMM's hole: the real GDT at its base, mapped in every shadow.
  uint32_t* hole = reinterpret_cast<uint32_t*>(host_.host(kHoleTable));
  std::memset(hole, 0, 0x1000);
  for (uint32_t i = 0; i < 2; ++i) hole[i] = host_.at(kRealGdt + i * 0x1000) | mmu::entry::P | mmu::entry::RW;
  uint64_t* gdt = reinterpret_cast<uint64_t*>(host_.host(kRealGdt));
  std::memset(gdt, 0, 0x2000);
  // Until the guest loads its own GDT: flat ring-1 code (0x08) and data (0x10).
  gdt[1] = compress(0x00CF9A000000FFFFull);
  gdt[2] = compress(0x00CF92000000FFFFull);

  s = CpuState{};
  s.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP | cpu::cr0::ET;
  s.cr3 = shadow_.root();
  s.cr4 = 0;
  s.gdtr = {ShadowPaging::kHoleBase, 0x1FFF};
  s.idtr = {ShadowPaging::kHoleBase + 0x2000, 0};  // empty: every event reaches the hooks
  s.eflags = cpu::flag::kFixed1 | cpu::flag::IF;
  s.eip = r.entry;
  s.gpr[cpu::EAX] = 0x2BADB002;
  s.gpr[cpu::EBX] = r.info;
  s.cpl = 1;
  real_segment(0x09, s.seg[cpu::CS]);
  for (unsigned seg : {cpu::SS, cpu::DS, cpu::ES, cpu::FS, cpu::GS}) real_segment(0x11, s.seg[seg]);
  s.tr = {};
  s.ldtr = {};
  // Multiboot: paging off, interrupts off (§3.2).
  vcpu_ = {};
  vcpu_.paging.cr0 = cpu::cr0::PE | cpu::cr0::ET;
  return true;
}

// Every exception and interrupt of the real CPU comes to this VMM while its
// VM runs; the INTR pin follows the VM's PIC (update_intr).
void TrapMonitor::attach() {
  attached_ = true;
  host_.cpu.set_hooks(this);
  host_.cpu.set_interrupt_controller(this);
  host_.log.set_context(host_.vm, 0);
  update_intr();
}

void TrapMonitor::detach() {
  attached_ = false;
  host_.cpu.set_irq(false);
  host_.cpu.set_hooks(nullptr);
}

// The real descriptor for `selector` (its RPL is ignored), as a segment
// cache the CPU can be given. False for a selector outside the real GDT.
bool TrapMonitor::real_segment(uint16_t selector, cpu::Segment& out) const {
  return segment_in_table(host_.host(kRealGdt), 0x2000, selector, out);
}

// LGDT: the real GDT becomes a ring-compressed copy of the guest's.
bool TrapMonitor::rebuild_real_gdt() {
  const uint32_t bytes = uint32_t(vcpu_.gdtr.limit) + 1;
  if (bytes > 0x2000) return false;
  std::vector<uint64_t> guest(bytes / 8);
  if (!linear_.read(vcpu_.gdtr.base, guest.data(), uint32_t(guest.size() * 8), vcpu_.paging)) return false;
  uint64_t* real = reinterpret_cast<uint64_t*>(host_.host(kRealGdt));
  std::memset(real, 0, 0x2000);
  for (size_t i = 1; i < guest.size(); ++i) real[i] = compress(guest[i]);
  return true;
}

// ------------------------------------------------------ interrupts ----

// The guest's interrupt flag as the VMM applies it: its user mode always
// runs with interrupts on (ring 3 cannot clear IF), its kernel with the
// virtual IF that CLI and STI set.
bool TrapMonitor::guest_if(const CpuState& s) const { return s.cpl == 3 || vcpu_.interrupts_enabled; }

// The real INTR pin follows the VM's PIC only while the guest could take the
// interrupt; otherwise the VMM looks again after a short while.
void TrapMonitor::update_intr() {
  if (!attached_) return;  // pic_intr_ is kept; attach() looks again
  const CpuState s = host_.cpu.state();
  // Not while a traced write is being single-stepped.
  const bool deliverable = pic_intr_ && guest_if(s) && !shadow_.stepping();
  host_.cpu.set_irq(deliverable);
  if (pic_intr_ && !deliverable && !host_.scheduler.pending(window_))
    host_.scheduler.schedule(window_, host_.scheduler.now() + kInterruptWindowPoll);
}

uint8_t TrapMonitor::acknowledge() {
  acknowledging_ = true;
  return devices_.pic.acknowledge();
}

HookAction TrapMonitor::on_interrupt(uint8_t vector) {
  CpuState s = host_.cpu.state();
  const bool external = acknowledging_;
  acknowledging_ = false;
  if (external) {
    exit(ExitReason::ExternalInterrupt, vector, s);
    vcpu_.halted = false;
    s.halted = false;
  } else {
    // A binary-translation call-out (INT3 at a site), else the guest's INT n
    // (EIP is already past the instruction).
    if (bt_ && vector == 3 && callout(s)) return HookAction::Handled;
    if (!failure_.empty()) return HookAction::Stop;
    exit(ExitReason::SoftwareInterrupt, vector, s);
    if (vector == 0x80 && s.cpl == 3) ++stats_.syscalls;
  }
  if (!reflect(s, vector, false, 0, external ? 0 : 1)) return fail("cannot deliver an interrupt through the guest's IDT");
  update_intr();
  return HookAction::Handled;
}

// Delivery through the guest's IDT, done by the VMM as the processor would
// (SDM Vol. 3A §6.12.1): the guest's gate, its kernel stack from its TSS on
// a change from user mode, the frame pushed on that stack, the handler
// entered at (real) ring 1.
bool TrapMonitor::reflect(CpuState& s, uint8_t vector, bool has_error, uint32_t error, unsigned source) {
  uint64_t gate = 0;
  if (uint32_t(vector) * 8 + 7 > vcpu_.idtr.limit) return false;
  if (!linear_.read(vcpu_.idtr.base + vector * 8u, &gate, 8, vcpu_.paging)) return false;
  const unsigned type = (gate >> 40) & 0xF;
  if (!((gate >> 47) & 1) || (type != 0xE && type != 0xF)) return false;
  // INT n honours the gate's DPL (a user program may not raise vector 13 by hand).
  if (source == 1 && s.cpl == 3 && ((gate >> 45) & 3) < 3)
    return reflect(s, kGeneralProtection, true, vector * 8u + 2, 2);
  const uint16_t target = uint16_t(gate >> 16);
  const uint32_t offset = uint32_t(gate & 0xFFFF) | uint32_t((gate >> 32) & 0xFFFF0000);

  uint32_t frame[7];
  unsigned n = 0;
  uint32_t esp = s.gpr[cpu::ESP];
  cpu::Segment new_ss = s.seg[cpu::SS];
  if (s.cpl == 3) {
    // The guest kernel's stack: TSS.SS0:ESP0 of the guest's TSS.
    uint64_t tss_desc = 0;
    if (!vcpu_.tr || !linear_.read(vcpu_.gdtr.base + (vcpu_.tr & ~7u), &tss_desc, 8, vcpu_.paging)) return false;
    const uint32_t tss = cpu::segment_from_descriptor(0, tss_desc).base;
    uint32_t esp0 = 0, ss0 = 0;
    if (!linear_.read32(tss + 4, esp0, vcpu_.paging) || !linear_.read(tss + 8, &ss0, 2, vcpu_.paging)) return false;
    if (!real_segment(uint16_t(ss0 | 1), new_ss)) return false;
    frame[n++] = s.seg[cpu::SS].selector;
    frame[n++] = esp;
    esp = esp0;
  }
  const uint32_t eflags = (s.eflags & ~cpu::flag::IF) | (guest_if(s) ? cpu::flag::IF : 0);
  frame[n++] = eflags;
  frame[n++] = s.seg[cpu::CS].selector;
  frame[n++] = s.eip;
  if (has_error) frame[n++] = error;
  // The frame, lowest address first (EIP or the error code on top).
  uint32_t stacked[7];
  for (unsigned i = 0; i < n; ++i) stacked[i] = frame[n - 1 - i];
  esp -= n * 4;
  if (!linear_.write(new_ss.base + esp, stacked, n * 4, vcpu_.paging)) return false;

  cpu::Segment cs;
  if (!real_segment(uint16_t(target | 1), cs)) return false;
  s.seg[cpu::CS] = cs;
  s.seg[cpu::SS] = new_ss;
  s.gpr[cpu::ESP] = esp;
  s.eip = offset;
  s.cpl = 1;
  s.eflags &= ~(cpu::flag::TF | cpu::flag::NT | cpu::flag::RF);
  if (type == 0xE) vcpu_.interrupts_enabled = false;  // an interrupt gate clears IF
  s.halted = false;
  vcpu_.halted = false;
  host_.cpu.resume_with(s);
  ++stats_.reflected;
  host_.log.emit(trace::EventKind::VirtualInterrupt, now(), vector, source, offset, target);
  return true;
}

// ------------------------------------------------------ exceptions ----

HookAction TrapMonitor::on_exception(uint8_t vector, bool has_error, uint32_t error_code) {
  CpuState s = host_.cpu.state();
  if (vector == kDebug && shadow_.stepping()) {
    shadow_.finish_traced_write(s);
    update_intr();
    return HookAction::Handled;
  }
  if (vector == kPageFault) return page_fault(s, s.cr2, error_code);
  // At ring 1 a #GP is most often a privileged instruction of the guest
  // kernel (error code 0) or its stack-segment load (the selector).
  if (vector == kGeneralProtection && s.cpl == 1) {
    Decoded d;
    if (!decode(s, d)) return fail("cannot read the guest instruction that trapped");
    if (emulate(s, d)) {
      ++stats_.emulated;
      host_.cpu.resume_with(s);
      update_intr();
      return HookAction::Handled;
    }
    if (!failure_.empty()) return HookAction::Stop;
  }
  // Everything else is the guest's: reflect it (a user program's #GP, #UD,
  // #DE; a fault in the guest kernel reaches the guest's panic path).
  exit(ExitReason::ExceptionOrNmi, vector, s);
  if (!reflect(s, vector, has_error, error_code, 2)) return fail("cannot deliver an exception through the guest's IDT");
  update_intr();
  return HookAction::Handled;
}

// A #PF under shadow paging: the shadow's own (filled, or a traced write
// being stepped) or the guest's, reflected with the guest's error code and
// CR2 (shadow_mmu.h).
HookAction TrapMonitor::page_fault(CpuState& s, uint32_t linear, uint32_t error) {
  exit(ExitReason::ExceptionOrNmi, kPageFault, s);
  const ShadowMmu::FaultResult f = shadow_.page_fault(s, linear, error);
  switch (f.kind) {
    case ShadowMmu::Fault::Filled:
    case ShadowMmu::Fault::TracedWrite: return HookAction::Handled;
    case ShadowMmu::Fault::Guest:
      vcpu_.cr2 = linear;
      if (!reflect(s, kPageFault, true, f.guest_error, 2)) return fail("cannot deliver a page fault to the guest");
      update_intr();
      return HookAction::Handled;
    case ShadowMmu::Fault::NotRam:
    case ShadowMmu::Fault::PoolExhausted: break;
  }
  return fail(ShadowMmu::failure(f.kind));
}

void TrapMonitor::exit(ExitReason reason, uint32_t qualification, const CpuState& s) {
  ++stats_.exits[reason];
  host_.log.emit(trace::EventKind::VmExit, now(), uint64_t(reason), qualification, s.eip, s.seg[cpu::CS].selector);
}

HookAction TrapMonitor::fail(const std::string& why) {
  if (failure_.empty()) failure_ = "trap VMM: " + why;
  host_.cpu.request_stop();
  return HookAction::Stop;
}

}  // namespace vs::vmm

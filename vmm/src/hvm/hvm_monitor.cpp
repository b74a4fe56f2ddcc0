#include "hvm_monitor.h"

#include <cstring>

#include "virtscope/cpu/state.h"
#include "virtscope/mmu/paging.h"

namespace vs::vmm {

using cpu::CpuState;
using cpu::VmxExitReason;

HvmMonitor::HvmMonitor(Host host, uint32_t guest_ram_bytes, bool shadow_paging)
    : host_(host),
      guest_ram_(guest_ram_bytes),
      guest_(host.memory.ram(), host.guest_base(), guest_ram_bytes),
      linear_(guest_, host.log),
      devices_(host.scheduler, host.log, [this](bool level) { intr_changed(level); }, host.guest_exit,
               host.serial_out, host.disk.get()) {
  controls_.hlt_exiting = true;
  controls_.unconditional_io_exiting = true;
  controls_.external_interrupt_exiting = true;
  controls_.nested_paging = true;
  if (!shadow_paging) return;
  // The shadow's tables take the pages below the VM's RAM that nested
  // paging would use; no hole: the guest keeps its whole linear space.
  shadow_ = std::make_unique<ShadowMmu>(host, guest_, linear_, paging_, stats_,
                                        ShadowMmu::Pool{host.at(kNestedTables), (kGuestBase - kNestedTables) / 0x1000, 0});
  // The guest's system calls never exit; the VMM counts them from the CPU's
  // events (hvm_shadow.cpp: a delivery the shadow interrupted counts once).
  syscalls_ = host.log.subscribe(trace::KindSet::of({trace::EventKind::Interrupt}),
                                 [this](const trace::Event& e) { count_syscall(e); });
}

HvmMonitor::~HvmMonitor() {
  if (syscalls_) host_.log.unsubscribe(syscalls_);
}

// Guest-physical [0, RAM) -> host-physical kGuestBase + the same offset, in
// 4 KiB pages: PML4 -> PDPT -> PD -> page tables, each entry readable,
// writable and executable.
void HvmMonitor::build_nested_tables() {
  uint8_t* ram = host_.memory.ram();
  uint32_t next = host_.at(kNestedTables);
  auto table = [&]() {
    const uint32_t at = next;
    next += 0x1000;
    std::memset(ram + at, 0, 0x1000);
    return at;
  };
  auto set = [&](uint32_t at, unsigned index, uint64_t value) { std::memcpy(ram + at + index * 8, &value, 8); };
  const uint32_t pml4 = table(), pdpt = table(), pd = table();
  set(pml4, 0, pdpt | mmu::nested_entry::kRights);
  set(pdpt, 0, pd | mmu::nested_entry::kRights);
  for (uint32_t gpa = 0; gpa < guest_ram_; gpa += 0x1000) {
    const unsigned pdi = gpa >> 21, pti = (gpa >> 12) & 0x1FF;
    uint64_t pde;
    std::memcpy(&pde, ram + pd + pdi * 8, 8);
    if (!(pde & mmu::nested_entry::kRights)) {
      pde = table() | mmu::nested_entry::kRights;
      set(pd, pdi, pde);
    }
    set(uint32_t(pde & mmu::nested_entry::kFrame), pti, uint64_t(host_.guest_base() + gpa) | mmu::nested_entry::kRights);
  }
  nested_root_ = pml4;
}

bool HvmMonitor::boot(const devices::MultibootImage& image, CpuState& s, std::string& error) {
  const devices::MultibootResult r = load_into_vm(image, host_, guest_ram_);
  if (!r.ok) {
    error = r.error;
    return false;
  }
  if (!shadow_) build_nested_tables();
  // The guest starts as Multiboot says (§3.2): flat protected mode, paging
  // and interrupts off, at ring 0: its own state, untouched by the VMM.
  s = CpuState{};
  cpu::enter_flat_protected_mode(s, r.entry);
  s.gpr[cpu::EAX] = 0x2BADB002;
  s.gpr[cpu::EBX] = r.info;
  if (shadow_) start_shadow(s);
  return true;
}

// VM entry with this VM's controls, and its nested tables (VMCS fields on
// real VT-x: each VM has its own VMCS, loaded with VMPTRLD).
void HvmMonitor::attach() {
  attached_ = true;
  if (nested_root_) {
    host_.mmu.set_nested(mmu::NestedPaging{nested_root_});
    host_.mmu.flush_nested();
  }
  host_.cpu.set_interrupt_controller(this);
  host_.cpu.enter_non_root(controls_);
  host_.log.set_context(host_.vm, 0);
  host_.cpu.set_irq(pic_intr_ && !waiting_for_window_ && !(shadow_ && shadow_->stepping()));
}

void HvmMonitor::detach() {
  attached_ = false;
  host_.cpu.set_irq(false);
  host_.cpu.leave_non_root();
  host_.mmu.set_nested(std::nullopt);
}

// In non-root mode the guest's registers are the real ones, but for the
// paging registers under shadow paging (the VMM's virtual copies).
VirtualCpu HvmMonitor::vcpu(const CpuState& real) const {
  VirtualCpu v;
  v.interrupts_enabled = real.eflags & cpu::flag::IF;
  v.paging = shadow_ ? paging_ : GuestPaging{real.cr0, real.cr3, real.cr4};
  v.cr2 = real.cr2;
  v.gdtr = real.gdtr;
  v.idtr = real.idtr;
  v.tr = real.tr.selector;
  v.halted = real.halted;
  v.interrupt_pending = pic_intr_;
  return v;
}

// The VM's PIC drives the CPU's INTR pin, except while the VMM holds an
// interrupt for the guest's interrupt window.
void HvmMonitor::intr_changed(bool level) {
  pic_intr_ = level;
  // Nor while a traced page-table write is single-stepped (hvm_shadow.cpp).
  if (attached_ && !waiting_for_window_ && !(shadow_ && shadow_->stepping())) host_.cpu.set_irq(level);
}

void HvmMonitor::count(ExitReason reason, uint32_t qualification, const CpuState& s) {
  ++stats_.exits[reason];
  host_.log.emit(trace::EventKind::VmExit, now(), uint64_t(reason), qualification, s.eip, s.seg[cpu::CS].selector);
}

bool HvmMonitor::fail(const std::string& why) {
  if (failure_.empty()) failure_ = "hvm VMM: " + why;
  return false;
}

bool HvmMonitor::io(const cpu::VmExit& e, CpuState& s) {
  if (e.qualification & cpu::exit_qual::kIoString) return fail("string I/O (INS/OUTS) is not emulated");
  const unsigned size = (e.qualification & cpu::exit_qual::kIoSizeMask) + 1;
  const uint16_t port = uint16_t(e.qualification >> cpu::exit_qual::kIoPortShift);
  serve_port_io(host_, stats_, devices_.ports, port, size, e.qualification & cpu::exit_qual::kIoIn, s.gpr[cpu::EAX]);
  return true;
}

bool HvmMonitor::handle_exit() {
  const cpu::VmExit e = host_.cpu.last_vm_exit();
  CpuState s = host_.cpu.state();
  const ExitReason reason = ExitReason(uint16_t(e.reason));
  // EXCEPTION_NMI events name the vector, as the trap VMM's do (docs/events.md).
  count(reason, e.reason == VmxExitReason::ExceptionOrNmi ? e.vector : e.qualification, s);
  // Settled by this exit: whether the event injected at the last entry, and
  // the guest's INT 0x80 since, were delivered (shadow paging only).
  const bool lost = shadow_ && injection_lost(s);
  const bool int80 = syscall_.pending && syscall_.eip == s.eip && s.cpl == 3;
  injected_.pending = syscall_.pending = false;
  switch (e.reason) {
    case VmxExitReason::IoInstruction:
      if (!io(e, s)) return false;
      s.eip += e.instruction_length;
      break;
    case VmxExitReason::Hlt:
      s.eip += e.instruction_length;
      s.halted = true;  // the CPU waits for the next interrupt, as the guest asked
      break;
    case VmxExitReason::ExceptionOrNmi: return exception(e, s, lost, int80);
    case VmxExitReason::CrAccess:
      if (!cr_access(e, s)) return false;
      s.eip += e.instruction_length;
      break;
    case VmxExitReason::Invlpg:
      if (!shadow_) return fail("unexpected INVLPG exit");
      shadow_->invlpg(e.qualification);
      s.eip += e.instruction_length;
      break;
    case VmxExitReason::Cpuid:
      // virtscope's hvm guests see a small CPUID: leaf 0 only, vendor "VirtscopeHVM".
      s.gpr[cpu::EAX] = 0;
      std::memcpy(&s.gpr[cpu::EBX], "Virt", 4);
      std::memcpy(&s.gpr[cpu::EDX], "scop", 4);
      std::memcpy(&s.gpr[cpu::ECX], "eHVM", 4);
      s.eip += e.instruction_length;
      break;
    case VmxExitReason::ExternalInterrupt:
    case VmxExitReason::InterruptWindow: {
      // Inject when the guest can take it; else hold the line and ask for
      // an exit at its next interrupt window (SDM Vol. 3C §26.3.2, §25.2).
      const bool can_take = (s.eflags & cpu::flag::IF) && !s.interrupt_shadow;
      if (can_take && pic_intr_) {
        inject(s, devices_.pic.acknowledge());
        ++stats_.reflected;
        waiting_for_window_ = false;
        controls_.interrupt_window_exiting = false;
        host_.cpu.set_vmx_controls(controls_);
        host_.cpu.set_irq(pic_intr_);
        return true;
      }
      waiting_for_window_ = pic_intr_;
      host_.cpu.set_irq(false);
      controls_.interrupt_window_exiting = pic_intr_;
      host_.cpu.set_vmx_controls(controls_);
      return true;
    }
    case VmxExitReason::TripleFault: return fail("the guest triple-faulted");
    case VmxExitReason::EptViolation: return fail("the guest touched guest-physical memory that is not RAM");
    default: return fail(std::string("unexpected VM exit ") + cpu::vmx_exit_reason_name(e.reason));
  }
  host_.cpu.resume_with(s);
  return true;
}

}  // namespace vs::vmm

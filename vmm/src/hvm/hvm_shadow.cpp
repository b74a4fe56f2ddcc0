// Shadow paging under simulated VT-x (hvm-shadow; SEMANTICS.md §9, docs/
// modes/hvm-shadow.md): how VT-x VMMs such as KVM virtualized memory before
// EPT (2008). The guest's paging is not the MMU's: the real CR3 is the
// shadow page directory of ShadowMmu (the same code as the trap VMM's), and
// every event that changes or needs a translation exits (SDM Vol. 3C):
//   MOV to/from CR3        CR_ACCESS    (cr3-load / cr3-store exiting, §25.1.3)
//   MOV to CR0/CR4, CLTS,  CR_ACCESS    (CR0/CR4 guest/host masks all ones)
//     LMSW
//   INVLPG                 INVLPG       (INVLPG exiting)
//   #PF                    EXCEPTION_NMI (exception bitmap bit 14)
//   #DB                    EXCEPTION_NMI (bit 1: ends a traced write's single step)
//
// Deviations, each for a missing piece of the simulated VT-x (vmx.h):
//  * No CR0/CR4 read shadows: MOV from CR0 shows the real PG and WP (set
//    from VM entry on, for the shadow and for write protection); the guest's
//    virtual CR0 is what it writes. The teaching kernel reads CR0, sets PG
//    and writes it back, so its virtual CR0 gains WP too; it maps every user
//    page writable, so WP changes nothing for it.
//  * No IDT-vectoring information for an injected event whose delivery
//    exits (SDM §27.2.4 says the exit reports it): the VMM remembers what it
//    injected and into which state, and injects it again if the state is
//    unchanged after the hidden #PF. Events the guest raised itself (INT n,
//    faults) restart with their instruction, as the CPU leaves EIP on it.
#include <cstring>

#include "hvm_monitor.h"
#include "virtscope/cpu/state.h"
#include "virtscope/mmu/paging.h"

namespace vs::vmm {

using cpu::CpuState;

namespace {
constexpr uint8_t kDebug = 1, kPageFault = 14;
constexpr uint32_t kSyscallVector = 0x80;  // the teaching kernel's system-call gate
// The VMM's part of the real CR0: paging through the shadow, and
// supervisor writes checked, so the guest kernel's stores to its own page
// tables fault (SDM Vol. 3A §4.6.1).
constexpr uint32_t kVmmCr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP;
}  // namespace

// The controls of shadow paging, and the shadow; the guest starts with its
// paging off, which the shadow maps 1:1 onto the VM's RAM at kGuestBase.
void HvmMonitor::start_shadow(CpuState& s) {
  controls_.nested_paging = false;
  controls_.cr3_load_exiting = controls_.cr3_store_exiting = true;
  controls_.cr0_cr4_write_exiting = true;
  controls_.invlpg_exiting = true;
  controls_.exception_bitmap = 1u << kPageFault | 1u << kDebug;
  paging_ = {};
  paging_.cr0 = s.cr0;
  s.cr0 |= kVmmCr0;
  s.cr3 = shadow_->root();
  s.cr4 = 0;
}

// Interrupt fields: vector, source (1 = INT n), eip, cs. Only the guest's
// user-mode INT 0x80 counts, and a later event of any kind ends its claim.
void HvmMonitor::count_syscall(const trace::Event& e) {
  if (!attached_) return;  // another VM's
  const bool syscall = e.arg[0] == kSyscallVector && e.arg[1] == 1 && (e.arg[3] & 3) == 3;
  syscall_ = {syscall, uint32_t(e.arg[2])};
  if (syscall) ++stats_.syscalls;
}

void HvmMonitor::inject(CpuState& s, uint8_t vector, bool has_error, uint32_t error) {
  host_.cpu.resume_with(s);
  host_.cpu.inject_event(vector, has_error, error);
  injected_ = {true, vector, has_error, error, host_.cpu.instructions(), s.eip, s.gpr[cpu::ESP],
               s.seg[cpu::CS].selector};
}

// Delivering an injected event takes one tick and changes CS:EIP; a
// delivery that faulted changed nothing (the CPU's deliver() is all or
// nothing).
bool HvmMonitor::injection_lost(const CpuState& s) const {
  const Injection& i = injected_;
  return i.pending && host_.cpu.instructions() == i.at + 1 && s.eip == i.eip &&
         s.seg[cpu::CS].selector == i.cs && s.gpr[cpu::ESP] == i.esp;
}

bool HvmMonitor::exception(const cpu::VmExit& e, CpuState& s, bool lost, bool int80) {
  if (!shadow_) return fail("unexpected exception exit");
  if (e.vector == kPageFault) return page_fault(e, s, lost, int80);
  if (e.vector != kDebug) return fail("an exception exit the VMM did not ask for");
  if (!shadow_->stepping()) {
    inject(s, kDebug);  // the guest's own #DB
    return true;
  }
  shadow_->finish_traced_write(s);
  end_of_step();
  return true;
}

// The store of a traced write ran; interrupts held off meanwhile come back:
// the INTR pin, or the interrupt window the VMM was waiting for.
void HvmMonitor::end_of_step() {
  controls_.interrupt_window_exiting = waiting_for_window_;
  host_.cpu.set_vmx_controls(controls_);
  host_.cpu.set_irq(pic_intr_ && !waiting_for_window_);
}

// A #PF exit: the qualification is the linear address; CR2 was not written
// (SDM Vol. 3C §27.1). Hidden faults go no further; the guest's own get CR2
// and are injected with the error code its own tables give.
bool HvmMonitor::page_fault(const cpu::VmExit& e, CpuState& s, bool lost, bool int80) {
  const ShadowMmu::FaultResult f = shadow_->page_fault(s, e.qualification, e.error_code);
  switch (f.kind) {
    case ShadowMmu::Fault::Filled:
      host_.cpu.resume_with(s);
      if (lost) {
        inject(s, injected_.vector, injected_.has_error, injected_.error);
      } else if (int80 && !(e.error_code & mmu::pf_error::U)) {
        // A supervisor access at CPL 3: the delivery of the INT 0x80 at
        // EIP, which the CPU runs again.
        --stats_.syscalls;
      }
      return true;
    case ShadowMmu::Fault::TracedWrite:
      // Single-stepping the store (ShadowMmu resumed with TF): no interrupt
      // window may open before it.
      if (controls_.interrupt_window_exiting) {
        controls_.interrupt_window_exiting = false;
        host_.cpu.set_vmx_controls(controls_);
      }
      return true;
    case ShadowMmu::Fault::Guest:
      s.cr2 = e.qualification;
      inject(s, kPageFault, true, f.guest_error);
      ++stats_.reflected;
      return true;
    case ShadowMmu::Fault::NotRam:
    case ShadowMmu::Fault::PoolExhausted: break;
  }
  return fail(ShadowMmu::failure(f.kind));
}

// CR_ACCESS (qualification: SDM Vol. 3C Table 27-3). The guest's registers
// are virtual; the real CR3 stays the shadow root.
bool HvmMonitor::cr_access(const cpu::VmExit& e, CpuState& s) {
  if (!shadow_) return fail("unexpected CR_ACCESS exit");
  using namespace cpu::exit_qual;
  const unsigned cr = e.qualification & kCrNumberMask;
  const unsigned type = (e.qualification >> kCrAccessTypeShift) & 3;
  uint32_t& gpr = s.gpr[(e.qualification >> kCrGprShift) & 7];
  switch (type) {
    case 0:  // MOV to CR
      if (cr == 0) return write_cr0(s, gpr);
      if (!shadow_->write_cr(cr, gpr)) return fail("unsupported MOV to CR" + std::to_string(cr));
      if (cr == 4) s.cr4 = paging_.cr4;  // PSE and PGE: harmless for a shadow of 4 KiB entries
      return true;
    case 1:  // MOV from CR (only CR3 exits)
      gpr = paging_.cr3;
      return true;
    case 2: return write_cr0(s, paging_.cr0 & ~cpu::cr0::TS);  // CLTS
    default: {
      // LMSW: the low four bits; it can set PE but never clear it (SDM Vol. 2 "LMSW").
      const uint32_t msw = e.qualification >> kCrLmswDataShift;
      return write_cr0(s, (paging_.cr0 & ~0xEu) | (msw & 0xF) | (paging_.cr0 & cpu::cr0::PE));
    }
  }
}

bool HvmMonitor::write_cr0(CpuState& s, uint32_t value) {
  if (!(value & cpu::cr0::PE)) return fail("the guest left protected mode (not supported under shadow paging)");
  shadow_->write_cr(0, value);
  s.cr0 = paging_.cr0 | kVmmCr0;
  return true;
}

}  // namespace vs::vmm

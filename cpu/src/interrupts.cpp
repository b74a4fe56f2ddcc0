// Interrupt and exception delivery: the real-mode IVT, protected-mode IDT
// gates with a privilege change through the TSS stacks, delivery from
// virtual-8086 mode, error codes, double and triple faults.
// Intel SDM Vol. 3 Chapter 6 (§6.4 sources, §6.12 procedures, §6.15 each
// exception, Table 6-5 double-fault conditions) and Vol. 2 "INT n".
#include "core.h"

namespace vs::cpu {

namespace {
// Contributory exceptions (SDM Vol. 3 Table 6-4).
bool contributory(uint8_t v) { return v == vec::DE || (v >= vec::TS && v <= vec::GP); }

// Table 6-5: which second exception during delivery of a first makes #DF.
bool makes_double_fault(uint8_t first, uint8_t second) {
  if (contributory(first) && contributory(second)) return true;
  return first == vec::PF && (second == vec::PF || contributory(second));
}

unsigned type_of(uint64_t d) { return (d >> 40) & 0xF; }
unsigned dpl_of(uint64_t d) { return (d >> 45) & 3; }
bool present(uint64_t d) { return (d >> 47) & 1; }
}  // namespace

// EIP already points past the INT instruction (the return address).
Fault Core::software_interrupt(uint8_t vector, unsigned insn_len, unsigned origin) {
  // INT3, INTO and INT1 raise exceptions the exception bitmap can make exit
  // (software exception / privileged software exception, SDM Vol. 3C
  // §25.2); INT n never does. The exit leaves EIP on the instruction.
  if (origin != kOriginIntN && exception_exits(vector)) {
    VmExit e;
    e.reason = VmxExitReason::ExceptionOrNmi;
    e.vector = vector;
    e.instruction_length = insn_len;
    const uint32_t type = origin == kOriginIcebp ? 5 : intr_info::kTypeSoftwareException;
    e.interruption_info = vector | type << 8 | intr_info::kValid;
    return exit_to_vmm(e);
  }
  const unsigned source = origin == kOriginIntN ? 1 : 2;
  emit(trace::EventKind::Interrupt, vector, source, s.eip - insn_len, s.seg[CS].selector);
  if (hooks) {
    // A hypervisor may take software interrupts too (e.g. a PV guest's int 0x82).
    switch (hooks->on_interrupt(vector)) {
      case HookAction::Deliver: break;
      case HookAction::Handled: return {};
      case HookAction::Stop: stop_reason = RunStop::Hook; stop_requested = true; attention = true; return {};
    }
  }
  return deliver(vector, true, false, 0, s.eip, origin);
}

// Deliver one interrupt or exception through the IVT or IDT. Either the whole
// delivery happens or nothing changes and a fault is returned (which the
// caller turns into the next exception, or #DF).
Fault Core::deliver(uint8_t vector, bool software, bool has_error, uint32_t error, uint32_t return_eip,
                    unsigned origin) {
  materialize_flags();
  const uint32_t ext = (origin == kOriginException || origin == kOriginExternal || origin == kOriginIcebp) ? 1 : 0;

  if (!protected_mode()) {
    // Real mode (SDM Vol. 3 §20.1.4): IVT entry = offset16, segment16.
    if (vector * 4u + 3 > s.idtr.limit) return gp(0);
    uint32_t ip, cs;
    if (auto f = read_sys(s.idtr.base + vector * 4u, 2, ip)) return f;
    if (auto f = read_sys(s.idtr.base + vector * 4u + 2, 2, cs)) return f;
    const uint32_t m = sp_mask();
    for (unsigned i = 1; i <= 3; ++i)
      if (auto f = check_segment(SS, (sp() - 2 * i) & m, 2, true)) return f;
    uint32_t fl = s.eflags;
    if (config.model == CpuModel::I286) fl &= 0x0FFF;
    (void)push<16>(fl & 0xFFFF);
    (void)push<16>(s.seg[CS].selector);
    (void)push<16>(return_eip & 0xFFFF);
    s.eflags &= ~(flag::IF | flag::TF | flag::AC | flag::RF);
    load_real_segment(CS, uint16_t(cs));
    s.eip = ip;
    return {};
  }

  // Protected mode: read the gate (SDM Vol. 3 §6.11, Figure 6-2).
  const uint32_t idt_err = vector * 8u + 2 + ext;
  if (vector * 8u + 7 > s.idtr.limit) return gp(idt_err);
  uint32_t lo, hi;
  if (auto f = read_sys(s.idtr.base + vector * 8u, 4, lo)) return f;
  if (auto f = read_sys(s.idtr.base + vector * 8u + 4, 4, hi)) return f;
  const uint64_t gate = uint64_t(hi) << 32 | lo;
  const unsigned gtype = type_of(gate);
  if (gtype == 5) {
    unsupported("task switch (interrupt through a task gate)");
    return fault(Fault::kUnsupported);
  }
  if (gtype != 6 && gtype != 7 && gtype != 14 && gtype != 15) return gp(idt_err);
  // INT n / INT3 / INTO may only use gates with DPL >= CPL (SDM Vol. 3 §6.12.1.1).
  if (software && origin != kOriginIcebp && dpl_of(gate) < cpl()) return gp(idt_err);
  if (!present(gate)) return fault(vec::NP, idt_err);
  const unsigned width = gtype >= 14 ? 32 : 16;
  const bool trap_gate = gtype == 7 || gtype == 15;
  const uint16_t target = uint16_t(gate >> 16);
  const uint32_t offset = uint32_t(gate & 0xFFFF) | (width == 32 ? hi & 0xFFFF0000u : 0);

  if ((target & ~3u) == 0) return gp(ext);
  uint64_t cd;
  if (auto f = read_descriptor(target, cd, vec::GP)) return fault(f.vector, (target & ~3u) + ext);
  const bool code = ((cd >> 43) & 3) == 3;  // S=1 and executable
  const unsigned new_dpl = dpl_of(cd);
  if (!code || new_dpl > cpl()) return gp((target & ~3u) + ext);
  if (!present(cd)) return fault(vec::NP, (target & ~3u) + ext);
  const Segment cs_cache = segment_from_descriptor(uint16_t((target & ~3u) | 0), cd);
  if (offset > cs_cache.limit) return gp(ext);
  const bool conforming = type_of(cd) & 4;
  const uint32_t old_flags = s.eflags;
  const uint16_t old_cs = s.seg[CS].selector;

  std::vector<uint32_t> frame;
  if (!conforming && new_dpl < cpl()) {
    // Inter-privilege: new stack from the TSS (SDM Vol. 3 §6.12.1, Figure 6-4).
    uint16_t new_ss;
    uint32_t new_esp;
    if (auto f = tss_stack(new_dpl, new_ss, new_esp, ext)) return f;
    uint64_t sd;
    if (auto f = check_new_stack(new_ss, new_dpl, sd, ext)) return f;
    const Segment ss_cache = segment_from_descriptor(new_ss, sd);
    if (v86()) {
      // From virtual-8086 mode the data segments are saved too (Figure 6-5).
      frame = {s.seg[GS].selector, s.seg[FS].selector, s.seg[DS].selector, s.seg[ES].selector};
    }
    frame.push_back(s.seg[SS].selector);
    frame.push_back(s.gpr[ESP]);
    frame.push_back(old_flags);
    frame.push_back(old_cs);
    frame.push_back(return_eip);
    if (has_error) frame.push_back(error);
    uint32_t top;
    if (auto f = push_frame(ss_cache, StackKind::New, new_esp, width, frame.data(), unsigned(frame.size()), top, ext,
                            new_dpl))
      return f;
    const bool was_v86 = v86();
    s.eflags &= ~(flag::TF | flag::NT | flag::RF | flag::VM);
    if (!trap_gate) s.eflags &= ~flag::IF;
    if (was_v86)
      for (unsigned seg : {ES, DS, FS, GS}) set_segment_cache(seg, unusable_segment(0));
    set_segment_cache(SS, ss_cache);
    set_sp(top);
    Segment cs = cs_cache;
    cs.selector = uint16_t((target & ~3u) | new_dpl);
    set_segment_cache(CS, cs);
    set_cpl(new_dpl);
    s.eip = offset;
    return {};
  }
  if (v86()) return gp((target & ~3u) + ext);  // V86 must go to ring 0 non-conforming code
  // Same privilege: push on the current stack.
  frame = {old_flags, old_cs, return_eip};
  if (has_error) frame.push_back(error);
  uint32_t new_sp;
  if (auto f = push_frame(s.seg[SS], StackKind::Current, sp(), width, frame.data(), unsigned(frame.size()), new_sp,
                          ext, cpl()))
    return f;
  set_sp(new_sp);
  s.eflags &= ~(flag::TF | flag::NT | flag::RF | flag::VM);
  if (!trap_gate) s.eflags &= ~flag::IF;
  Segment cs = cs_cache;
  cs.selector = uint16_t((target & ~3u) | cpl());
  set_segment_cache(CS, cs);
  s.eip = offset;
  return {};
}

// An exception raised by the instruction at CS:EIP: event, hooks, delivery,
// and the double-fault / triple-fault escalation (SDM Vol. 3 §6.15, #DF).
namespace {
// VM-exit interruption information for a hardware exception (SDM Vol. 3C
// §24.9.2, Table 24-15): vector, type 3, error-code valid, valid.
uint32_t exception_info(const Fault& f) {
  return f.vector | intr_info::kTypeHardwareException << 8 | (f.has_error_code ? intr_info::kErrorCodeValid : 0) |
         intr_info::kValid;
}
}  // namespace

void Core::raise(const Fault& first) {
  Fault f = first;
  uint32_t delivering = 0;  // IDT-vectoring information: the exception being delivered (§27.2.4)
  for (int depth = 0;; ++depth) {
    if (f.vector == Fault::kUnsupported) {
      stop_reason = RunStop::Unsupported;
      stop_requested = true;
      attention = true;
      return;
    }
    if (f.vector == Fault::kVmExit) {  // an instruction exit or EPT violation (vmx.cpp, memory.cpp)
      vm_exit.idt_vectoring_info = delivering;
      stop_for_vm_exit();
      return;
    }
    emit(trace::EventKind::Exception, f.vector, f.error_code, s.eip, s.seg[CS].selector);
    if (exception_exits(f.vector)) {
      // The exception bitmap (SDM Vol. 3C §25.2): exit instead of delivering.
      // #PF leaves CR2 alone and reports the linear address as the
      // qualification (§27.2.1); the guest state stays at the fault.
      VmExit e;
      e.reason = VmxExitReason::ExceptionOrNmi;
      e.vector = uint8_t(f.vector);
      e.has_error_code = f.has_error_code;
      e.error_code = f.error_code;
      e.interruption_info = exception_info(f);
      e.idt_vectoring_info = delivering;
      if (f.vector == vec::PF) e.qualification = e.guest_linear = pf_linear;
      vm_exit = e;
      stop_for_vm_exit();
      return;
    }
    if (hooks && depth == 0) {
      switch (hooks->on_exception(f.vector, f.has_error_code, f.error_code)) {
        case HookAction::Deliver: break;
        case HookAction::Handled: return;
        case HookAction::Stop:
          stop_reason = RunStop::Hook;
          stop_requested = true;
          attention = true;
          return;
      }
    }
    s.halted = false;
    // Delivering an event takes virtual time, like retiring an instruction:
    // a guest caught in an exception storm still reaches the run budget.
    ++icount;
    Fault next = deliver(f.vector, false, f.has_error_code, f.error_code, s.eip, kOriginException);
    if (!next) return;
    delivering = exception_info(f);
    if (next.vector == Fault::kUnsupported || next.vector == Fault::kVmExit) {
      f = next;
      continue;
    }
    if (f.vector == vec::DF) {
      if (vmx_active) {
        // A triple fault always exits in non-root mode (SDM Vol. 3C §25.2).
        vm_exit = VmExit{};
        vm_exit.reason = VmxExitReason::TripleFault;
        stop_for_vm_exit();
        return;
      }
      // A fault while delivering #DF: triple fault, the processor shuts down.
      emit(trace::EventKind::Reset, 1, s.eip);
      stop_reason = RunStop::Shutdown;
      stop_requested = true;
      attention = true;
      return;
    }
    f = makes_double_fault(f.vector, next.vector) ? fault(vec::DF, 0) : next;
  }
}

// Take the highest-priority pending external event (SDM Vol. 3 §6.9).
void Core::service_interrupt() {
  if (vmx_active && !nmi_pending) {
    // Interrupt-window exiting: the guest can take an interrupt now (IF = 1,
    // no STI/MOV SS blocking); the VMM wants to inject one (§25.2, §26.7.5).
    if (vmx_window && (s.eflags & flag::IF) && !s.interrupt_shadow) {
      vm_exit = VmExit{};
      vm_exit.reason = VmxExitReason::InterruptWindow;
      stop_for_vm_exit();
      return;
    }
    // External-interrupt exiting: INTR exits, whatever IF says, without an
    // INTA cycle (no "acknowledge interrupt on exit": the vector stays
    // pending at the PIC, interruption_info is not valid; §27.2.2).
    if (vmx_irq_exits && irq_line && pic && !s.interrupt_shadow) {
      vm_exit = VmExit{};
      vm_exit.reason = VmxExitReason::ExternalInterrupt;
      stop_for_vm_exit();
      return;
    }
  }
  ++icount;  // delivery takes virtual time (see raise())
  if (nmi_pending) {
    nmi_pending = false;
    s.halted = false;
    emit(trace::EventKind::Interrupt, vec::NMI, 0, s.eip, s.seg[CS].selector);
    if (auto f = deliver(vec::NMI, false, false, 0, s.eip, kOriginExternal)) raise(f);
    return;
  }
  if (!irq_line || !(s.eflags & flag::IF) || !pic) return;
  const uint8_t vector = pic->acknowledge();
  s.halted = false;
  emit(trace::EventKind::Interrupt, vector, 0, s.eip, s.seg[CS].selector);
  if (hooks) {
    switch (hooks->on_interrupt(vector)) {
      case HookAction::Deliver: break;
      case HookAction::Handled: return;
      case HookAction::Stop: stop_reason = RunStop::Hook; stop_requested = true; attention = true; return;
    }
  }
  if (auto f = deliver(vector, false, false, 0, s.eip, kOriginExternal)) raise(f);
}

}  // namespace vs::cpu

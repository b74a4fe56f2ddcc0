// The scheduler: round robin over the process table in slot order (the
// teaching kernel's proc.c), in virtual time. A process leaves the CPU when
// its time slice ends (the tick, kernel.cpp), when it blocks in a system
// call, yields, or exits.
//
// Blocking without kernel stacks: the kernel model is C++ on the host and
// keeps no stack per process, so a call that cannot finish yet (a read of
// an empty pipe, wait4 with live children, nanosleep) is remembered as its
// arguments (Process::call) with the registers stopped after the `int
// $0x80`. Whenever the scheduler looks for work it retries such calls in
// slot order; the first one that can finish now completes — EAX gets its
// result — and that process runs. Handlers are written so that a call that
// blocks has changed nothing yet (a pipe write keeps what it already wrote
// in Process::call_progress). Wait queues would avoid the retries; with a
// few dozen processes the scan is cheaper than their bookkeeping.
#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

Process* Kernel::pick_next() {
  // A death during the scan (a pending fatal signal) can unblock a process
  // already passed over (its parent in wait4, a pipe's reader): scan again.
  for (bool died = true; died;) {
    died = false;
    if (Process* p = scan(died)) return p;
  }
  return nullptr;
}

Process* Kernel::scan(bool& died) {
  const size_t n = slots_.size();
  for (size_t k = 1; k <= n; ++k) {
    const size_t i = (last_slot_ + k) % n;
    Process* p = slots_[i].get();
    if (!p || p->state == ProcState::Zombie) continue;
    // A fatal signal ends the process the next time it would run, or at
    // once when it is blocked (Linux interrupts the call, then the signal
    // ends the process on its way back to user mode).
    if (p->pending_signal) {
      terminate(*p, p->pending_signal);
      died = true;
      continue;
    }
    if (p->pending_handled && p->state == ProcState::Blocked) {
      // A handled signal interrupts a blocked call: it fails with EINTR
      // and the handler runs (signal(7); SA_RESTART is not modelled).
      p->state = ProcState::Runnable;
      p->sleeping = false;
      p->regs.gpr[cpu::EAX] = uint32_t(-linux_abi::kEINTR);
      emit_syscall(*p, p->call, -linux_abi::kEINTR);
    }
    if (p->state == ProcState::Blocked && !retry(*p)) continue;
    if (p->pending_handled) {
      deliver_signal(*p);
      if (p->state == ProcState::Zombie) {
        died = true;
        continue;
      }
    }
    last_slot_ = i;
    return p;
  }
  return nullptr;
}

bool Kernel::retry(Process& p) {
  const SyscallArgs args = p.call;
  const SysResult r = dispatch(p, args);
  if (r.kind != SysResult::Kind::Done) return false;  // still blocked (or gone)
  p.state = ProcState::Runnable;
  p.regs.gpr[cpu::EAX] = uint32_t(r.value);
  emit_syscall(p, args, r.value);
  return true;
}

void Kernel::switch_to(Process& p) {
  if (&p != last_on_cpu_) ++counters_.context_switches;
  current_ = last_on_cpu_ = &p;
  log_.set_context(0, p.pid());
  cpu_.resume_with(p.regs);
  if (p.mm->id != loaded_space_) {
    // A CR3 load (SDM Vol. 3A §4.10.4.1): the MMU's TLB model and the
    // CPU's own cache drop the previous space's translations. Done by hand
    // because a directory frame can be reused at the same address.
    loaded_space_ = p.mm->id;
    cpu_.flush_tlb();
    mmu_.flush(false);
  }
}

void Kernel::leave_cpu() {
  current_ = nullptr;
  cpu_.request_stop();
}

void Kernel::finish_call(Process& p, const SyscallArgs& args, const SysResult& r) {
  switch (r.kind) {
    case SysResult::Kind::Gone: return;  // exited (terminate() took it off the CPU)
    case SysResult::Kind::Block:
      p.state = ProcState::Blocked;
      p.call = args;
      leave_cpu();
      return;
    case SysResult::Kind::Done: break;
  }
  p.regs.gpr[cpu::EAX] = uint32_t(r.value);
  emit_syscall(p, args, r.value);
  if (p.pending_signal) {  // it killed itself
    terminate(p, p.pending_signal);
    return;
  }
  if (p.pending_handled) {  // to a handler first, on the way back to user mode
    deliver_signal(p);
    if (p.state == ProcState::Zombie) return;
  }
  if (yield_) {
    yield_ = false;
    leave_cpu();
    return;
  }
  switch_to(p);  // resume with EAX set (and, after execve, the new image)
}

void Kernel::emit_syscall(const Process& p, const SyscallArgs& args, int32_t result) {
  if (!log_.wants(trace::EventKind::Syscall)) return;
  log_.set_context(0, p.pid());
  log_.emit(trace::EventKind::Syscall, time(), args.nr, args.a[0], args.a[1], uint32_t(result));
}

void Kernel::console_write(std::string_view bytes) {
  if (console_) console_(bytes);
}

}  // namespace vs::container_sim

// Signals, as far as the PID-namespace rules need them (signal(7),
// pid_namespaces(7); ../shared/SEMANTICS.md §1.2): dispositions set with
// rt_sigaction, default actions (terminate, or ignore for SIGCHLD, SIGCONT,
// SIGURG, SIGWINCH), handlers run on the user stack and left with
// sigreturn, init's protection, and init's death killing its namespace.
//
// Simplified on purpose, and said so: the registers a handler interrupts
// are kept by the kernel (Process::signal_frames), not written to the user
// stack as Linux's struct sigframe; the stack gets only what a handler
// that ignores its frame needs — the return address (sa_restorer; there
// is no vDSO, so a handler without SA_RESTORER returns to 0 and faults)
// and the signal number. No signal masks, no SA_SIGINFO data, no stopping
// (SIGSTOP and the terminal stop signals do nothing).
#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
bool ignored_by_default(int sig) {
  return sig == kSIGCHLD || sig == kSIGCONT || sig == kSIGURG || sig == kSIGWINCH || sig == kSIGSTOP ||
         sig == kSIGTSTP || sig == kSIGTTIN || sig == kSIGTTOU;
}

// Is `sender` inside `ns` (in it or in a descendant)?
bool inside(const Process& sender, const PidNamespace* ns) {
  for (const PidNamespace* n = sender.ns.pid.get(); n; n = n->parent.get())
    if (n == ns) return true;
  return false;
}
}  // namespace

void Kernel::send_signal(Process& target, int sig, const Process* sender) {
  if (sig <= 0 || sig > kMaxSignal || target.state == ProcState::Zombie) return;
  const Process::SigAction& act = target.actions[sig - 1];
  const bool handled = act.handler > kSIG_IGN;
  // §1.2 init protection: a namespace's init (PID 1 in its own namespace)
  // gets from its members only the signals it has a handler for; from an
  // ancestor namespace the same, except SIGKILL and SIGSTOP, which are
  // forced. Dropped silently: kill() still returns 0.
  if (sender && target.pids.back() == 1) {
    const bool forced = !inside(*sender, target.ns.pid.get()) && (sig == kSIGKILL || sig == kSIGSTOP);
    if (!handled && !forced) return;
  }
  if (sig == kSIGKILL) {
    target.pending_signal = kSIGKILL;
    return;
  }
  if (act.handler == kSIG_IGN) return;
  if (handled) {
    target.pending_handled |= uint64_t(1) << (sig - 1);
    return;
  }
  if (ignored_by_default(sig)) return;
  target.pending_signal = sig;  // the default action: terminate
}

void Kernel::deliver_signal(Process& p) {
  int sig = 1;
  while (!(p.pending_handled & (uint64_t(1) << (sig - 1)))) ++sig;
  p.pending_handled &= ~(uint64_t(1) << (sig - 1));
  const Process::SigAction& act = p.actions[sig - 1];
  const uint32_t frame[2] = {(act.flags & kSA_RESTORER) ? act.restorer : 0, uint32_t(sig)};
  const uint32_t esp = (p.regs.gpr[cpu::ESP] - 64) & ~15u;  // below the red zone, aligned
  if (!p.mm || p.mm->copy_out(esp - 4, frame, sizeof frame) < 0) {
    kill_with_message(p, kSIGSEGV, "no room for a signal frame");  // Linux: force_sigsegv
    return;
  }
  p.signal_frames.push_back(p.regs);
  p.regs.gpr[cpu::ESP] = esp - 4;  // at the return address, as after a call
  p.regs.gpr[cpu::EAX] = uint32_t(sig);  // i386 Linux passes the number in EAX too (regparm handlers)
  p.regs.gpr[cpu::EDX] = p.regs.gpr[cpu::ECX] = 0;
  p.regs.eip = act.handler;
}

SysResult Kernel::sys_rt_sigaction(Process& p, const SyscallArgs& args) {
  const int sig = int(args.a[0]);
  if (args.a[3] != 8) return SysResult::done(-kEINVAL);  // sizeof(sigset_t) on i386
  if (sig < 1 || sig > kMaxSignal) return SysResult::done(-kEINVAL);
  Process::SigAction& act = p.actions[sig - 1];
  // struct sigaction for rt_sigaction on i386: handler, flags, restorer, 8-byte mask.
  uint32_t old[5] = {act.handler, act.flags, act.restorer, 0, 0};
  if (args.a[1]) {
    if (sig == kSIGKILL || sig == kSIGSTOP) return SysResult::done(-kEINVAL);
    uint32_t in[5];
    if (p.mm->copy_in(in, args.a[1], sizeof in) < 0) return SysResult::done(-kEFAULT);
    act = Process::SigAction{in[0], in[1], in[2]};
    if (act.handler <= kSIG_IGN) p.pending_handled &= ~(uint64_t(1) << (sig - 1));
  }
  if (args.a[2] && p.mm->copy_out(args.a[2], old, sizeof old) < 0) return SysResult::done(-kEFAULT);
  return SysResult::done(0);
}

// sigreturn (119) and rt_sigreturn (173): back to where the handler
// interrupted, every register as it was (EAX included).
SysResult Kernel::sys_sigreturn(Process& p, const SyscallArgs&) {
  if (p.signal_frames.empty()) {
    kill_with_message(p, kSIGSEGV, "sigreturn without a signal frame");
    return SysResult::gone();
  }
  p.regs = p.signal_frames.back();
  p.signal_frames.pop_back();
  return SysResult::done(int32_t(p.regs.gpr[cpu::EAX]));
}

// §1.2: "if the init process of a PID namespace terminates, the kernel
// terminates all of the processes in the namespace via a SIGKILL signal";
// afterwards fork() into it fails with ENOMEM. The root namespace is
// exempt here: the host spawns several processes there, and the first one
// ending must not end the others (Linux would panic instead).
void Kernel::init_died(Process& init) {
  PidNamespace& ns = *init.ns.pid;
  if (ns.level == 0 || init.pids.back() != 1) return;
  ns.init_gone = true;
  for (const auto& [pid, member] : ns.members)  // descendants' members are in this map too
    if (member != &init) send_signal(*member, kSIGKILL, nullptr);
}

}  // namespace vs::container_sim

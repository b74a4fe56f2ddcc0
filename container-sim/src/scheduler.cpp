// The scheduler: round robin over the process table in slot order (the
// teaching kernel's proc.c), in virtual time. A process leaves the CPU when
// its time slice ends (the tick, kernel.cpp), when it blocks in a system
// call, yields, or exits.
// With the cgroup cpu controller on, picking follows cpu.weight and
// cpu.max down the cgroup tree first (the end of this file).
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

#include <algorithm>

#include "linux_abi.h"

namespace vs::container_sim {

Process* Kernel::pick_next() {
  // A death during the scan (a pending fatal signal) can unblock a process
  // already passed over (its parent in wait4, a pipe's reader): scan again.
  for (bool died = true; died;) {
    died = false;
    if (Process* p = cpu_control() ? pick_in(*cgroups_.root(), died) : scan(died)) return p;
  }
  return nullptr;
}

Process* Kernel::scan(bool& died, Cgroup* css) {
  const size_t n = slots_.size();
  // Round robin from the slot that ran last: of the whole table, or of the
  // cpu queue `css` when the cpu controller picks (pick_in).
  const size_t start = css && css->cpu.last_slot < n ? css->cpu.last_slot : last_slot_;
  for (size_t k = 1; k <= n; ++k) {
    const size_t i = (start + k) % n;
    Process* p = slots_[i].get();
    if (!p || p->state == ProcState::Zombie) continue;
    if (css && (!p->cgroup || &cpu_css(*p->cgroup) != css)) continue;
    // A fatal signal ends the process the next time it would run, or at
    // once when it is blocked (Linux interrupts the call, then the signal
    // ends the process on its way back to user mode).
    if (p->pending_signal) {
      terminate(*p, p->pending_signal);
      died = true;
      continue;
    }
    if (p->pending_handled && p->state == ProcState::Blocked && p->call.nr != kMemcgThrottleCall) {
      // A handled signal interrupts a blocked call: it fails with EINTR
      // and the handler runs (signal(7); SA_RESTART is not modelled). Not
      // a memory.high penalty: it is no system call (EAX is the user's),
      // and Linux sleeps it killable only (mem_cgroup_handle_over_high()).
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
    if (css) css->cpu.last_slot = i;
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
  cpu_charged_at_ = now();  // its run time is charged from here (cpu_charge_current)
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
  if (!panic_.empty()) return;  // the kernel died serving this call (sysrq.cpp): nobody resumes
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
  if (!log_.wants(trace::EventKind::Syscall) || args.nr == kMemcgThrottleCall) return;  // a penalty, not a call
  log_.set_context(0, p.pid());
  log_.emit(trace::EventKind::Syscall, time(), args.nr, args.a[0], args.a[1], uint32_t(result));
}

void Kernel::console_write(std::string_view bytes) {
  if (console_) console_(bytes);
}

// --- the cpu controller (cgroup_cpu.h; cgroup-v2.rst "CPU"; SEMANTICS.md §2.2) ---
//
// While no cgroup has cpu enabled (the root's cgroup.subtree_control lacks
// "cpu"), picking is the plain round robin above, and every workload
// retires exactly the instructions it did before the controller existed.
// Once it is enabled, picking goes down the hierarchy (pick_in): in each
// queue — a cgroup with cpu on, or the root — the entities are the child
// cgroups with cpu on and the queue's own processes taken together; the one
// with the least virtual runtime goes first, as in CFS. An entity's
// virtual runtime grows by what it ran times 1024 / its weight (cpu.weight
// 100 = 1024), so busy siblings get CPU in proportion to their weights, and
// an idle one's share goes to the others (work-conserving: only entities
// with something to run are picked). An entity that comes back from idle
// starts at its queue's floor (min_vruntime), not with credit for the time
// it slept. Inside the chosen queue its processes take turns (scan).

namespace {
// Every cgroup with cpu on, parents before children, in name order.
template <typename F>
void each_cpu_group(Cgroup& g, F&& f) {
  for (auto& [name, c] : g.children)
    if (c->has(kCgCpu)) {
      f(*c);
      each_cpu_group(*c, f);
    }
}
}  // namespace

bool Kernel::cpu_control() const { return (cgroups_.root()->subtree_control & (1u << kCgCpu)) != 0; }

Process* Kernel::pick_in(Cgroup& q, bool& died) {
  if (q.is_root()) {
    // A fatal signal ends its process even in a throttled group (which
    // pick_in passes by): the kill must not wait for a refill.
    for (size_t i = 0; i < slots_.size(); ++i) {
      Process* p = slots_[i].get();
      if (p && p->state != ProcState::Zombie && p->pending_signal) {
        terminate(*p, p->pending_signal);
        died = true;
      }
    }
  }
  struct Entity {
    uint64_t* vruntime;
    Cgroup* group;  // null: the queue's own processes
  };
  std::vector<Entity> queue{{&q.cpu.tasks_vruntime, nullptr}};
  for (auto& [name, c] : q.children)
    if (c->has(kCgCpu) && c->nr_populated > 0 && !c->cpu.throttled) queue.push_back({&c->cpu.vruntime, c.get()});
  for (Entity& e : queue) *e.vruntime = std::max(*e.vruntime, q.cpu.min_vruntime);
  std::stable_sort(queue.begin(), queue.end(),
                   [](const Entity& a, const Entity& b) { return *a.vruntime < *b.vruntime; });
  // The least virtual runtime first; an entity whose processes all wait
  // (blocked calls are retried on the way, as scan does) is passed over.
  for (const Entity& e : queue) {
    Process* p = e.group ? pick_in(*e.group, died) : scan(died, &q);
    if (!p) continue;
    q.cpu.min_vruntime = *e.vruntime;  // the least among those that can run
    return p;
  }
  return nullptr;
}

void Kernel::cpu_charge_current() {
  if (!current_ || !current_->cgroup) return;
  const uint64_t ran = now() - cpu_charged_at_;
  cpu_charged_at_ = now();
  cpu_charge(*current_->cgroup, ran, cpu_control());
  cpu_charged_pid_ = current_->pid();
  cpu_charged_cg_ = current_->cgroup.get();
}

void Kernel::cpu_after_call() {
  // The run in progress was capped (cpu_run_cap) for the limits in force
  // when it began. A call that wrote cpu.max, or moved the caller to
  // another cgroup, changes them: end the run here, so that the run loop
  // applies the change at this very instruction (cpu_account) and caps
  // the rest anew. Without cpu control there are no caps to redo.
  if (!current_ || !cpu_control()) return;
  bool changed = current_->cgroup.get() != cpu_charged_cg_;
  each_cpu_group(*cgroups_.root(), [&](Cgroup& g) { changed |= g.cpu.reconfigured; });
  if (changed) cpu_.request_stop();
}

void Kernel::cpu_account() {
  if (!cpu_control()) return;
  const uint64_t t = now();
  bool released = false;
  each_cpu_group(*cgroups_.root(), [&](Cgroup& g) {
    released |= cpu_advance(g, t);
    if (!cpu_throttle_if_empty(g, t)) return;
    // sched-bwc.rst: the group's quota is used up; it waits for the refill.
    if (log_.wants(trace::EventKind::CgroupThrottle)) {
      log_.set_context(0, cpu_charged_pid_);
      log_.emit(trace::EventKind::CgroupThrottle, time(), kCgCpu, g.id,
                (cpu_period_end(g) - t) * (1000 / kCpuInstructionsPerUsec), cpu_charged_pid_);
    }
  });
  // The process on the CPU leaves it when its group (or an ancestor) is
  // throttled; a refill is a scheduling point too (Linux re-checks
  // preemption when it enqueues the released group).
  if (current_ && (released || (current_->cgroup && cpu_held(*current_->cgroup)))) {
    current_->regs = cpu_.state();
    current_ = nullptr;
  }
}

uint64_t Kernel::cpu_run_cap() {
  if (!current_ || !current_->cgroup || !cpu_control()) return UINT64_MAX;
  uint64_t cap = cpu_run_limit(*current_->cgroup, now());
  if (const uint64_t wake = cpu_wake_time(); wake > now()) cap = std::min(cap, wake - now());
  return cap;
}

uint64_t Kernel::cpu_wake_time() {
  uint64_t wake = 0;
  if (!cpu_control()) return wake;
  each_cpu_group(*cgroups_.root(), [&](Cgroup& g) {
    if (!g.cpu.throttled || g.nr_populated == 0) return;
    const uint64_t end = cpu_period_end(g);
    if (wake == 0 || end < wake) wake = end;
  });
  return wake;
}

}  // namespace vs::container_sim

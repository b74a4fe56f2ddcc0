// What the kernel does when a memory cgroup runs out (cgroup-v2.rst
// "Memory"; ../shared/SEMANTICS.md §2.3, checklist 17-20;
// docs/container-sim/cgroup-memory.md): the charge path's reclaim and OOM
// killer (mm/memcontrol.c try_charge(), mm/oom_kill.c), the memory.high
// throttle (mem_cgroup_handle_over_high()), and lowering memory.max
// (memory_max_write()). The arithmetic per cgroup is cgroup_memory.cpp's;
// the frames and their owners are frames.h's.
//
// Reclaim here can free one thing only: a clean image page, one that still
// holds the executable's bytes, which the next touch reads back (a major
// fault). Anonymous pages have no swap to go to and page tables are never
// reclaimed, as on Linux without swap.
#include <algorithm>

#include "kernel.h"
#include "linux_abi.h"

namespace vs::container_sim {

using namespace linux_abi;

namespace {
constexpr uint64_t kNsPerInstruction = 10;  // virtual time: one instruction is 10 ns
// mem_cgroup_handle_over_high(): no sleep of 10 ms (HZ / 100) or less, and
// none longer than MEMCG_MAX_HIGH_DELAY_JIFFIES (2 s).
constexpr uint64_t kMinHighDelayNs = 10'000'000;
constexpr uint64_t kMaxHighDelayNs = 2'000'000'000;
constexpr int kMaxRounds = 4096;  // a guard only: each round frees pages or ends a process
}  // namespace

// --- the charger ------------------------------------------------------------------

Kernel::MemcgCharger::MemcgCharger(Kernel& kernel) : k(kernel) { k.frames_.set_charger(this); }
Kernel::MemcgCharger::~MemcgCharger() { k.frames_.set_charger(nullptr); }

std::shared_ptr<Cgroup> Kernel::MemcgCharger::new_space_owner() {
  // A new space is made for fork's child or a spawned process — the one
  // live process without a space yet, made by new_process just before —
  // or else for the caller of execve, which is on the CPU.
  const Process* building = nullptr;
  for (const auto& s : k.slots_)
    if (s && s->state != ProcState::Zombie && !s->mm && (!building || s->serial > building->serial)) building = s.get();
  if (building && building->cgroup) return building->cgroup;
  if (k.current_ && k.current_->cgroup) return k.current_->cgroup;
  return k.cgroups_.root();
}

bool Kernel::MemcgCharger::make_room(Cgroup& memcg, AddressSpace& space) {
  // try_charge(): the first cgroup from memcg up that one more page would
  // take over memory.max counts a `max` event and is reclaimed from; if
  // reclaim cannot free enough, it counts `oom` and its OOM killer ends a
  // process inside it, and the charge is tried again.
  const Process* self = k.memcg_space_owner(space);
  if (space.in_cpu_fault()) space.faulting_instruction(k.cpu_.state().eip);
  for (int round = 0; round < kMaxRounds; ++round) {
    Cgroup* over = memcg_over_max(memcg, 1);
    if (!over) return true;
    memcg_event(*over, kMemMax);
    const uint64_t need = over->memory.current + 1 - uint64_t(over->memory.max);
    if (k.memcg_reclaim(*over, need) >= need) continue;
    memcg_event(*over, kMemOom);
    if (k.memcg_oom_kill(*over, self, true) != OomResult::Killed) return false;
  }
  return false;
}

void Kernel::MemcgCharger::charged(Cgroup& memcg, AddressSpace& space) {
  if (k.log_.wants(trace::EventKind::CgroupCharge))
    k.log_.emit(trace::EventKind::CgroupCharge, k.time(), kCgMemory, memcg.id, kPageSize,
                memcg.memory.current * kPageSize);
  // memory.high (reclaim_high()): every cgroup from memcg up that is over
  // it counts a `high` event and is reclaimed from. Never an OOM kill
  // (checklist 17).
  double worst = 0;
  const Cgroup* worst_cg = nullptr;
  for (Cgroup* c = &memcg; c && c->parent; c = c->parent) {
    CgroupMemory& m = c->memory;
    if (!c->has(kCgMemory) || m.high == kMemUnlimited || m.current <= uint64_t(m.high)) continue;
    memcg_event(*c, kMemHigh);
    k.memcg_reclaim(*c, 1);  // reclaim_high(): as many pages as were just charged
    if (m.current <= uint64_t(m.high)) continue;
    // calculate_overage(): how far over, as a fraction of memory.high.
    const double overage = double(m.current - uint64_t(m.high)) / double(std::max<int64_t>(m.high, 1));
    if (overage > worst) worst = overage, worst_cg = c;
  }
  if (!worst_cg) return;
  ++space.high_pages;
  // The penalty (calculate_high_delay()): overage² seconds per 64 pages
  // of a charge batch, times the pages charged (HZ·64·overage² jiffies ·
  // nr_pages / MEMCG_CHARGE_BATCH). Linux charges in batches of 64 pages
  // and sleeps at the return to user mode; here a page at a time, so the
  // pages over the limit add up until the delay passes 10 ms, and the
  // process sleeps at the page fault that got there.
  Process* p = k.current_;
  if (!space.in_cpu_fault() || !p || p->mm.get() != &space) return;  // a kernel copy: at its next fault
  const double seconds = worst * worst * double(space.high_pages);
  const uint64_t delay_ns = std::min<uint64_t>(kMaxHighDelayNs, uint64_t(seconds * 1e9));
  if (delay_ns <= kMinHighDelayNs) return;
  space.high_pages = 0;
  space.throttled = true;
  // Off the CPU until the penalty is served, as nanosleep does; when it
  // wakes the faulting instruction runs again and finds its page.
  p->regs = k.cpu_.state();
  p->state = ProcState::Blocked;
  p->call = SyscallArgs{kMemcgThrottleCall, {}};
  p->sleeping = true;
  p->wake_at = k.now() + (delay_ns + kNsPerInstruction - 1) / kNsPerInstruction;
  if (k.log_.wants(trace::EventKind::CgroupThrottle))
    k.log_.emit(trace::EventKind::CgroupThrottle, k.time(), kCgMemory, worst_cg->id, delay_ns, p->pid());
  k.leave_cpu();
}

void Kernel::MemcgCharger::uncharged(Cgroup& memcg) {
  if (k.log_.wants(trace::EventKind::CgroupCharge))
    k.log_.emit(trace::EventKind::CgroupCharge, k.time(), kCgMemory, memcg.id, uint64_t(-int64_t(kPageSize)),
                memcg.memory.current * kPageSize);
}

SysResult Kernel::sys_memcg_throttle(Process& p, const SyscallArgs&) {
  // Only a process a memory.high penalty put to sleep is "in" this call;
  // a guest calling the number gets ENOSYS like any unknown call.
  if (!p.mm || !p.mm->throttled) return SysResult::done(-kENOSYS);
  if (now() < p.wake_at) return SysResult::block();
  p.sleeping = false;
  p.mm->throttled = false;
  return SysResult::done(int32_t(p.regs.gpr[cpu::EAX]));  // EAX as the fault left it
}

// --- reclaim ----------------------------------------------------------------------

Process* Kernel::memcg_space_owner(const AddressSpace& space) const {
  for (const auto& s : slots_)
    if (s && s->mm.get() == &space) return s.get();
  return nullptr;
}

void Kernel::memcg_invalidate(const AddressSpace& space, uint32_t va) {
  // Only the loaded space's translations can be in the TLBs (a switch flushes them).
  if (space.id != loaded_space_) return;
  mmu_.invalidate_page(va);
  cpu_.flush_tlb();
}

uint64_t Kernel::memcg_reclaim(Cgroup& cg, uint64_t want) {
  // try_to_free_mem_cgroup_pages() in miniature: a clock over the frames
  // charged inside cg's subtree, looking at file pages only. A page used
  // since the last look (accessed bit set) gets a second chance: the bit is
  // cleared (pgrefill) and the page stays. Only when a whole pass freed
  // too little does a second pass take pages whose bit it has just
  // cleared, as Linux's reclaim retries end up doing before an OOM kill. Never taken: pages of a space the
  // kernel is copying to or from (pinned), pages mapped at this very
  // instant, and pages a faulting instruction brought in before it could
  // run (AddressSpace::faulting_instruction) — taking those would make it
  // fault for ever.
  if (want == 0) return 0;
  frames_.notice_dirty();
  uint64_t freed = 0;
  const uint32_t n = frames_.frame_count();
  for (int pass = 0; pass < 2 && freed < want; ++pass) {
    for (uint32_t step = 0; step < n && freed < want; ++step) {
      const uint32_t i = (reclaim_hand_ + step) % n;
      const FrameInfo& f = frames_.info(i * kPageSize);
      if (!f.in_use || f.use != kUseFile || !f.pte || !f.space || !f.memcg || f.space->pinned() ||
          f.mapped_at == now() || f.space->needed_by_faulting_instruction(f.va) || !memcg_within(*f.memcg, cg))
        continue;
      const std::shared_ptr<Cgroup> owner = f.memcg;  // the frame's record goes with the page
      AddressSpace& space = *f.space;
      const uint32_t va = f.va;
      memcg_count(*owner, kPgscan);
      if (pass == 0 && space.test_and_clear_accessed(va)) {
        memcg_count(*owner, kPgrefill);
        memcg_invalidate(space, va);  // so that the next access sets it again
        continue;
      }
      if (!space.evict(va)) continue;  // written after all: anonymous now
      memcg_invalidate(space, va);
      memcg_count(*owner, kPgsteal);
      ++frames_.reclaimed;
      if (++freed == want) reclaim_hand_ = (i + 1) % n;
    }
  }
  return freed;
}

// --- the OOM killer ---------------------------------------------------------------

Kernel::OomResult Kernel::memcg_oom_kill(Cgroup& cg, const Process* self, bool current_busy) {
  // select_bad_process() over the tasks of cg's subtree only (an OOM in a
  // cgroup never kills outside it, §2.3): the largest by oom_badness() —
  // resident pages plus page tables, here the frames of its address space.
  // Linux keeps the last of equals in its scan; here the newest process
  // (highest creation serial) wins ties. Exempt: the host's PID 1
  // (is_global_init), zombies and processes without memory.
  Process* victim = nullptr;
  uint64_t best = 0;
  for (const auto& s : slots_) {
    Process* p = s.get();
    if (!p || p->state == ProcState::Zombie || !p->mm || !p->cgroup || !memcg_within(*p->cgroup, cg)) continue;
    if (p->pids.size() == 1 && p->pid() == 1) continue;
    if (p->pending_signal == kSIGKILL) {
      if (p == self || (current_busy && p == current_)) return OomResult::SelfChosen;  // already dying
      continue;
    }
    const uint64_t points = p->mm->frames();
    if (!victim || points > best || (points == best && p->serial > victim->serial)) victim = p, best = points;
  }
  if (!victim) return OomResult::NoVictim;
  // memory.oom.group (mem_cgroup_get_oom_group()): the highest cgroup from
  // the victim's up to cg with oom.group set dies as a whole.
  Cgroup* group = nullptr;
  for (Cgroup* c = victim->cgroup.get(); c; c = c->parent) {
    if (c->has(kCgMemory) && c->memory.oom_group) group = c;
    if (c == &cg) break;
  }
  std::vector<uint64_t> doomed;  // by serial: ending one may free another's slot
  if (group) {
    memcg_event(*group, kMemOomGroupKill);
    for (const auto& s : slots_)
      if (s && s->state != ProcState::Zombie && s->cgroup && memcg_within(*s->cgroup, *group) &&
          !(s->pids.size() == 1 && s->pid() == 1))
        doomed.push_back(s->serial);
  } else {
    doomed.push_back(victim->serial);
  }
  const uint64_t usage = cg.memory.current * kPageSize;
  const uint64_t limit = cg.memory.max == kMemUnlimited ? 0 : uint64_t(cg.memory.max) * kPageSize;
  const std::string what = "out of memory in cgroup " + cg.path();
  bool self_chosen = false;
  for (uint64_t serial : doomed) {
    Process* d = nullptr;
    for (const auto& s : slots_)
      if (s && s->serial == serial) d = s.get();
    if (!d || d->state == ProcState::Zombie) continue;
    memcg_event(*d->cgroup, kMemOomKill);  // memcg_memory_event_mm(): the victim's own cgroup, up
    if (log_.wants(trace::EventKind::OomKill)) log_.emit(trace::EventKind::OomKill, time(), cg.id, d->pid(), usage, limit);
    if (d == self || (current_busy && d == current_)) {
      // In the middle of its own fault or system call: it dies when that
      // call ends (its memory goes then), and this charge fails.
      send_signal(*d, kSIGKILL, nullptr);
      self_chosen = true;
      continue;
    }
    kill_with_message(*d, kSIGKILL, what);  // its frames go back now, as the OOM reaper would take them
  }
  return self_chosen ? OomResult::SelfChosen : OomResult::Killed;
}

void Kernel::memcg_limit_written(Process* writer, Cgroup& cg, const std::string& file) {
  CgroupMemory& m = cg.memory;
  if (file == "memory.high") {
    // memory_high_write(): reclaim down to the new value; no event, no kill.
    if (m.high != kMemUnlimited && m.current > uint64_t(m.high)) memcg_reclaim(cg, m.current - uint64_t(m.high));
    return;
  }
  if (file != "memory.max") return;
  // memory_max_write() (checklist 19): reclaim, and when reclaim cannot get
  // under the new limit, an `oom` event and the OOM killer, until the
  // cgroup fits or nothing is left to kill. The writer, when it is a guest
  // process inside, can be the victim: it dies as its write returns.
  for (int round = 0; round < kMaxRounds; ++round) {
    if (m.max == kMemUnlimited || m.current <= uint64_t(m.max)) return;
    const uint64_t need = m.current - uint64_t(m.max);
    if (memcg_reclaim(cg, need) >= need) continue;
    memcg_event(cg, kMemOom);
    if (memcg_oom_kill(cg, writer, writer != nullptr) != OomResult::Killed) return;
  }
}

}  // namespace vs::container_sim

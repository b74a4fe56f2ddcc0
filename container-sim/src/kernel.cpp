#include "kernel.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <iterator>

#include "linux_abi.h"

namespace vs::container_sim {

using cpu::HookAction;
using namespace linux_abi;

namespace {
// Frames below 1 MiB stay unused: the PC's low memory, and outside
// PhysicalMemory's plain window (bus.h) that the MMU's walks take fast.
constexpr uint32_t kFirstFrame = 0x100000;

cpu::CpuConfig cpu_config() {
  cpu::CpuConfig c;
  c.cpuid_features |= mmu::Mmu::kCpuidFeatures;
  return c;
}
}  // namespace

Kernel::Kernel(const HostConfig& config)
    : config_(config),
      memory_(config.ram_bytes),
      cpu_(memory_, io_, log_, cpu_config()),
      mmu_(memory_, log_, [this] { return cpu_.instructions(); }, mmu::MmuConfig{config.tlb_entries}),
      frames_(memory_.ram(), memory_.ram_size(), kFirstFrame, cpu_) {
  cpu_.set_translator(&mmu_);
  cpu_.set_hooks(this);
  auto rootfs = std::make_shared<Filesystem>("memfs");
  init_ns_.pid = std::make_shared<PidNamespace>();
  init_ns_.mnt = std::make_shared<MountNamespace>(rootfs);
  init_ns_.uts = std::make_shared<UtsNamespace>();
  init_ns_.ipc = std::make_shared<IpcNamespace>();
  init_ns_.net = std::make_shared<NetNamespace>();
  init_ns_.user = std::make_shared<UserNamespace>();
  init_ns_.pid_for_children = init_ns_.pid;
  for (NamespaceBase* n : std::initializer_list<NamespaceBase*>{init_ns_.user.get(), init_ns_.pid.get(),
                                                               init_ns_.mnt.get(), init_ns_.uts.get(),
                                                               init_ns_.ipc.get(), init_ns_.net.get()}) {
    n->id = new_ns_id();
    if (n != init_ns_.user.get()) n->owner = init_ns_.user;
  }
  init_ns_.net->devices[0].up = true;  // the host's lo is up, as on a booted Linux
  // Virtual time starts at 0 with the first user instruction: no guest
  // kernel boots here, so nothing runs before it.
  cpu_.set_instructions(0);
}

Kernel::~Kernel() {
  // Processes hold OpenFiles whose pipes point at each other: drop them all
  // before the frames their address spaces give back.
  for (auto& slot : slots_) slot.reset();
}

bool Kernel::add_file(const std::string& path, std::vector<uint8_t> bytes, std::string& error) {
  return init_ns_.mnt->mounts.add_file(path, std::make_shared<const std::vector<uint8_t>>(std::move(bytes)), error);
}

bool Kernel::add_directory(const std::string& path, std::string& error) {
  return init_ns_.mnt->mounts.add_file(path, nullptr, error);
}

int Kernel::resolve(Process& p, const std::string& path, PathRef& out) {
  return p.ns.mnt->mounts.resolve(p.root, p.cwd, path, out, &p);
}

const HostCounters& Kernel::counters() const {
  counters_.frames_in_use = frames_.in_use();
  counters_.frames_peak = frames_.peak();
  counters_.demand_zero_pages = frames_.demand_zero;
  return counters_;
}

void Kernel::request_stop() {
  stop_requested_ = true;
  cpu_.request_stop();
}

// The run loop: give the CPU to a process for at most the rest of the
// current tick, then see why it came back. A tick boundary is a timer
// interrupt in the teaching kernel; here it is the end of a Cpu::run budget.
HostStop Kernel::run(uint64_t budget) {
  const uint64_t tick = config_.tick_instructions ? config_.tick_instructions : 1;
  uint64_t left = budget;
  for (;;) {
    if (!panic_.empty()) return HostStop::Panic;  // the shared kernel is dead (sysrq.cpp)
    if (stop_requested_) {
      stop_requested_ = false;
      return HostStop::Requested;
    }
    cpu_account();  // cgroup cpu: refills and throttles due by now (scheduler.cpp)
    if (!current_) {
      Process* next = pick_next();
      if (!next) {
        // Nothing can run. Sleepers: skip virtual time to the first
        // deadline (the CPU would idle until then). Else it is over, or
        // only the host can help (console input).
        uint64_t wake = 0;
        bool alive = false;
        for (const auto& p : slots_) {
          if (!p || p->state == ProcState::Zombie) continue;
          alive = true;
          if (p->sleeping && (wake == 0 || p->wake_at < wake)) wake = p->wake_at;
        }
        if (!alive) return HostStop::AllExited;
        // ... or to the refill of a group throttled by cpu.max.
        if (const uint64_t refill = cpu_wake_time(); refill && (wake == 0 || refill < wake)) wake = refill;
        if (wake == 0) return HostStop::Idle;
        if (wake > now()) {
          counters_.idle += wake - now();
          cpu_.set_instructions(wake);
        }
        continue;
      }
      switch_to(*next);
    }
    if (left == 0) return HostStop::Budget;
    const uint64_t tick_end = (now() / tick + 1) * tick;
    const uint64_t before = now();
    // At most to the tick, or to where a cpu.max pool runs dry (cpu_run_cap).
    const cpu::RunStop stop = cpu_.run(std::min({left, tick_end - before, cpu_run_cap()}));
    const uint64_t ran = now() - before;
    left -= std::min(left, ran);
    counters_.instructions += ran;
    cpu_charge_current();  // what it ran since its last system call or fault (cgroup cpu.stat)
    switch (stop) {
      case cpu::RunStop::Budget:
        if (current_ && now() >= tick_end) {  // the timer: back of the queue
          current_->regs = cpu_.state();
          ++counters_.preemptions;
          current_ = nullptr;
        }
        break;
      case cpu::RunStop::Requested:
      case cpu::RunStop::Hook:
        break;  // a hook took the process off the CPU, or the host asked
      case cpu::RunStop::Halted:
      case cpu::RunStop::Shutdown:
      case cpu::RunStop::Unsupported:
      case cpu::RunStop::VmExit:
        // Cannot happen at CPL 3 with every trap hooked, except a feature
        // the CPU does not model: the process dies, the kernel goes on.
        if (current_) {
          const char* what = cpu_.unsupported_feature();
          current_->regs = cpu_.state();
          char line[160];
          std::snprintf(line, sizeof line, "%s at eip 0x%08x", what ? what : cpu::run_stop_name(stop),
                        current_->regs.eip);
          kill_with_message(*current_, kSIGILL, line);
        }
        break;
    }
  }
}

// --- the hooks ---------------------------------------------------------

HookAction Kernel::on_interrupt(uint8_t vector) {
  if (!current_) return HookAction::Stop;  // no process: nothing to serve (cannot happen)
  cpu_charge_current();  // before the call can exit, migrate or read cpu.stat
  Process& p = *current_;
  p.regs = cpu_.state();
  if (vector != 0x80) {
    // The teaching kernel's other gates have DPL 0: INT n from ring 3 is a
    // #GP (SDM Vol. 3 §6.12.1.1), and Linux answers that with SIGSEGV.
    char line[64];
    std::snprintf(line, sizeof line, "general protection fault at eip 0x%08x", p.regs.eip - 2);
    kill_with_message(p, kSIGSEGV, line);
    return HookAction::Handled;
  }
  ++counters_.syscalls;
  ++p.syscalls;
  const cpu::CpuState& s = p.regs;
  const SyscallArgs args{s.gpr[cpu::EAX],
                         {s.gpr[cpu::EBX], s.gpr[cpu::ECX], s.gpr[cpu::EDX], s.gpr[cpu::ESI], s.gpr[cpu::EDI],
                          s.gpr[cpu::EBP]}};
  p.call_progress = 0;
  finish_call(p, args, dispatch(p, args));
  cpu_after_call();  // cgroup cpu: a new cpu.max or cgroup applies from here (scheduler.cpp)
  return HookAction::Handled;
}

HookAction Kernel::on_exception(uint8_t vector, bool, uint32_t error_code) {
  if (!current_) return HookAction::Stop;
  cpu_charge_current();  // before a fatal fault ends it
  Process& p = *current_;
  const cpu::CpuState s = cpu_.state();
  if (vector == 14) {
    ++counters_.page_faults;
    ++p.page_faults;
    // Not present: demand-zero if the address is in a region (a protection
    // fault never is: every user page is writable).
    const int r = (error_code & mmu::pf_error::P) ? -kEFAULT : p.mm->fault(s.cr2);
    if (r == 0) {
      return HookAction::Handled;  // the CPU retries the instruction
    }
    p.regs = s;
    char line[96];
    if (r == -kENOMEM) {
      std::snprintf(line, sizeof line, "out of memory at 0x%08x", s.cr2);  // the teaching kernel's words
      kill_with_message(p, kSIGKILL, line);
    } else {
      std::snprintf(line, sizeof line, "segmentation fault at 0x%08x, eip 0x%08x", s.cr2, s.eip);
      kill_with_message(p, kSIGSEGV, line);
    }
    return HookAction::Handled;
  }
  // Linux's signals for the other exceptions: #DE SIGFPE, #UD SIGILL, the rest SIGSEGV.
  static const char* const names[] = {"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
                                      "invalid opcode", "device not available", "double fault",
                                      "coprocessor overrun", "invalid TSS", "segment not present", "stack fault",
                                      "general protection fault", "page fault", "reserved", "x87 error",
                                      "alignment check", "machine check", "SIMD error"};
  p.regs = s;
  const int sig = vector == 0 ? kSIGFPE : vector == 6 ? kSIGILL : kSIGSEGV;
  char line[96];
  std::snprintf(line, sizeof line, "%s at eip 0x%08x", vector < std::size(names) ? names[vector] : "exception", s.eip);
  kill_with_message(p, sig, line);
  return HookAction::Handled;
}

}  // namespace vs::container_sim

// KvmVm::run: one readable switch over the exits KVM hands to user space
// (api.rst §5 "The kvm_run structure"), dispatching to the same device model
// the other modes use (STYLE.md §2.13). Each exit is counted and emitted as
// a VmExit with the VT-x basic exit reason it corresponds to (SDM Vol. 3C
// Appendix C): KVM_EXIT_IO -> IO_INSTRUCTION, KVM_EXIT_MMIO -> EPT_VIOLATION
// (on VT-x an MMIO access is an EPT violation KVM could not resolve),
// KVM_EXIT_HLT -> HLT, KVM_EXIT_IRQ_WINDOW_OPEN -> INTERRUPT_WINDOW,
// KVM_EXIT_INTR (the kick timer's signal) -> EXTERNAL_INTERRUPT,
// KVM_EXIT_SHUTDOWN -> TRIPLE_FAULT. Exits KVM finishes in the kernel (CPUID,
// CR accesses, EPT faults on RAM) never reach user space and are not seen.
//
// Interrupts without an in-kernel irqchip (api.rst KVM_INTERRUPT): when the
// PIC raises INTR, the vector is injected with KVM_INTERRUPT if the last exit
// said ready_for_interrupt_injection and IF; otherwise KVM is asked to exit
// at the guest's next interrupt window (request_interrupt_window).
//
// Time: virtual time is the wall clock (KvmVm::virtual_time); a halted guest
// sleeps until the next device deadline, and a running one is kicked out of
// KVM_RUN by a timer signal at that deadline (kvm_kick.h).
// A guest that is neither halted nor able to take an interrupt is run again
// with request_interrupt_window set, so KVM exits once IF allows one.
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "kvm_device.h"
#include "kvm_kick.h"
#include "virtscope/cpu/vmx.h"
#include "virtscope/vmm/kvm.h"

namespace vs::vmm {

namespace exit_qual = cpu::exit_qual;

class KvmRunLoop {
 public:
  explicit KvmRunLoop(KvmVm& vm) : vm_(vm), run_(*vm.run_) {}
  KvmStop run(uint64_t budget);

 private:
  bool fail(std::string why) {
    if (vm_.failure_.empty()) vm_.failure_ = std::move(why);
    return false;
  }
  trace::VirtualTime now() const {
    const uint64_t t = vm_.virtual_time();
    return {t, t};
  }
  int64_t wall_ns(uint64_t virtual_time) const {
    return vm_.start_ns_ + int64_t(devices::Scheduler::to_ns(virtual_time));
  }
  uint64_t next_deadline() const {
    return vm_.wiring_.scheduler ? vm_.wiring_.scheduler->next_deadline() : devices::Scheduler::kNever;
  }
  void count(ExitReason reason, uint32_t qualification);
  void offer_interrupt();
  void inject();
  void sleep_until(uint64_t virtual_time);
  bool port_io();
  bool mmio();

  KvmVm& vm_;
  kvm_run& run_;
};

void KvmRunLoop::count(ExitReason reason, uint32_t qualification) {
  ++vm_.stats_.exits[reason];
  trace::EventLog* log = vm_.wiring_.log;
  if (!log || !log->wants(trace::EventKind::VmExit)) return;
  kvm_regs r{};
  kvm_sregs s{};
  (void)vm_.get_raw(&r, &s);  // only when someone listens: two ioctls per exit
  log->emit(trace::EventKind::VmExit, now(), uint64_t(reason), qualification, r.rip, s.cs.selector);
}

// Before each KVM_RUN: hand the PIC's interrupt to the guest when it can
// take one, else ask for an exit at its next interrupt window.
void KvmRunLoop::offer_interrupt() {
  run_.request_interrupt_window = 0;
  if (!vm_.irq_line_) return;
  if (run_.ready_for_interrupt_injection && run_.if_flag)
    inject();
  else
    run_.request_interrupt_window = 1;
}

// INTA, then KVM_INTERRUPT: KVM delivers the vector through the guest's
// IDT (or IVT) on the next entry.
void KvmRunLoop::inject() {
  const uint8_t vector = vm_.wiring_.acknowledge ? vm_.wiring_.acknowledge() : 0;
  kvm_interrupt irq{};
  irq.irq = vector;
  if (::ioctl(vm_.vcpu_fd_, KVM_INTERRUPT, &irq) != 0) {
    fail(kvm::errno_text("KVM_INTERRUPT"));
    return;
  }
  ++vm_.stats_.reflected;
  vm_.halted_ = false;  // the interrupt ends HLT (SDM Vol. 2 HLT)
  if (trace::EventLog* log = vm_.wiring_.log; log && log->wants(trace::EventKind::VirtualInterrupt)) {
    kvm_regs r{};
    kvm_sregs s{};
    (void)vm_.get_raw(&r, &s);
    log->emit(trace::EventKind::VirtualInterrupt, now(), vector, 0, r.rip, s.cs.selector);
  }
}

void KvmRunLoop::sleep_until(uint64_t virtual_time) {
  const int64_t at = wall_ns(virtual_time);
  timespec t{at / 1'000'000'000, at % 1'000'000'000};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) == EINTR) {
  }
}

// KVM_EXIT_IO: `count` items of `size` bytes at data_offset in kvm_run;
// count > 1 for string I/O KVM batched (INS/OUTS with REP).
bool KvmRunLoop::port_io() {
  const auto& io = run_.io;
  const bool in = io.direction == KVM_EXIT_IO_IN;
  const uint64_t bytes = uint64_t(io.size) * io.count;
  if (io.size != 1 && io.size != 2 && io.size != 4) return fail("port I/O of " + std::to_string(io.size) + " bytes");
  if (io.data_offset + bytes > vm_.run_size_) return fail("port I/O data lies outside kvm_run");
  uint32_t qualification = uint32_t(io.size - 1) | (in ? exit_qual::kIoIn : 0) |
                           (uint32_t(io.port) << exit_qual::kIoPortShift);
  if (io.count > 1) qualification |= exit_qual::kIoString | exit_qual::kIoRep;
  count(ExitReason::IoInstruction, qualification);
  uint8_t* data = reinterpret_cast<uint8_t*>(&run_) + io.data_offset;
  trace::EventLog* log = vm_.wiring_.log;
  devices::PortBus* ports = vm_.wiring_.ports;
  for (uint32_t i = 0; i < io.count; ++i, data += io.size) {
    uint32_t value = 0;
    if (in) {
      value = ports ? ports->in(io.port, io.size) : 0xFFFFFFFFu;
      std::memcpy(data, &value, io.size);  // x86 is little-endian, as the guest expects
      if (log && log->wants(trace::EventKind::PortIn)) log->emit(trace::EventKind::PortIn, now(), io.port, io.size, value);
    } else {
      std::memcpy(&value, data, io.size);
      if (log && log->wants(trace::EventKind::PortOut)) log->emit(trace::EventKind::PortOut, now(), io.port, io.size, value);
      if (ports) ports->out(io.port, io.size, value);
    }
    // KVM is the hosted path: guest -> host kernel (KVM) -> this process's device model.
    ++vm_.stats_.io_requests;
    if (log) log->emit(trace::EventKind::IoRequest, now(), io.port, value, in ? 1 : 0, 2);
  }
  return true;
}

// KVM_EXIT_MMIO: guest-physical memory no slot backs, up to 8 bytes.
bool KvmRunLoop::mmio() {
  auto& m = run_.mmio;
  if (m.len == 0 || m.len > sizeof m.data) return fail("MMIO access of " + std::to_string(m.len) + " bytes");
  count(ExitReason::EptViolation, m.is_write ? exit_qual::kEptWrite : exit_qual::kEptRead);
  uint64_t value = 0;
  if (m.is_write) {
    std::memcpy(&value, m.data, m.len);
    if (vm_.wiring_.mmio) vm_.wiring_.mmio(m.phys_addr, m.len, true, value);
  } else {
    value = vm_.wiring_.mmio ? vm_.wiring_.mmio(m.phys_addr, m.len, false, 0) : ~uint64_t(0);
    std::memcpy(m.data, &value, m.len);
  }
  return true;
}

KvmStop KvmRunLoop::run(uint64_t budget) {
  const uint64_t start = vm_.virtual_time();
  const uint64_t end = budget > devices::Scheduler::kNever - start ? devices::Scheduler::kNever : start + budget;
  kvm::Kick kick;
  if (auto err = kick.start(vm_.run_)) {
    fail(*err);
    return KvmStop::Error;
  }
  while (true) {
    if (vm_.wiring_.scheduler) vm_.wiring_.scheduler->run_due();
    if (vm_.stop_requested_) {
      vm_.stop_requested_ = false;
      return KvmStop::Requested;
    }
    if (!vm_.failure_.empty()) return KvmStop::Error;
    const uint64_t now_t = vm_.virtual_time();
    if (now_t >= end) return KvmStop::Budget;
    const uint64_t wake = std::min(next_deadline(), end);
    if (vm_.halted_) {
      // Only an interrupt ends HLT: take one if the guest can, else sleep to
      // the next device deadline (virtual time is the wall clock here).
      if (vm_.irq_line_ && run_.if_flag) {
        run_.request_interrupt_window = 0;
        inject();
      } else {
        if (next_deadline() == devices::Scheduler::kNever) return KvmStop::Halted;
        sleep_until(wake);
        continue;
      }
    } else {
      offer_interrupt();
    }
    if (!vm_.failure_.empty()) return KvmStop::Error;
    kick.arm(wake == devices::Scheduler::kNever ? 0 : std::max<int64_t>(1, wall_ns(wake)));
    const int rc = ::ioctl(vm_.vcpu_fd_, KVM_RUN, 0);
    kick.clear();
    if (rc != 0) {
      if (errno == EINTR || errno == EAGAIN) {
        // The kick: on VT-x the host timer's interrupt made an
        // EXTERNAL_INTERRUPT exit, then KVM saw the signal (KVM_EXIT_INTR).
        count(ExitReason::ExternalInterrupt, 0);
        continue;
      }
      fail(kvm::errno_text("KVM_RUN"));
      return KvmStop::Error;
    }
    switch (run_.exit_reason) {
      case KVM_EXIT_IO:
        if (!port_io()) return KvmStop::Error;
        break;
      case KVM_EXIT_MMIO:
        if (!mmio()) return KvmStop::Error;
        break;
      case KVM_EXIT_HLT:
        count(ExitReason::Hlt, 0);
        vm_.halted_ = true;
        break;
      case KVM_EXIT_IRQ_WINDOW_OPEN:
        count(ExitReason::InterruptWindow, 0);
        break;
      case KVM_EXIT_INTR:
        count(ExitReason::ExternalInterrupt, 0);
        break;
      case KVM_EXIT_DEBUG:
        count(ExitReason::ExceptionOrNmi, run_.debug.arch.exception);
        break;
      case KVM_EXIT_SHUTDOWN:
        count(ExitReason::TripleFault, 0);
        fail("the guest triple-faulted (KVM_EXIT_SHUTDOWN)");
        return KvmStop::Shutdown;
      case KVM_EXIT_FAIL_ENTRY:
        fail("KVM could not enter the guest (hardware entry failure reason " +
             std::to_string(run_.fail_entry.hardware_entry_failure_reason) + ")");
        return KvmStop::Error;
      case KVM_EXIT_INTERNAL_ERROR:
        fail(run_.internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                 ? std::string("the host kernel's instruction emulator could not run the guest's code")
                 : "KVM internal error, suberror " + std::to_string(run_.internal.suberror));
        return KvmStop::Error;
      default:
        fail("unexpected KVM exit " + std::to_string(run_.exit_reason));
        return KvmStop::Error;
    }
  }
}

KvmStop KvmVm::run(uint64_t virtual_time_budget) { return KvmRunLoop(*this).run(virtual_time_budget); }

}  // namespace vs::vmm

// The kvm mode (DESIGN.md §4 "kvm", docs/modes/kvm.md): the guest runs on the
// host's /dev/kvm, the real hosted (type-2) path: guest -> host kernel (KVM)
// -> virtscope's user-space device model. Only the exits KVM cannot finish in
// the kernel reach user space (Linux Documentation/virt/kvm/api.rst §5,
// struct kvm_run); each one is mirrored into the event stream as a VmExit
// with the VT-x basic exit reason it stands for (SDM Vol. 3C Appendix C).
//
// Three layers, from the bottom:
// - probe_kvm(): what this host's KVM can run natively, with a reason in one
//   sentence (the conformance KVM oracle uses the same detection);
// - KvmVm: one VM with one vCPU -- file descriptors, memory slots, register
//   transfer, and a run loop serving port I/O, MMIO, HLT and interrupt
//   injection to the device model;
// - KvmMonitor: the teaching kernel (Multiboot) on a KvmVm with the VM's own
//   PIC, PIT, COM1 and isa-debug-exit.
//
// Time: KVM runs the guest at the host's speed, so the devices' virtual time
// is the wall clock: 1 unit = 10 ns of wall-clock time since the VM was
// created (the interpreter's 1 unit = 1 instruction = 10 ns at 100 MIPS).
// This is the documented exception to virtscope's determinism (DESIGN.md §6).
//
// KvmVm is built only on Linux x86 hosts (vmm/src/kvm/kvm.cmake); elsewhere
// probe_kvm() says so and KvmMonitor::boot() refuses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "virtscope/cpu/state.h"
#include "virtscope/devices/bus.h"
#include "virtscope/devices/loaders.h"
#include "virtscope/devices/scheduler.h"
#include "virtscope/devices/uart.h"
#include "virtscope/trace/event.h"
#include "virtscope/vmm/vm_state.h"

// <linux/kvm.h>; only KvmVm's raw accessors use them.
struct kvm_run;
struct kvm_regs;
struct kvm_sregs;

namespace vs::vmm {

// ---- What this host's KVM can do ----

enum class KvmModule : uint8_t {
  None,   // no KVM module loaded (or /dev/kvm missing)
  Intel,  // kvm_intel: VT-x
  Amd,    // kvm_amd: AMD-V (SVM)
  Pvm,    // kvm_pvm: KVM without VT-x/AMD-V; only 64-bit user-mode code runs natively
  Other,  // /dev/kvm works but none of the above is loaded
};

struct KvmSupport {
  bool usable = false;               // /dev/kvm opens, speaks API 12, and creates a VM
  int api_version = 0;               // KVM_GET_API_VERSION (0 when /dev/kvm does not open)
  KvmModule module = KvmModule::None;
  const char* module_name = "none";  // "kvm_intel", "kvm_amd", "kvm_pvm", ...
  bool hardware_virtualization = false;  // /proc/cpuinfo lists vmx or svm
  bool protected_mode_native = false;    // 32-bit protected mode with paging runs on silicon
  bool real_mode_native = false;         // real mode runs on silicon (AMD-V, VT-x unrestricted guest)
  std::string reason;                    // one sentence for students: what will and will not work
};

// Looks at /dev/kvm, /sys/module and /proc/cpuinfo. Cheap; call it freely.
KvmSupport probe_kvm();

// ---- One VM with one vCPU ----

// Why KvmVm::run returned.
enum class KvmStop : uint8_t {
  Budget,     // the virtual-time budget is used up
  Halted,     // HLT, and no interrupt or device timer can ever wake the guest
  Requested,  // request_stop() was called (by a device callback: isa-debug-exit)
  Shutdown,   // the guest triple-faulted (KVM_EXIT_SHUTDOWN)
  Error,      // failure() says why
};
const char* kvm_stop_name(KvmStop stop);

// A guest access to guest-physical memory that no slot backs (KVM_EXIT_MMIO).
// Writes pass `value`; reads return the value (little-endian, `size` bytes).
using MmioHandler = std::function<uint64_t(uint64_t guest_physical, unsigned size, bool is_write, uint64_t value)>;

class KvmVm {
 public:
  // What the run loop serves. Every pointer may be null: no port bus means
  // IN reads all ones; no scheduler means no device timers.
  struct Wiring {
    devices::PortBus* ports = nullptr;
    devices::Scheduler* scheduler = nullptr;  // its clock must be virtual_time()
    trace::EventLog* log = nullptr;
    MmioHandler mmio;                         // null: reads all ones, writes dropped
    std::function<uint8_t()> acknowledge;     // INTA: the vector of the interrupt being taken
  };

  // Opens /dev/kvm, creates the VM and its vCPU, maps kvm_run and gives the
  // vCPU the host's CPUID. Null with `error` set when KVM refuses.
  static std::unique_ptr<KvmVm> create(std::string& error);
  ~KvmVm();
  KvmVm(const KvmVm&) = delete;
  KvmVm& operator=(const KvmVm&) = delete;

  // Guest-physical [guest_physical, +size) is the host buffer `host` (both
  // page-aligned); the buffer must outlive the VM. Slots must not overlap.
  bool map_memory(uint32_t slot, uint64_t guest_physical, uint64_t size, void* host, std::string& error);

  // Register transfer for IA-32 guests: CpuState <-> kvm_regs/kvm_sregs
  // (segments with their caches, CR0-4, GDTR/IDTR, LDTR/TR; EFER = 0) and
  // the STI/MOV SS interrupt shadow. Debug registers, MSRs and the TSC are
  // not transferred.
  bool set_state(const cpu::CpuState& s, std::string& error);
  bool get_state(cpu::CpuState& s, std::string& error);

  // Raw access for probes and the conformance oracle (e.g. long mode, which
  // CpuState cannot describe). put_raw never injects: it clears
  // kvm_sregs.interrupt_bitmap.
  std::optional<std::string> get_raw(kvm_regs* regs, kvm_sregs* sregs) const;
  std::optional<std::string> put_raw(const kvm_regs* regs, const kvm_sregs* sregs);
  int vcpu_fd() const { return vcpu_fd_; }
  kvm_run& run_area() { return *run_; }
  size_t run_area_size() const { return run_size_; }

  // The device model.
  void attach(Wiring wiring) { wiring_ = std::move(wiring); }
  void set_irq(bool level) { irq_line_ = level; }  // the PIC's INTR output
  void request_stop() { stop_requested_ = true; }
  // Runs until the budget of virtual time (from now) is used up or
  // something stops the guest. Every exit that reaches user space is
  // counted in stats() and emitted as a VmExit event.
  KvmStop run(uint64_t virtual_time_budget);

  // Wall-clock nanoseconds since create(), divided by 10.
  uint64_t virtual_time() const;
  const TrapStats& stats() const { return stats_; }
  const std::string& failure() const { return failure_; }
  bool halted() const { return halted_; }

 private:
  KvmVm() = default;
  friend class KvmRunLoop;  // vmm/src/kvm/kvm_run_loop.cpp

  int kvm_fd_ = -1, vm_fd_ = -1, vcpu_fd_ = -1;
  kvm_run* run_ = nullptr;   // the vCPU's shared kvm_run page(s)
  size_t run_size_ = 0;
  int64_t start_ns_ = 0;     // CLOCK_MONOTONIC at create(): virtual time 0
  Wiring wiring_;
  TrapStats stats_;
  std::string failure_;
  bool irq_line_ = false;    // the PIC wants an interrupt taken
  bool halted_ = false;      // HLT exited; waiting for an interrupt
  bool stop_requested_ = false;
};

// ---- The teaching kernel on KVM ----

// Whether boot() accepts a host whose KVM would not run 32-bit code on
// silicon. Tests use Emulated on kvm_pvm hosts to exercise the plumbing with
// guests that never enable paging; the kvm mode itself uses NativeOnly.
enum class KvmBootPolicy : uint8_t { NativeOnly, Emulated };

class KvmMonitor {
 public:
  enum class Stop : uint8_t {
    Budget,     // the virtual-time budget is used up
    GuestExit,  // the guest wrote isa-debug-exit: exit_status() holds the status
    Halted,     // HLT with nothing left to wake the guest
    Failed,     // failure() says why (a triple fault is one)
  };

  KvmMonitor(trace::EventLog& log, uint32_t guest_ram_bytes, std::function<void(uint8_t)> serial_out,
             KvmBootPolicy policy = KvmBootPolicy::NativeOnly);
  ~KvmMonitor();
  KvmMonitor(const KvmMonitor&) = delete;
  KvmMonitor& operator=(const KvmMonitor&) = delete;

  static KvmSupport probe() { return probe_kvm(); }
  // Loads the Multiboot kernel into the VM's RAM and sets the Multiboot
  // entry state (spec §3.2). Refuses, with probe()'s reason, on a host
  // whose KVM cannot run 32-bit paging natively (unless the policy allows).
  bool boot(const devices::MultibootImage& image, std::string& error);
  Stop run(uint64_t virtual_time_budget);

  const TrapStats& stats() const;
  devices::Uart& com1();                   // the guest's console
  int exit_status() const;                 // isa-debug-exit's status, (value << 1) | 1; -1 before
  const char* failure() const;             // null while all is well
  uint64_t virtual_time() const;           // 10 ns units of wall clock since boot
  bool get_state(cpu::CpuState& s, std::string& error);

 private:
  struct Impl;  // vmm/src/kvm/kvm_monitor.cpp
  std::unique_ptr<Impl> impl_;
};

}  // namespace vs::vmm

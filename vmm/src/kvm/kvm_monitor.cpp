// The teaching kernel on KVM (DESIGN.md §4 "kvm"): a Multiboot kernel in the
// VM's RAM (one memory slot over an anonymous mapping), the Multiboot entry
// state handed to the vCPU (spec §3.2: flat protected mode, paging and
// interrupts off, EAX = magic, EBX = the information structure), and the
// VM's own PIC, PIT, COM1 and isa-debug-exit served by KvmVm's run loop.
// Guest-physical addresses outside RAM stop the VM, as in the hvm VMM.
#include <sys/mman.h>

#include <cstdio>
#include <cstring>

#include "../vm_devices.h"
#include "virtscope/vmm/kvm.h"

namespace vs::vmm {

struct KvmMonitor::Impl {
  Impl(trace::EventLog& log_, uint32_t ram, std::function<void(uint8_t)> serial_out, KvmBootPolicy policy_)
      : log(log_),
        ram_bytes(ram),
        policy(policy_),
        scheduler([this] { return vm ? vm->virtual_time() : 0; }),
        devices(scheduler, log, [this](bool level) { if (vm) vm->set_irq(level); },
                [this](int status) { guest_exit(status); }, std::move(serial_out)) {}
  ~Impl() {
    vm.reset();  // the slot goes before its memory
    if (ram) ::munmap(ram, ram_bytes);
  }

  void guest_exit(int status) {
    exit_status = status;
    if (vm) vm->request_stop();
  }
  uint64_t unbacked_access(uint64_t gpa, bool is_write) {
    if (failure.empty()) {
      char where[24];
      std::snprintf(where, sizeof where, "0x%llx", static_cast<unsigned long long>(gpa));
      failure = std::string("kvm VMM: the guest ") + (is_write ? "wrote" : "read") + " guest-physical " + where +
                ", which is not RAM";
    }
    vm->request_stop();
    return ~uint64_t(0);
  }
  bool boot(const devices::MultibootImage& image, std::string& error);

  trace::EventLog& log;
  uint32_t ram_bytes;
  KvmBootPolicy policy;
  std::unique_ptr<KvmVm> vm;      // null until boot()
  devices::Scheduler scheduler;   // its clock is the VM's wall-clock virtual time
  VmDevices devices;
  void* ram = nullptr;            // ram_bytes of guest RAM, guest-physical 0
  int exit_status = -1;
  std::string failure;
  TrapStats no_stats;             // what stats() shows before boot()
};

bool KvmMonitor::Impl::boot(const devices::MultibootImage& image, std::string& error) {
  const KvmSupport support = probe_kvm();
  if (!support.usable || (policy == KvmBootPolicy::NativeOnly && !support.protected_mode_native)) {
    error = "kvm mode: " + support.reason;
    return false;
  }
  // The loader places the kernel in a guest-physical memory of its own;
  // those bytes become the VM's RAM.
  devices::PhysicalMemory staging(ram_bytes);
  const devices::MultibootResult r = devices::load_multiboot(image, staging);
  if (!r.ok) {
    error = r.error;
    return false;
  }
  vm = KvmVm::create(error);
  if (!vm) return false;
  void* p = ::mmap(nullptr, ram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    error = "cannot allocate the VM's " + std::to_string(ram_bytes >> 20) + " MiB of RAM";
    vm.reset();
    return false;
  }
  ram = p;
  std::memcpy(ram, staging.ram(), ram_bytes);
  if (!vm->map_memory(0, 0, ram_bytes, ram, error)) return false;

  cpu::CpuState s;
  cpu::enter_flat_protected_mode(s, r.entry);
  s.gpr[cpu::EAX] = devices::kMultibootBootloaderMagic;
  s.gpr[cpu::EBX] = r.info;
  if (!vm->set_state(s, error)) return false;
  KvmVm::Wiring wiring;
  wiring.ports = &devices.ports;
  wiring.scheduler = &scheduler;
  wiring.log = &log;
  wiring.mmio = [this](uint64_t gpa, unsigned, bool is_write, uint64_t) { return unbacked_access(gpa, is_write); };
  wiring.acknowledge = [this] { return devices.pic.acknowledge(); };
  vm->attach(std::move(wiring));
  log.set_context(1, 0);
  return true;
}

const char* kvm_stop_name(KvmStop stop) {
  switch (stop) {
    case KvmStop::Budget: return "budget";
    case KvmStop::Halted: return "halted";
    case KvmStop::Requested: return "requested";
    case KvmStop::Shutdown: return "shutdown";
    case KvmStop::Error: return "error";
  }
  return "?";
}

KvmMonitor::KvmMonitor(trace::EventLog& log, uint32_t guest_ram_bytes, std::function<void(uint8_t)> serial_out,
                       KvmBootPolicy policy)
    : impl_(std::make_unique<Impl>(log, guest_ram_bytes, std::move(serial_out), policy)) {}

KvmMonitor::~KvmMonitor() = default;

bool KvmMonitor::boot(const devices::MultibootImage& image, std::string& error) { return impl_->boot(image, error); }

KvmMonitor::Stop KvmMonitor::run(uint64_t virtual_time_budget) {
  if (!impl_->vm) {
    if (impl_->failure.empty()) impl_->failure = "kvm VMM: run() before a successful boot()";
    return Stop::Failed;
  }
  const KvmStop stop = impl_->vm->run(virtual_time_budget);
  if (!impl_->failure.empty()) return Stop::Failed;
  if (impl_->exit_status >= 0) return Stop::GuestExit;
  switch (stop) {
    case KvmStop::Budget: return Stop::Budget;
    case KvmStop::Halted: return Stop::Halted;
    case KvmStop::Requested: return Stop::Budget;  // nothing else requests a stop
    case KvmStop::Shutdown:
    case KvmStop::Error:
      impl_->failure = "kvm VMM: " + impl_->vm->failure();
      return Stop::Failed;
  }
  return Stop::Failed;
}

const TrapStats& KvmMonitor::stats() const { return impl_->vm ? impl_->vm->stats() : impl_->no_stats; }
devices::Uart& KvmMonitor::com1() { return impl_->devices.com1; }
int KvmMonitor::exit_status() const { return impl_->exit_status; }
const char* KvmMonitor::failure() const { return impl_->failure.empty() ? nullptr : impl_->failure.c_str(); }
uint64_t KvmMonitor::virtual_time() const { return impl_->vm ? impl_->vm->virtual_time() : 0; }

bool KvmMonitor::get_state(cpu::CpuState& s, std::string& error) {
  if (!impl_->vm) {
    error = "the VM has not booted";
    return false;
  }
  return impl_->vm->get_state(s, error);
}

}  // namespace vs::vmm

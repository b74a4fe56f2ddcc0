// KvmVm's plumbing: the VM and vCPU file descriptors, the shared kvm_run
// area, memory slots and raw register access (Linux
// Documentation/virt/kvm/api.rst §4: KVM_CREATE_VM, KVM_CREATE_VCPU,
// KVM_GET_VCPU_MMAP_SIZE, KVM_SET_USER_MEMORY_REGION, KVM_GET/SET_(S)REGS).
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "kvm_device.h"
#include "virtscope/vmm/kvm.h"

namespace vs::vmm {
namespace {

// VMX needs three pages for the TSS it uses to run real mode in vm86 when
// unrestricted guest is off (api.rst KVM_SET_TSS_ADDR); above any guest RAM.
constexpr unsigned long kTssAddrForVmx = 0xFFFBD000;

int64_t monotonic_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// Gives the vCPU the CPUID the host supports, so CPUID answers like the
// silicon. KVM_GET_SUPPORTED_CPUID fails with E2BIG while the buffer is too
// small. Best effort: without it CPUID reads zeros and nothing else breaks.
void set_host_cpuid(int kvm_fd, int vcpu_fd) {
  for (uint32_t entries = 64; entries <= 4096; entries *= 2) {
    std::vector<uint8_t> buf(sizeof(kvm_cpuid2) + entries * sizeof(kvm_cpuid_entry2));
    auto* cpuid = reinterpret_cast<kvm_cpuid2*>(buf.data());
    cpuid->nent = entries;
    if (::ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) {
      (void)::ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid);
      return;
    }
    if (errno != E2BIG) return;
  }
}

}  // namespace

std::unique_ptr<KvmVm> KvmVm::create(std::string& error) {
  std::unique_ptr<KvmVm> vm(new KvmVm);
  int version = 0;
  if (auto err = kvm::open_dev_kvm(&vm->kvm_fd_, &version)) {
    error = *err;
    return nullptr;
  }
  vm->vm_fd_ = ::ioctl(vm->kvm_fd_, KVM_CREATE_VM, 0);
  if (vm->vm_fd_ < 0) {
    error = kvm::errno_text("KVM_CREATE_VM");
    return nullptr;
  }
  (void)::ioctl(vm->vm_fd_, KVM_SET_TSS_ADDR, kTssAddrForVmx);  // harmless where unused
  vm->vcpu_fd_ = ::ioctl(vm->vm_fd_, KVM_CREATE_VCPU, 0);
  if (vm->vcpu_fd_ < 0) {
    error = kvm::errno_text("KVM_CREATE_VCPU");
    return nullptr;
  }
  const int run_size = ::ioctl(vm->kvm_fd_, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < int(sizeof(kvm_run))) {
    error = kvm::errno_text("KVM_GET_VCPU_MMAP_SIZE");
    return nullptr;
  }
  void* run = ::mmap(nullptr, size_t(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd_, 0);
  if (run == MAP_FAILED) {
    error = kvm::errno_text("mmap of kvm_run");
    return nullptr;
  }
  vm->run_ = static_cast<kvm_run*>(run);
  vm->run_size_ = size_t(run_size);
  set_host_cpuid(vm->kvm_fd_, vm->vcpu_fd_);
  vm->start_ns_ = monotonic_ns();
  return vm;
}

KvmVm::~KvmVm() {
  if (run_) ::munmap(run_, run_size_);
  for (int fd : {vcpu_fd_, vm_fd_, kvm_fd_})
    if (fd >= 0) ::close(fd);
}

bool KvmVm::map_memory(uint32_t slot, uint64_t guest_physical, uint64_t size, void* host, std::string& error) {
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.guest_phys_addr = guest_physical;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  if (::ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &region) == 0) return true;
  error = kvm::errno_text("KVM_SET_USER_MEMORY_REGION");
  return false;
}

std::optional<std::string> KvmVm::get_raw(kvm_regs* regs, kvm_sregs* sregs) const {
  if (regs && ::ioctl(vcpu_fd_, KVM_GET_REGS, regs) != 0) return kvm::errno_text("KVM_GET_REGS");
  if (sregs && ::ioctl(vcpu_fd_, KVM_GET_SREGS, sregs) != 0) return kvm::errno_text("KVM_GET_SREGS");
  return std::nullopt;
}

std::optional<std::string> KvmVm::put_raw(const kvm_regs* regs, const kvm_sregs* sregs) {
  if (sregs) {
    kvm_sregs copy = *sregs;
    std::memset(copy.interrupt_bitmap, 0, sizeof copy.interrupt_bitmap);  // a set bit would inject
    if (::ioctl(vcpu_fd_, KVM_SET_SREGS, &copy) != 0) return kvm::errno_text("KVM_SET_SREGS");
  }
  if (regs && ::ioctl(vcpu_fd_, KVM_SET_REGS, regs) != 0) return kvm::errno_text("KVM_SET_REGS");
  return std::nullopt;
}

uint64_t KvmVm::virtual_time() const { return devices::Scheduler::from_ns(uint64_t(monotonic_ns() - start_ns_)); }

}  // namespace vs::vmm

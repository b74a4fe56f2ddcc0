// Host detection for the kvm mode: which KVM this host has and what it runs
// on silicon. Intel VT-x (kvm_intel) and AMD-V (kvm_amd) run 32-bit
// protected mode with paging natively; real mode too with AMD-V or with
// VT-x's "unrestricted guest" (SDM Vol. 3C §26.6.1 / §25.8). kvm_pvm
// (pagetable-based virtual machine, no VT-x/AMD-V) runs only 64-bit
// user-mode guest code natively: everything else goes through the host
// kernel's instruction emulator, and 32-bit paging cannot be enabled.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "kvm_device.h"
#include "virtscope/vmm/kvm.h"

namespace vs::vmm {
namespace kvm {

std::string errno_text(const char* what) { return std::string(what) + " failed: " + std::strerror(errno); }

std::optional<std::string> open_dev_kvm(int* fd, int* version) {
  const int f = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (f < 0) return "cannot open /dev/kvm (" + std::string(std::strerror(errno)) + ")";
  *version = ::ioctl(f, KVM_GET_API_VERSION, 0);
  if (*version != KVM_API_VERSION) {
    ::close(f);
    return "/dev/kvm speaks API version " + std::to_string(*version) + ", not " + std::to_string(KVM_API_VERSION);
  }
  *fd = f;
  return std::nullopt;
}

}  // namespace kvm

namespace {

bool module_loaded(const char* name) { return ::access((std::string("/sys/module/") + name).c_str(), F_OK) == 0; }

// Whether /proc/cpuinfo lists VT-x (vmx) or AMD-V (svm).
bool cpu_has_hardware_virtualization() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    line += ' ';
    return line.find(" vmx ") != std::string::npos || line.find(" svm ") != std::string::npos;
  }
  return false;
}

// kvm_intel without unrestricted guest runs real mode through the emulator.
bool intel_unrestricted_guest() {
  std::ifstream in("/sys/module/kvm_intel/parameters/unrestricted_guest");
  std::string v;
  return !(in && (in >> v) && (v == "N" || v == "0"));
}

// Whether KVM_CREATE_VM works (it fails e.g. when the module is loaded but
// the CPU's virtualization is disabled in firmware).
std::optional<std::string> try_create_vm(int kvm_fd) {
  const int vm = ::ioctl(kvm_fd, KVM_CREATE_VM, 0);
  if (vm < 0) return "/dev/kvm opens but " + kvm::errno_text("KVM_CREATE_VM");
  ::close(vm);
  return std::nullopt;
}

}  // namespace

KvmSupport probe_kvm() {
  KvmSupport s;
  s.hardware_virtualization = cpu_has_hardware_virtualization();
  if (module_loaded("kvm_pvm")) {
    s.module = KvmModule::Pvm;
    s.module_name = "kvm_pvm";
  } else if (module_loaded("kvm_intel")) {
    s.module = KvmModule::Intel;
    s.module_name = "kvm_intel";
  } else if (module_loaded("kvm_amd")) {
    s.module = KvmModule::Amd;
    s.module_name = "kvm_amd";
  }
  int fd = -1;
  if (auto err = kvm::open_dev_kvm(&fd, &s.api_version)) {
    s.reason = "KVM is not usable here: " + *err +
               (s.module == KvmModule::None ? "; no KVM module is loaded" : "; check the permissions of /dev/kvm");
    return s;
  }
  auto vm_err = try_create_vm(fd);
  ::close(fd);
  if (vm_err) {
    s.reason = "KVM is not usable here: " + *vm_err;
    return s;
  }
  s.usable = true;
  if (s.module == KvmModule::None) s.module = KvmModule::Other;
  switch (s.module) {
    case KvmModule::Intel:
    case KvmModule::Amd:
      s.protected_mode_native = s.hardware_virtualization;
      s.real_mode_native = s.hardware_virtualization && (s.module == KvmModule::Amd || intel_unrestricted_guest());
      if (!s.hardware_virtualization)
        s.reason = std::string(s.module_name) + " is loaded but /proc/cpuinfo shows no vmx or svm flag, so this KVM "
                   "cannot run 32-bit guest code on silicon";
      else if (!s.real_mode_native)
        s.reason = "kvm_intel runs 32-bit protected mode natively; real mode is emulated (unrestricted_guest is off)";
      else
        s.reason = std::string(s.module_name) + " (" + (s.module == KvmModule::Amd ? "AMD-V" : "VT-x") +
                   ") runs real mode and 32-bit protected mode with paging natively: the kvm mode runs the "
                   "teaching kernel here";
      break;
    case KvmModule::Pvm:
      s.reason = "KVM here is kvm_pvm (no VT-x/AMD-V): only 64-bit user-mode guest code runs natively; real mode and "
                 "32-bit code are emulated by the host kernel and 32-bit paging cannot be enabled, so the kvm mode "
                 "cannot run the 32-bit teaching kernel (run it on a host with VT-x or AMD-V)";
      break;
    case KvmModule::None:
    case KvmModule::Other:
      s.reason = "/dev/kvm works but neither kvm_intel, kvm_amd nor kvm_pvm is loaded, so virtscope cannot tell "
                 "whether 32-bit code runs natively";
      break;
  }
  return s;
}

}  // namespace vs::vmm

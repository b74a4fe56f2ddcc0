// /dev/kvm itself (Linux Documentation/virt/kvm/api.rst §4.1): opening it and
// checking the API version, shared by the host probe and KvmVm::create.
#pragma once

#include <optional>
#include <string>

namespace vs::vmm::kvm {

// Opens /dev/kvm (close-on-exec) and checks KVM_GET_API_VERSION == 12.
// On success *fd is the open descriptor and *version the API version.
std::optional<std::string> open_dev_kvm(int* fd, int* version);

// "what failed: strerror(errno)".
std::string errno_text(const char* what);

}  // namespace vs::vmm::kvm

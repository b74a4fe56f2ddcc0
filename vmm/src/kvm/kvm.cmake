# The kvm mode's backend (vmm/include/virtscope/vmm/kvm.h): raw /dev/kvm
# ioctls. virtscope builds on Debian x86-64 (scripts/deps.sh), where
# <linux/kvm.h> is always there; whether /dev/kvm can be used is decided at
# run time (probe_kvm()).
target_sources(vs_vmm PRIVATE
  src/kvm/kvm_host.cpp
  src/kvm/kvm_kick.cpp
  src/kvm/kvm_monitor.cpp
  src/kvm/kvm_registers.cpp
  src/kvm/kvm_run_loop.cpp
  src/kvm/kvm_vm.cpp
)

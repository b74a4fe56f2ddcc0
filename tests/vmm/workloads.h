// The teaching kernel's workloads as the VMM tests run them: the kernels
// and initrd the build made, one command line; every workload, and what a
// mode must show the guest exactly as native does.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "virtscope/vmm/compare.h"

namespace vs::vmm {

inline Workload workload(std::vector<std::string> argv) {
  Workload w;
  w.kernel = VS_KERNEL;
  w.kernel_pv = VS_KERNEL_PV;
  w.initrd = VS_INITRD;
  w.argv = std::move(argv);
  return w;
}

// A machine booting the teaching kernel (its pv build under pv) as a VM
// of 64 MiB, powering off through isa-debug-exit.
inline MachineConfig vm_config(MachineConfig::Vmm vmm, std::string append) {
  MachineConfig c;
  c.ram_bytes = 64u << 20;
  c.kernel = vmm == MachineConfig::Vmm::Pv ? VS_KERNEL_PV : VS_KERNEL;
  c.initrd = {VS_INITRD};
  c.append = std::move(append);
  c.debug_exit = true;
  c.vmm = vmm;
  return c;
}

// Every workload, small: what a mode must run exactly as native does.
inline const auto kEveryWorkload = ::testing::Values(
    std::vector<std::string>{"hello"}, std::vector<std::string>{"cpu", "20000"},
    std::vector<std::string>{"syscall", "100"}, std::vector<std::string>{"write", "20"},
    std::vector<std::string>{"fork", "5"}, std::vector<std::string>{"pagefault", "40"},
    std::vector<std::string>{"mmap", "10"}, std::vector<std::string>{"pipe", "10"},
    std::vector<std::string>{"disk", "16"});

// The guest's own view of a run: what it printed, its status, its system
// calls and its own page faults.
inline void expect_same_guest_view(const ModeResult& native, const ModeResult& r) {
  ASSERT_TRUE(r.ran()) << r.unavailable;
  EXPECT_EQ(r.stop, MachineStop::GuestExit);
  EXPECT_EQ(r.console, native.console);
  EXPECT_EQ(r.exit_status, native.exit_status);
  EXPECT_EQ(r.syscalls, native.syscalls);
  EXPECT_EQ(r.guest_page_faults, native.guest_page_faults);
}

}  // namespace vs::vmm

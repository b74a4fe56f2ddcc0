// container-sim as one of `compare`'s modes (DESIGN.md §5): the workload's
// program started from the same initrd the teaching kernel boots with, its
// system calls served by container-sim, measured in the same ModeResult so a
// row sits beside the VM modes'. Lives here, not in vmm/compare.cpp,
// because container-sim links vmm and not the other way round; a caller
// above both (the app) routes vmm::Mode::Container to this function.
#pragma once

#include "virtscope/vmm/compare.h"
#include "virtscope/vmm/cost_model.h"

namespace vs::container_sim {

// Runs w.argv under container-sim with w.initrd's files in /, compare's
// disk image as the block device /dev/disk, w.ram_bytes
// of emulated RAM and w.max_instructions. The figures: console (everything
// written to fds 1 and 2, and the kernel's kill lines), exit_status in
// isa-debug-exit form ((pid 1's code << 1) | 1, code = 128 + signal when
// killed, as the teaching kernel powers off), instructions (user
// instructions only: the kernel is not emulated), syscalls and
// guest_page_faults (#PF from user mode). No VM exits, no hypercalls.
vmm::ModeResult run_workload(const vmm::Workload& w, const vmm::CostModel& costs);

}  // namespace vs::container_sim

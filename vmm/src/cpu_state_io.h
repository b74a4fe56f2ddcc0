// The CPU's architectural state in a snapshot: every field of CpuState, in
// declaration order, plus the virtual clock.
#pragma once

#include "virtscope/cpu/state.h"
#include "virtscope/devices/state.h"

namespace vs::vmm {

void save_cpu_state(devices::StateWriter& out, const cpu::CpuState& s, uint64_t icount);
// Rejects impossible values (a CPL above 3) through the reader.
void load_cpu_state(devices::StateReader& in, cpu::CpuState& s, uint64_t& icount);

}  // namespace vs::vmm

// virtscope's own interpreter behind the Oracle interface, so the lockstep
// driver can compare it with real silicon, KVM and Unicorn.
#pragma once

#include <memory>

#include "virtscope/conformance/oracle.h"

namespace vs::conformance {

// The machine it builds matches the Unicorn and KVM oracles (unicorn_oracle.h):
// a private block at 0x000F0000 holding the GDT (0x08/0x10 ring-0 flat code and
// data, 0x1B/0x23 ring-3, 0x28 a busy 32-bit TSS) at 0x000F0400 and the TSS at
// 0x000F0480; CR0 = PE|ET|NE|AM in the flat modes. Exceptions are reported
// before delivery (through CpuHooks), so the state stays at the faulting
// instruction. In UserFlat32 the selectors are taken from the start state as
// given (e.g. Linux's 0x23/0x2B when the reference is the native oracle).
std::unique_ptr<Oracle> make_interp_oracle();

}  // namespace vs::conformance

// The native oracle: real silicon as the reference, running IA-32 user code
// (StartMode::UserFlat32) in a ptrace single-stepped i386 process; see ptrace(2).
#pragma once

#include <memory>

#include "virtscope/conformance/oracle.h"

namespace vs::conformance {

// Creates the oracle. It finds its i386 tracee program in this order: the
// VIRTSCOPE_HARNESS32 environment variable, the copy in the build tree, a
// file `virtscope-harness32` next to the running executable. All ptrace calls
// must come from the thread that called reset() (ptrace ties a tracee to the
// tracing thread).
std::unique_ptr<Oracle> make_native_oracle();

}  // namespace vs::conformance

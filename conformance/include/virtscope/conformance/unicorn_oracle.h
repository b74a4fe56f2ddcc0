// The Unicorn oracle: runs IA-32 code one instruction at a time on Unicorn 2
// (QEMU TCG), a system-level executor covering real mode, ring 0 and ring 3.
#pragma once

#include <memory>

#include "virtscope/conformance/oracle.h"

namespace vs::conformance {

// The oracle's machine, fixed so that SGDT/SIDT/STR give the same answers as
// the KVM oracle (kvm_oracle.h) on every run:
// - memory: the Layout windows and every MemoryImage page, mapped read/write/
//   execute at page granularity; everything else is unmapped, and touching it
//   is reported as vector 14 (a synthesized page fault, see unicorn_oracle.cpp);
// - a private block at 0x000F0000..0x000F3FFF, mapped read+execute only (a guest
//   store there is reported as vector 14), which the windows and image must not
//   overlap:
//     0x000F0400 GDT: 0x00 null, 0x08 code32 ring 0, 0x10 data32 ring 0,
//                     0x1B code32 ring 3, 0x23 data32 ring 3, 0x28 busy 32-bit TSS
//     0x000F0480 32-bit TSS (SS0 = 0x10, ESP0 = 0x000F4000, no I/O bitmap)
//     0x000F1000 one IRET used by reset() to enter ring 3 (UserFlat32 only)
//     0x000F3FEC its IRET frame
//   GDTR = 0x000F0400/47 in every mode; IDTR = 0x000F0000/0x3FF in Real16 and
//   0x000F0800/0x7FF otherwise, but no IVT or IDT is written: Unicorn reports
//   exceptions to the host instead of delivering them;
// - CR0 = PE|ET|NE|AM in the flat modes, ET in Real16; TR = 0x28 in the flat modes;
// - IN from any port reads all ones; OUT is dropped;
// - read_memory() reads unmapped bytes as 0 and returns at most 16 MiB.
// Selectors: Real16 loads the start state's as given; Ring0Flat32 too, with
// CS/SS = 0x08/0x10. In UserFlat32 the selectors are the host's business (the
// lockstep driver passes e.g. Linux's 0x23/0x2B from the native oracle): CS
// and SS must have RPL 3, and the oracle loads its own 0x1B for CS and 0x23
// for SS and every non-null data selector (a null one stays null, though
// Unicorn does not fault on accesses through it: note 11 of the .cpp).
// state() reports them, and set_state() accepts them, under the names the
// start state gave them.
// Declared always; defined only when VIRTSCOPE_HAVE_UNICORN is 1.
std::unique_ptr<Oracle> make_unicorn_oracle();

}  // namespace vs::conformance

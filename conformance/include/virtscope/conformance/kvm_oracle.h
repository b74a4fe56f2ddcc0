// The KVM oracle: runs IA-32 code on the host's /dev/kvm one instruction at a
// time (Linux KVM API, Documentation/virt/kvm/api.rst: KVM_RUN, KVM_SET_GUEST_DEBUG).
#pragma once

#include <memory>
#include <string>

#include "virtscope/conformance/oracle.h"

namespace vs::conformance {

// The oracle's guest, fixed so that SGDT/SIDT/STR and far transfers give the
// same answers on every run:
// - guest memory: 16 MiB of RAM at guest-physical 0 (linear == physical, no paging);
//   the Layout windows and the MemoryImage pages must lie inside it;
// - a private block at 0x000F0000..0x000F3FFF (the PC's BIOS area, below 1 MiB so
//   real mode reaches it) that the windows and image must not overlap:
//     0x000F0000 IVT (Real16; IDTR.base points here, not at 0)
//     0x000F0400 GDT: 0x00 null, 0x08 code32 ring 0, 0x10 data32 ring 0,
//                     0x1B code32 ring 3, 0x23 data32 ring 3, 0x28 the TSS (busy)
//     0x000F0480 32-bit TSS (SS0 = 0x10, ESP0 = 0x000F4000, no I/O bitmap)
//     0x000F0800 IDT: 256 interrupt gates, DPL 3 for vectors 3, 4 and 0x80 (as
//                     Linux sets them), DPL 0 otherwise
//     0x000F1000 one 8-byte stub per vector: push eAX; mov al, vector;
//                out 0xE0, al; hlt -- the host reads the frame and undoes it
//     0x000F2000..0x000F3FFF the ring-0 stack used when ring 3 takes an exception.
// - CR0 = PE|ET|NE|AM in the flat modes (0x10 in Real16), CR4 = 0, EFER = 0.
// - IN from any port reads 0xFF (nothing is attached); OUT is dropped.
std::unique_ptr<Oracle> make_kvm_oracle();

// True whenever /dev/kvm can be opened and a VM created, even where KVM would
// only emulate 32-bit code (kvm_pvm): enough to test the oracle's plumbing.
// When false, *why (if given) says why in one sentence.
bool kvm_plumbing_available(std::string* why);

}  // namespace vs::conformance

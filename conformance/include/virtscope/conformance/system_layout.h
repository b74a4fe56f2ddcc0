// The machine every system-level oracle (KVM, Unicorn, the interpreter)
// builds around a stream, so that SGDT/SIDT/STR, MOV from CR0 and segment
// loads answer the same on all of them. One place, used by all three.
#pragma once

#include <cstdint>

namespace vs::conformance::system_layout {

// A private block below 1 MiB holding the oracle's own tables. Stream
// windows and memory images must not overlap it.
constexpr uint32_t kPrivateBase = 0x000F0000;
constexpr uint32_t kPrivateSize = 0x4000;
constexpr uint32_t kIvtOff = 0x0000;  // real-mode IDTR.base (256 vectors x 4 bytes)
constexpr uint32_t kGdtOff = 0x0400;  // GDTR.base: the six descriptors below
constexpr uint32_t kTssOff = 0x0480;  // a 104-byte 32-bit TSS (SS0:ESP0 = data0:stack top)
constexpr uint32_t kIdtOff = 0x0800;  // protected-mode IDTR.base (256 gates x 8 bytes)
constexpr uint32_t kRing0StackTop = kPrivateBase + kPrivateSize;

// GDT selectors: flat 4 GiB code/data at ring 0 and ring 3, and a busy TSS.
constexpr uint16_t kSelCode0 = 0x08, kSelData0 = 0x10, kSelCode3 = 0x1B, kSelData3 = 0x23, kSelTss = 0x28;
constexpr int kGdtEntries = 6;
constexpr uint16_t kGdtLimit = kGdtEntries * 8 - 1;
constexpr uint32_t kTssLimit = 103;

}  // namespace vs::conformance::system_layout

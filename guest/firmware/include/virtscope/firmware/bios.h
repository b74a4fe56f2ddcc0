// virtscope's own PC BIOS (guest/firmware/*.S): a 64 KiB ROM image for
// physical 0xF0000-0xFFFFF (aliased at 0xFFFF0000), entered at the reset
// vector F000:FFF0. What it does and which INT services it offers is
// described in guest/firmware/bios.S and the files it includes.
#pragma once

#include <cstdint>
#include <span>

namespace vs::firmware {

// Size of the ROM image and where the Machine maps it.
constexpr uint32_t kBiosSize = 64 * 1024;
constexpr uint32_t kBiosBase = 0xF0000;
constexpr uint32_t kBiosHighAlias = 0xFFFF0000;

// The built-in BIOS image, kBiosSize bytes, assembled at build time.
std::span<const uint8_t> builtin_bios();

}  // namespace vs::firmware

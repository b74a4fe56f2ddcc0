// Loaders: what a boot loader does before the first guest instruction.
// - Multiboot v1 (the Multiboot Specification 0.6.96, §3): an ELF32 kernel,
//   its command line and modules (an initrd) placed in RAM, and the
//   information structure the kernel finds through EBX.
// - A raw boot sector or disk image's first sector at 0x7C00 (the BIOS does
//   this itself; the loader is for tests and `-kernel`-less boots).
// Every error is a one-line reason; nothing here trusts the file.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "virtscope/devices/bus.h"

namespace vs::devices {

// The Multiboot magic a kernel finds in EAX (spec §3.2).
constexpr uint32_t kMultibootBootloaderMagic = 0x2BADB002;
constexpr uint32_t kMultibootHeaderMagic = 0x1BADB002;

struct BootModule {
  std::vector<uint8_t> bytes;
  std::string cmdline;  // the module's string (its file name, as QEMU passes it)
};

struct MultibootImage {
  std::vector<uint8_t> kernel;  // the whole ELF file
  std::string cmdline;          // -append (QEMU prefixes the kernel's file name)
  std::vector<BootModule> modules;
};

struct MultibootResult {
  bool ok = false;
  std::string error;       // why not, when !ok
  uint32_t entry = 0;      // EIP at entry
  uint32_t info = 0;       // physical address of the information structure (EBX)
  uint32_t kernel_end = 0; // first byte after everything the loader placed
};

// Parse and place a Multiboot kernel into `mem` (RAM must be large enough).
MultibootResult load_multiboot(const MultibootImage& image, PhysicalMemory& mem);

// The Multiboot header found in the first 8 KiB of a file, if any.
struct MultibootHeader {
  uint32_t offset = 0;     // where in the file
  uint32_t flags = 0;
  bool address_fields = false;  // flags bit 16: load addresses given in the header
  uint32_t header_addr = 0, load_addr = 0, load_end_addr = 0, bss_end_addr = 0, entry_addr = 0;
};
bool find_multiboot_header(std::span<const uint8_t> file, MultibootHeader& out, std::string& error);

}  // namespace vs::devices

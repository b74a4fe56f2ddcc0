// Loading a static ELF32 executable into a fresh address space and building
// its initial stack (System V gABI ch. 4-5, the i386 psABI §3.4.1 "Process
// Initialization", Figure 3-31): what the teaching kernel's exec.c does, with
// a reason in words for every file it refuses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "address_space.h"

namespace vs::container_sim {

struct ElfSegment {
  uint32_t offset = 0, vaddr = 0, filesz = 0, memsz = 0;
};

struct ElfImage {
  uint32_t entry = 0;
  std::vector<ElfSegment> segments;  // the PT_LOAD ones with memsz > 0
};

// Checks `file` and describes it; false with a one-line reason ("not an ELF
// file: bad magic", "segment 1: file range beyond the end of the file") for
// anything that is not a static i386 executable fitting user space.
bool parse_elf(std::span<const uint8_t> file, ElfImage& image, std::string& error);

// Maps and fills the segments into `space` (which must be empty) and sets the
// break after the image. -ENOMEM when frames run out.
int load_elf(AddressSpace& space, const ElfImage& image, std::span<const uint8_t> file);

// The SysV initial stack at the top of user space: argc, argv[], NULL,
// envp[], NULL, an auxiliary vector holding only AT_NULL, the strings above.
// ESP comes out 16-byte aligned. -E2BIG beyond 62 strings; -EFAULT/-ENOMEM
// when the stack cannot be written.
int build_stack(AddressSpace& space, const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                uint32_t& esp);

}  // namespace vs::container_sim

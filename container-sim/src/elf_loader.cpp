#include "elf_loader.h"

#include <cstring>

#include "linux_abi.h"

namespace vs::container_sim {

namespace {

// ELF32 header and program header fields (gABI "ELF Header", "Program Header").
constexpr uint32_t kEhdrSize = 52, kPhdrSize = 32;
constexpr uint8_t kClass32 = 1, kDataLsb = 1;
constexpr uint16_t kTypeExec = 2, kTypeDyn = 3, kMachine386 = 3;
constexpr uint32_t kPtLoad = 1, kPtInterp = 3;

uint16_t u16(std::span<const uint8_t> f, uint32_t at) { return uint16_t(f[at] | f[at + 1] << 8); }
uint32_t u32(std::span<const uint8_t> f, uint32_t at) {
  return uint32_t(f[at]) | uint32_t(f[at + 1]) << 8 | uint32_t(f[at + 2]) << 16 | uint32_t(f[at + 3]) << 24;
}

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

}  // namespace

bool parse_elf(std::span<const uint8_t> f, ElfImage& image, std::string& error) {
  image = ElfImage{};
  if (f.size() < 4 || std::memcmp(f.data(), "\177ELF", 4) != 0) {
    error = "not an ELF file: bad magic (expected 7f 45 4c 46)";
    return false;
  }
  if (f.size() < kEhdrSize) {
    error = "truncated ELF file: " + std::to_string(f.size()) + " bytes, shorter than the 52-byte ELF32 header";
    return false;
  }
  if (f[4] != kClass32) {
    error = "not a 32-bit ELF file (EI_CLASS " + std::to_string(f[4]) + "; only ELFCLASS32 runs on IA-32)";
    return false;
  }
  if (f[5] != kDataLsb) {
    error = "not a little-endian ELF file (EI_DATA " + std::to_string(f[5]) + ")";
    return false;
  }
  const uint16_t type = u16(f, 16), machine = u16(f, 18);
  if (type != kTypeExec) {
    error = type == kTypeDyn ? "a shared object or PIE (ET_DYN): only static executables (ET_EXEC) run"
                             : "not an executable (e_type " + std::to_string(type) + "; only ET_EXEC runs)";
    return false;
  }
  if (machine != kMachine386) {
    error = "not an i386 program (e_machine " + std::to_string(machine) + ", expected 3 = EM_386)";
    return false;
  }
  const uint32_t phoff = u32(f, 28);
  const uint16_t phentsize = u16(f, 42), phnum = u16(f, 44);
  image.entry = u32(f, 24);
  if (phnum == 0) {
    error = "no program headers: nothing to load";
    return false;
  }
  if (phentsize != kPhdrSize) {
    error = "program header size " + std::to_string(phentsize) + ", expected 32";
    return false;
  }
  if (phoff > f.size() || uint64_t(phnum) * kPhdrSize > f.size() - phoff) {
    error = "program header table (offset " + std::to_string(phoff) + ", " + std::to_string(phnum) +
            " entries) beyond the end of the file";
    return false;
  }
  bool entry_loaded = false;
  for (uint16_t i = 0; i < phnum; ++i) {
    const uint32_t at = phoff + i * kPhdrSize;
    const uint32_t ptype = u32(f, at);
    if (ptype == kPtInterp) {
      error = "dynamically linked (PT_INTERP): only static executables run";
      return false;
    }
    if (ptype != kPtLoad) continue;
    ElfSegment s{u32(f, at + 4), u32(f, at + 8), u32(f, at + 16), u32(f, at + 20)};
    const std::string which = "segment " + std::to_string(i) + ": ";
    if (s.filesz > s.memsz) {
      error = which + "p_filesz " + std::to_string(s.filesz) + " larger than p_memsz " + std::to_string(s.memsz);
      return false;
    }
    if (s.offset > f.size() || s.filesz > f.size() - s.offset) {
      error = which + "file range beyond the end of the file";
      return false;
    }
    if (s.vaddr < kUserBase || s.vaddr > kUserTop - kStackMax || s.memsz > kUserTop - kStackMax - s.vaddr) {
      error = which + "addresses " + hex(s.vaddr) + " + " + std::to_string(s.memsz) + " outside user space [" +
              hex(kUserBase) + ", " + hex(kUserTop - kStackMax) + ")";
      return false;
    }
    if (s.memsz == 0) continue;
    if (image.entry >= s.vaddr && image.entry - s.vaddr < s.memsz) entry_loaded = true;
    image.segments.push_back(s);
  }
  if (image.segments.empty()) {
    error = "no loadable segment (PT_LOAD)";
    return false;
  }
  if (!entry_loaded) {
    error = "entry point " + hex(image.entry) + " is not inside any loaded segment";
    return false;
  }
  return true;
}

int load_elf(AddressSpace& space, const ElfImage& image, std::span<const uint8_t> file) {
  uint32_t image_end = kUserBase;
  for (const ElfSegment& s : image.segments) {
    const uint32_t start = page_down(s.vaddr), end = page_up(s.vaddr + s.memsz);
    // Every page of the image is mapped now (the teaching kernel does the
    // same), and .bss beyond p_filesz is zero because frames start zeroed.
    for (uint32_t va = start; va < end; va += kPageSize)
      if (!space.map_zero(va)) return -linux_abi::kENOMEM;
    space.regions.push_back(Region{start, end, RegionKind::Image});
    if (const int r = space.copy_out(s.vaddr, file.data() + s.offset, s.filesz)) return r;
    if (end > image_end) image_end = end;
  }
  space.brk_base = space.brk = image_end;
  return 0;
}

int build_stack(AddressSpace& space, const std::vector<std::string>& argv, const std::vector<std::string>& envp,
                uint32_t& esp) {
  const size_t argc = argv.size(), envc = envp.size();
  if (argc + envc > 62) return -linux_abi::kE2BIG;
  std::vector<uint32_t> ptrs(argc + envc);
  uint32_t sp = kUserTop;
  for (size_t i = argc + envc; i-- > 0;) {
    const std::string& s = i < argc ? argv[i] : envp[i - argc];
    sp -= uint32_t(s.size() + 1);
    if (const int r = space.copy_out(sp, s.c_str(), uint32_t(s.size() + 1))) return r;
    ptrs[i] = sp;
  }
  // argc, argv[argc + 1], envp[envc + 1], auxv {AT_NULL, 0}
  std::vector<uint32_t> words;
  words.push_back(uint32_t(argc));
  for (size_t i = 0; i < argc; ++i) words.push_back(ptrs[i]);
  words.push_back(0);
  for (size_t i = 0; i < envc; ++i) words.push_back(ptrs[argc + i]);
  words.push_back(0);
  words.push_back(0);  // AT_NULL
  words.push_back(0);
  sp = (sp - uint32_t(words.size() * 4)) & ~15u;  // 16-byte aligned, as gcc's code expects
  if (const int r = space.copy_out(sp, words.data(), uint32_t(words.size() * 4))) return r;
  esp = sp;
  return 0;
}

}  // namespace vs::container_sim

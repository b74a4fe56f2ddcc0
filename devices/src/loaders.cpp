// Multiboot v1 loading (Multiboot Specification 0.6.96) and ELF32 parsing
// (System V ABI, Intel386 supplement: ELF header, program headers, PT_LOAD).
#include "virtscope/devices/loaders.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vs::devices {

namespace {

uint32_t le32(std::span<const uint8_t> b, size_t at) {
  return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}
uint16_t le16(std::span<const uint8_t> b, size_t at) { return uint16_t(b[at] | b[at + 1] << 8); }

void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  for (int i = 0; i < 4; ++i) v[at + i] = uint8_t(x >> (8 * i));
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

constexpr uint32_t align_up(uint32_t x, uint32_t a) { return (x + a - 1) & ~(a - 1); }

// Where the loader puts its own structures: conventional memory below the
// EBDA, which a kernel loaded at 1 MiB does not use (QEMU does the same).
constexpr uint32_t kInfoBase = 0x9000;
constexpr uint32_t kInfoLimit = 0x9FC00;

// Multiboot information flags (spec §3.3).
constexpr uint32_t kInfoMemory = 1u << 0, kInfoCmdline = 1u << 2, kInfoMods = 1u << 3;
constexpr uint32_t kInfoMmap = 1u << 6, kInfoLoaderName = 1u << 9;

// One loaded piece, to check that nothing overlaps anything else.
struct Extent {
  uint64_t first, end;  // [first, end)
};

bool overlaps_any(const std::vector<Extent>& placed, Extent e) {
  for (const Extent& p : placed)
    if (e.first < p.end && p.first < e.end) return true;
  return false;
}

struct ElfLoad {
  bool ok = false;
  std::string error;
  uint32_t entry = 0;
  std::vector<Extent> placed;
};

// ELF32 executable for the i386: copy every PT_LOAD segment to its physical
// address (p_paddr, as GRUB and QEMU do), zero the rest of p_memsz.
ElfLoad load_elf32(std::span<const uint8_t> f, PhysicalMemory& mem) {
  ElfLoad r;
  auto fail = [&](std::string why) {
    r.error = std::move(why);
    return r;
  };
  if (f.size() < 52) return fail("not an ELF file (too short for an ELF header)");
  if (!(f[0] == 0x7F && f[1] == 'E' && f[2] == 'L' && f[3] == 'F')) return fail("not an ELF file (bad magic)");
  if (f[4] != 1) return fail("ELF file is not 32-bit (EI_CLASS is not ELFCLASS32)");
  if (f[5] != 1) return fail("ELF file is not little-endian");
  if (le16(f, 16) != 2) return fail("ELF file is not an executable (e_type is not ET_EXEC)");
  if (le16(f, 18) != 3) return fail("ELF file is not for the i386 (e_machine is not EM_386)");
  const uint32_t phoff = le32(f, 28);
  const uint16_t phentsize = le16(f, 42), phnum = le16(f, 44);
  if (phnum == 0) return fail("ELF file has no program headers");
  if (phentsize < 32) return fail("ELF program header size is too small");
  if (uint64_t(phoff) + uint64_t(phentsize) * phnum > f.size()) return fail("ELF program headers lie past the end of the file");
  for (unsigned i = 0; i < phnum; ++i) {
    const size_t ph = phoff + size_t(i) * phentsize;
    if (le32(f, ph) != 1) continue;  // PT_LOAD only
    const uint32_t offset = le32(f, ph + 4), paddr = le32(f, ph + 12);
    const uint32_t filesz = le32(f, ph + 16), memsz = le32(f, ph + 20);
    if (filesz > memsz) return fail("ELF segment " + std::to_string(i) + " has p_filesz larger than p_memsz");
    if (uint64_t(offset) + filesz > f.size()) return fail("ELF segment " + std::to_string(i) + " lies past the end of the file");
    if (memsz == 0) continue;
    const uint64_t end = uint64_t(paddr) + memsz;
    if (end > mem.ram_size())
      return fail("ELF segment " + std::to_string(i) + " does not fit in guest RAM (it ends at " + hex(end) +
                  "; give more memory with -m)");
    const Extent e{paddr, end};
    if (overlaps_any(r.placed, e)) return fail("ELF segments overlap");
    if (!mem.load(paddr, f.subspan(offset, filesz))) return fail("ELF segment " + std::to_string(i) + " overlaps ROM or device memory");
    std::vector<uint8_t> zeros(memsz - filesz, 0);
    if (!mem.load(paddr + filesz, zeros)) return fail("ELF segment " + std::to_string(i) + " overlaps ROM or device memory");
    r.placed.push_back(e);
  }
  if (r.placed.empty()) return fail("ELF file has no loadable segments");
  r.entry = le32(f, 24);
  r.ok = true;
  return r;
}

}  // namespace

bool find_multiboot_header(std::span<const uint8_t> file, MultibootHeader& out, std::string& error) {
  // Spec §3.1.1: within the first 8192 bytes, 32-bit aligned.
  const size_t limit = std::min<size_t>(file.size(), 8192);
  for (size_t at = 0; at + 12 <= limit; at += 4) {
    if (le32(file, at) != kMultibootHeaderMagic) continue;
    const uint32_t flags = le32(file, at + 4), checksum = le32(file, at + 8);
    if (uint32_t(kMultibootHeaderMagic + flags + checksum) != 0) {
      error = "Multiboot header checksum is wrong";
      return false;
    }
    out = MultibootHeader{};
    out.offset = uint32_t(at);
    out.flags = flags;
    out.address_fields = flags & (1u << 16);
    if (out.address_fields) {
      if (at + 32 > file.size()) {
        error = "Multiboot header is cut short (address fields missing)";
        return false;
      }
      out.header_addr = le32(file, at + 12);
      out.load_addr = le32(file, at + 16);
      out.load_end_addr = le32(file, at + 20);
      out.bss_end_addr = le32(file, at + 24);
      out.entry_addr = le32(file, at + 28);
    }
    return true;
  }
  error = "no Multiboot header in the first 8 KiB (not a Multiboot kernel)";
  return false;
}

MultibootResult load_multiboot(const MultibootImage& image, PhysicalMemory& mem) {
  MultibootResult r;
  auto fail = [&](std::string why) {
    r.error = std::move(why);
    return r;
  };
  const std::span<const uint8_t> f(image.kernel);
  MultibootHeader h;
  if (!find_multiboot_header(f, h, r.error)) return r;
  // Bits 0-15 are requirements: a loader that cannot meet one must refuse
  // (spec §3.1.2). virtscope meets 0 (page-aligned modules) and 1 (memory
  // information); bit 2 (a video mode) is not available on a text console.
  const uint32_t unmet = h.flags & 0xFFFFu & ~0x3u;
  if (unmet) {
    char b[80];
    std::snprintf(b, sizeof b, "Multiboot kernel requires features virtscope does not offer (flags 0x%x)", unmet);
    return fail(b);
  }

  std::vector<Extent> placed;
  if (h.address_fields) {
    // The "a.out kludge": the header says where the file goes (spec §3.1.3).
    if (h.load_addr > h.header_addr) return fail("Multiboot header has load_addr above header_addr");
    const uint64_t file_start = uint64_t(h.offset) - (h.header_addr - h.load_addr);
    if (h.offset < h.header_addr - h.load_addr) return fail("Multiboot header addresses point before the start of the file");
    const uint64_t load_end = h.load_end_addr ? h.load_end_addr : h.load_addr + (f.size() - file_start);
    if (load_end < h.load_addr || file_start + (load_end - h.load_addr) > f.size())
      return fail("Multiboot load_end_addr lies past the end of the file");
    const uint64_t bss_end = h.bss_end_addr ? std::max<uint64_t>(h.bss_end_addr, load_end) : load_end;
    if (bss_end > mem.ram_size()) return fail("Multiboot kernel does not fit in guest RAM (give more memory with -m)");
    if (!mem.load(h.load_addr, f.subspan(file_start, load_end - h.load_addr)))
      return fail("Multiboot kernel overlaps ROM or device memory");
    std::vector<uint8_t> zeros(bss_end - load_end, 0);
    if (!mem.load(uint32_t(load_end), zeros)) return fail("Multiboot kernel's bss overlaps ROM or device memory");
    placed.push_back(Extent{h.load_addr, bss_end});
    r.entry = h.entry_addr;
  } else {
    ElfLoad elf = load_elf32(f, mem);
    if (!elf.ok) return fail(elf.error);
    placed = std::move(elf.placed);
    r.entry = elf.entry;
  }
  for (const Extent& e : placed)
    if (e.first < kInfoLimit && kInfoBase < e.end)
      return fail("Multiboot kernel is loaded over conventional memory virtscope's loader uses (0x9000-0x9FBFF)");

  // Modules: page-aligned after the kernel (flags bit 0 asks for it; always done).
  uint64_t next = 0;
  for (const Extent& e : placed) next = std::max(next, e.end);
  next = align_up(uint32_t(std::min<uint64_t>(next, 0xFFFFF000u)), 4096);
  struct Placed { uint32_t start, end; };
  std::vector<Placed> mods;
  for (const BootModule& m : image.modules) {
    const uint64_t end = next + m.bytes.size();
    if (end > mem.ram_size()) return fail("module '" + m.cmdline + "' does not fit in guest RAM (give more memory with -m)");
    if (!mem.load(uint32_t(next), m.bytes)) return fail("module '" + m.cmdline + "' overlaps ROM or device memory");
    mods.push_back(Placed{uint32_t(next), uint32_t(end)});
    next = align_up(uint32_t(end), 4096);
  }
  r.kernel_end = uint32_t(next);

  // The information structure and what it points to, in conventional memory.
  std::vector<uint8_t> area(0x1000, 0);
  size_t used = 0;
  auto reserve = [&](size_t n) {
    const size_t at = align_up(uint32_t(used), 4);
    used = at + n;
    if (used > area.size()) area.resize(align_up(uint32_t(used), 0x1000), 0);
    return at;
  };
  auto put_string = [&](const std::string& s) {
    const size_t at = reserve(s.size() + 1);
    std::memcpy(area.data() + at, s.data(), s.size());
    return uint32_t(kInfoBase + at);
  };
  const size_t info = reserve(88);  // struct multiboot_info (spec §3.3), up to the VBE fields
  uint32_t flags = kInfoMemory | kInfoCmdline | kInfoMods | kInfoMmap | kInfoLoaderName;
  const uint32_t ram = mem.ram_size();
  put32(area, info + 4, 640);                                               // mem_lower, KiB
  put32(area, info + 8, ram > 0x100000 ? (ram - 0x100000) / 1024 : 0);      // mem_upper, KiB above 1 MiB
  put32(area, info + 16, put_string(image.cmdline));
  put32(area, info + 20, uint32_t(mods.size()));
  const size_t mod_table = reserve(16 * mods.size());
  for (size_t i = 0; i < mods.size(); ++i) {
    const size_t m = mod_table + 16 * i;
    put32(area, m, mods[i].start);
    put32(area, m + 4, mods[i].end);
    put32(area, m + 8, put_string(image.modules[i].cmdline));
  }
  put32(area, info + 24, uint32_t(kInfoBase + mod_table));
  // Memory map (spec §3.3 "mmap_*"): each entry is size, base, length, type.
  struct Range { uint64_t base, length; uint32_t type; };
  std::vector<Range> map = {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2}};
  if (ram > 0x100000) map.push_back({0x100000, ram - 0x100000u, 1});
  const size_t mmap = reserve(24 * map.size());
  for (size_t i = 0; i < map.size(); ++i) {
    const size_t e = mmap + 24 * i;
    put32(area, e, 20);
    put32(area, e + 4, uint32_t(map[i].base));
    put32(area, e + 8, uint32_t(map[i].base >> 32));
    put32(area, e + 12, uint32_t(map[i].length));
    put32(area, e + 16, uint32_t(map[i].length >> 32));
    put32(area, e + 20, map[i].type);
  }
  put32(area, info + 44, uint32_t(24 * map.size()));
  put32(area, info + 48, uint32_t(kInfoBase + mmap));
  put32(area, info + 64, put_string("virtscope"));
  put32(area, info + 0, flags);
  if (kInfoBase + used > kInfoLimit) return fail("Multiboot command line and module names are too long");
  area.resize(used);
  if (!mem.load(kInfoBase, area)) return fail("guest RAM is too small for the Multiboot information");
  r.info = kInfoBase + uint32_t(info);
  r.ok = true;
  return r;
}

}  // namespace vs::devices

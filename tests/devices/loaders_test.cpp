// Multiboot v1 loading: ELF placement, the information structure, and a clear
// error for every kind of bad image.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "virtscope/devices/loaders.h"

namespace vs::devices {
namespace {

void put32(std::vector<uint8_t>& v, size_t at, uint32_t x) {
  if (v.size() < at + 4) v.resize(at + 4, 0);
  for (int i = 0; i < 4; ++i) v[at + i] = uint8_t(x >> (8 * i));
}
void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = uint8_t(x);
  v[at + 1] = uint8_t(x >> 8);
}
uint32_t get32(const PhysicalMemory& m, uint32_t at) {
  uint8_t b[4];
  EXPECT_TRUE(m.copy_out(at, b));
  return b[0] | b[1] << 8 | b[2] << 16 | uint32_t(b[3]) << 24;
}
std::string get_string(const PhysicalMemory& m, uint32_t at) {
  std::string s;
  for (uint8_t c; m.copy_out(at, std::span<uint8_t>(&c, 1)) && c; ++at) s.push_back(char(c));
  return s;
}

// A minimal ELF32 executable: one PT_LOAD of `code` at `paddr` with `bss`
// extra zero bytes, and a Multiboot header at file offset 0x60.
std::vector<uint8_t> make_elf(uint32_t paddr, const std::vector<uint8_t>& code, uint32_t bss, uint32_t mb_flags = 0) {
  std::vector<uint8_t> f(0x60, 0);
  f[0] = 0x7F; f[1] = 'E'; f[2] = 'L'; f[3] = 'F';
  f[4] = 1; f[5] = 1; f[6] = 1;
  put16(f, 16, 2);   // ET_EXEC
  put16(f, 18, 3);   // EM_386
  put32(f, 20, 1);
  put32(f, 24, paddr + 12);  // entry: past the Multiboot header
  put32(f, 28, 52);          // phoff
  put16(f, 40, 52);
  put16(f, 42, 32);          // phentsize
  put16(f, 44, 1);           // phnum
  // Program header at 52: PT_LOAD, offset 0x60, vaddr/paddr, filesz, memsz.
  put32(f, 52, 1);
  put32(f, 56, 0x60);
  put32(f, 60, paddr);
  put32(f, 64, paddr);
  std::vector<uint8_t> body(12, 0);
  put32(body, 0, kMultibootHeaderMagic);
  put32(body, 4, mb_flags);
  put32(body, 8, uint32_t(0) - kMultibootHeaderMagic - mb_flags);
  body.insert(body.end(), code.begin(), code.end());
  put32(f, 68, uint32_t(body.size()));
  put32(f, 72, uint32_t(body.size()) + bss);
  put32(f, 76, 5);
  f.resize(0x60);
  f.insert(f.end(), body.begin(), body.end());
  return f;
}

TEST(Multiboot, ElfKernelModulesAndInformationStructure) {
  PhysicalMemory mem(16 << 20);
  MultibootImage img;
  img.kernel = make_elf(0x100000, {0xF4, 0xEB, 0xFD}, 0x3000, 0x3);
  img.cmdline = "kernel run=hello";
  img.modules.push_back(BootModule{std::vector<uint8_t>(5000, 0xAB), "initrd.cpio"});
  MultibootResult r = load_multiboot(img, mem);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.entry, 0x10000Cu);
  uint8_t code[3];
  ASSERT_TRUE(mem.copy_out(0x10000C, code));
  EXPECT_EQ(code[0], 0xF4);

  const uint32_t flags = get32(mem, r.info);
  EXPECT_TRUE(flags & (1u << 0));  // memory
  EXPECT_TRUE(flags & (1u << 2));  // cmdline
  EXPECT_TRUE(flags & (1u << 3));  // modules
  EXPECT_TRUE(flags & (1u << 6));  // memory map
  EXPECT_EQ(get32(mem, r.info + 4), 640u);
  EXPECT_EQ(get32(mem, r.info + 8), (16u << 20) / 1024 - 1024);
  EXPECT_EQ(get_string(mem, get32(mem, r.info + 16)), "kernel run=hello");
  ASSERT_EQ(get32(mem, r.info + 20), 1u);
  const uint32_t mod = get32(mem, r.info + 24);
  const uint32_t start = get32(mem, mod), end = get32(mem, mod + 4);
  EXPECT_EQ(start % 4096, 0u);
  EXPECT_GE(start, 0x100000u + 0x60u + 3 + 0x3000u - 0x60u);  // after the kernel's bss
  EXPECT_EQ(end - start, 5000u);
  EXPECT_EQ(get_string(mem, get32(mem, mod + 8)), "initrd.cpio");
  uint8_t b;
  ASSERT_TRUE(mem.copy_out(start + 4999, std::span<uint8_t>(&b, 1)));
  EXPECT_EQ(b, 0xAB);
  // The memory map's last entry is the RAM above 1 MiB, available.
  const uint32_t mmap_len = get32(mem, r.info + 44), mmap = get32(mem, r.info + 48);
  ASSERT_EQ(mmap_len % 24, 0u);
  const uint32_t last = mmap + mmap_len - 24;
  EXPECT_EQ(get32(mem, last + 4), 0x100000u);
  EXPECT_EQ(get32(mem, last + 12), (16u << 20) - 0x100000u);
  EXPECT_EQ(get32(mem, last + 20), 1u);
  EXPECT_EQ(get_string(mem, get32(mem, r.info + 64)), "virtscope");
}

TEST(Multiboot, BssIsZeroed) {
  PhysicalMemory mem(4 << 20);
  std::vector<uint8_t> junk(0x2000, 0xCC);
  ASSERT_TRUE(mem.load(0x100000, junk));
  MultibootImage img;
  img.kernel = make_elf(0x100000, {0x90}, 0x100);
  ASSERT_TRUE(load_multiboot(img, mem).ok);
  uint8_t b;
  ASSERT_TRUE(mem.copy_out(0x100000 + 13 + 0x80, std::span<uint8_t>(&b, 1)));
  EXPECT_EQ(b, 0);
}

// Every bad image gets a reason, never a crash.
std::string load_error(std::vector<uint8_t> kernel, uint32_t ram = 4 << 20) {
  PhysicalMemory mem(ram);
  MultibootImage img;
  img.kernel = std::move(kernel);
  MultibootResult r = load_multiboot(img, mem);
  EXPECT_FALSE(r.ok);
  return r.error;
}

TEST(Multiboot, BadImagesGetClearErrors) {
  EXPECT_NE(load_error({}).find("no Multiboot header"), std::string::npos);
  EXPECT_NE(load_error(std::vector<uint8_t>(9000, 0x90)).find("no Multiboot header"), std::string::npos);

  auto elf = make_elf(0x100000, {0x90}, 0);
  auto bad_sum = elf;
  bad_sum[0x60 + 8] ^= 1;
  EXPECT_NE(load_error(bad_sum).find("checksum"), std::string::npos);

  auto not_elf = elf;
  not_elf[1] = 'X';
  EXPECT_NE(load_error(not_elf).find("not an ELF file"), std::string::npos);

  auto elf64 = elf;
  elf64[4] = 2;
  EXPECT_NE(load_error(elf64).find("not 32-bit"), std::string::npos);

  auto arm = elf;
  put16(arm, 18, 40);
  EXPECT_NE(load_error(arm).find("i386"), std::string::npos);

  auto truncated = elf;
  put32(truncated, 64 + 4, 0x10000);  // p_filesz past the end of the file
  put32(truncated, 64 + 8, 0x10000);
  EXPECT_NE(load_error(truncated).find("past the end"), std::string::npos);

  auto phdrs_out = elf;
  put32(phdrs_out, 28, 0xFFFFFF00);
  EXPECT_NE(load_error(phdrs_out).find("program headers"), std::string::npos);

  auto huge = make_elf(0x100000, {0x90}, 0x7FFFFFF0);
  EXPECT_NE(load_error(huge).find("does not fit in guest RAM"), std::string::npos);

  auto low = make_elf(0x9000, {0x90}, 0);
  EXPECT_NE(load_error(low).find("conventional memory"), std::string::npos);

  auto video = make_elf(0x100000, {0x90}, 0, 0x4);  // requires a video mode
  EXPECT_NE(load_error(video).find("requires features"), std::string::npos);
}

TEST(Multiboot, AddressFieldsLoadARawImage) {
  // flags bit 16: the header says where the file goes (the "a.out kludge").
  std::vector<uint8_t> f(64, 0);
  const uint32_t flags = 1u << 16;
  put32(f, 0, kMultibootHeaderMagic);
  put32(f, 4, flags);
  put32(f, 8, uint32_t(0) - kMultibootHeaderMagic - flags);
  put32(f, 12, 0x200000);  // header_addr
  put32(f, 16, 0x200000);  // load_addr
  put32(f, 20, 0);         // load_end_addr: the whole file
  put32(f, 24, 0x201000);  // bss_end_addr
  put32(f, 28, 0x200020);  // entry
  f[0x20] = 0xF4;
  PhysicalMemory mem(4 << 20);
  MultibootImage img;
  img.kernel = f;
  MultibootResult r = load_multiboot(img, mem);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.entry, 0x200020u);
  uint8_t b;
  ASSERT_TRUE(mem.copy_out(0x200020, std::span<uint8_t>(&b, 1)));
  EXPECT_EQ(b, 0xF4);
}

}  // namespace
}  // namespace vs::devices

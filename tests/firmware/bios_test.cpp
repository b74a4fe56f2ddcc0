// virtscope's BIOS end to end: the ROM image's fixed layout, and boot
// sectors (tests/firmware/guest/*.S) booted from raw disk images on the
// whole Machine. Each boot sector calls BIOS services and prints what they
// returned on the debug console (port 0xE9), then exits through
// isa-debug-exit with PASS (status (0x10 << 1) | 1); the tests compare that
// transcript, the screen and the disk images with what the BIOS documents.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "virtscope/devices/bus.h"
#include "virtscope/firmware/bios.h"
#include "virtscope/vmm/machine.h"

#define VS_BOOT_SECTOR(name)            \
  extern const unsigned char fw_##name[]; \
  extern const unsigned fw_##name##_size;
VS_BOOT_SECTOR(boot_state)
VS_BOOT_SECTOR(teletype)
VS_BOOT_SECTOR(scroll)
VS_BOOT_SECTOR(video_pages)
VS_BOOT_SECTOR(disk_info)
VS_BOOT_SECTOR(disk_read)
VS_BOOT_SECTOR(disk_write)
VS_BOOT_SECTOR(memory_map)
VS_BOOT_SECTOR(keyboard)
VS_BOOT_SECTOR(timer)
VS_BOOT_SECTOR(a20)
VS_BOOT_SECTOR(services)
#undef VS_BOOT_SECTOR

namespace vs::firmware {
namespace {

using vmm::Machine;
using vmm::MachineConfig;
using vmm::MachineStop;

constexpr int kPass = (0x10 << 1) | 1;  // the boot sectors' EXIT PASS
constexpr uint32_t kSector = 512;
// Enough for any program here; the timer test waits one virtual second.
constexpr uint64_t kBudget = 300'000'000;

std::span<const uint8_t> program(const unsigned char* bytes, unsigned size) { return {bytes, size}; }
#define PROGRAM(name) program(fw_##name, fw_##name##_size)

// A disk of `sectors` sectors: the boot sector, then sector n (n >= 1)
// holding the dword n followed by bytes (n + i) mod 256 at offsets i = 4..511
// (what disk_read.S checks).
std::vector<uint8_t> numbered_disk(std::span<const uint8_t> boot, uint32_t sectors) {
  std::vector<uint8_t> image(size_t(sectors) * kSector);
  std::memcpy(image.data(), boot.data(), std::min<size_t>(boot.size(), kSector));
  for (uint32_t n = 1; n < sectors; ++n) {
    uint8_t* s = image.data() + size_t(n) * kSector;
    std::memcpy(s, &n, 4);  // little endian, as the guest reads it
    for (uint32_t i = 4; i < kSector; ++i) s[i] = uint8_t(n + i);
  }
  return image;
}

// Unique per process: CTest runs the tests of this file in parallel.
std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "virtscope_bios_" + std::to_string(::getpid()) + "_" + name;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// One machine with the built-in BIOS, its debug console captured. Disk
// images are temporary files, removed after the test.
class BiosBoot : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& path : files_) std::filesystem::remove(path);
  }
  std::string write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = temp_path(name);
    files_.push_back(path);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return path;
  }
  MachineConfig config(uint32_t ram_bytes = 16u << 20) {
    MachineConfig c;
    c.ram_bytes = ram_bytes;
    const std::span<const uint8_t> rom = builtin_bios();
    c.bios_image.assign(rom.begin(), rom.end());
    c.debug_exit = true;
    c.debugcon_out = [this](uint8_t b) { debugcon_.push_back(char(b)); };
    return c;
  }
  // Boots `boot` as the first sector of a numbered disk 0x80.
  MachineConfig config_with_disk(const std::string& name, std::span<const uint8_t> boot, uint32_t sectors = 4096,
                                 uint32_t ram_bytes = 16u << 20) {
    MachineConfig c = config(ram_bytes);
    c.drives[0] = write_file(name + ".img", numbered_disk(boot, sectors));
    return c;
  }
  std::unique_ptr<Machine> create(const MachineConfig& c) {
    std::string error;
    std::unique_ptr<Machine> m = Machine::create(c, error);
    EXPECT_TRUE(m) << error;
    return m;
  }
  // Runs to the guest's exit; returns the debug console transcript.
  std::string run_to_exit(Machine& m) {
    const MachineStop stop = m.run(kBudget);
    EXPECT_EQ(stop, MachineStop::GuestExit) << vmm::machine_stop_name(stop) << "; debugcon: " << debugcon_;
    EXPECT_EQ(m.exit_status(), kPass);
    return debugcon_;
  }
  std::string run_program(const std::string& name, std::span<const uint8_t> boot) {
    std::unique_ptr<Machine> m = create(config_with_disk(name, boot));
    return m ? run_to_exit(*m) : std::string();
  }

  std::string debugcon_;
  std::vector<std::string> files_;
};

// ------------------------------------------------------------ the image ----

TEST(BiosRom, Image_Is64KiBWithResetVectorDateAndModelByte) {
  const std::span<const uint8_t> rom = builtin_bios();
  ASSERT_EQ(rom.size(), kBiosSize);
  // F000:FFF0: JMP FAR F000:offset (EA ofs16 seg16), into the code below.
  EXPECT_EQ(rom[0xFFF0], 0xEA);
  const uint16_t offset = uint16_t(rom[0xFFF1] | rom[0xFFF2] << 8);
  EXPECT_EQ(rom[0xFFF3] | rom[0xFFF4] << 8, 0xF000);
  EXPECT_LT(offset, 0xFFF0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&rom[0xFFF5]), 8), "01/01/26");
  EXPECT_EQ(rom[0xFFFE], 0xFC);  // PC/AT
}

TEST(BiosRom, Image_HasNoStrayMpOrBios32Signature) {
  // OSes scan F0000-FFFFF on 16-byte boundaries for "_MP_" (MP spec §4) and
  // "_32_" (BIOS32): a stray copy in the code would be taken for a table.
  const std::span<const uint8_t> rom = builtin_bios();
  for (size_t at = 0; at + 4 <= rom.size(); at += 16) {
    const std::string word(reinterpret_cast<const char*>(&rom[at]), 4);
    EXPECT_NE(word, "_MP_") << "at " << at;
    EXPECT_NE(word, "_32_") << "at " << at;
  }
}

// ------------------------------------------------------------ boot ----

TEST_F(BiosBoot, Boot_HandsTheBootSectorThePcState) {
  EXPECT_EQ(run_program("boot_state", PROGRAM(boot_state)),
            "dl 80\n"
            "cs:ip 0000:7C00\n"
            "if 01\n"
            "ebda 9FC0\n"
            "base 027F\n"   // 639 KiB
            "int12 027F\n"
            "int11 0420\n"  // 80x25 colour, two serial ports, no diskettes, no x87
            "disks 01\n"
            "video 03 0050 03D4 18\n"
            "kbd 001E 001E 001E 003E\n"
            "com1 03F8\n"
            "mp 0010\n"     // the MP floating pointer survived POST at 9FC10 (the EBDA size byte comes first)
            "vectors F000 F000 F000 F000 F000 F000 F000 F000 \n");
}

TEST_F(BiosBoot, Boot_LeavesTheLocalApicInVirtualWireMode) {
  std::unique_ptr<Machine> m = create(config_with_disk("lapic", PROGRAM(boot_state)));
  ASSERT_TRUE(m);
  run_to_exit(*m);
  EXPECT_EQ(m->memory().peek(0xFEE000F0, 4) & 0x1FF, 0x1FFu);   // SVR: enabled, spurious vector FFh
  EXPECT_EQ(m->memory().peek(0xFEE00350, 4) & 0x1FFFF, 0x8700u);  // LINT0: ExtINT, unmasked
  EXPECT_EQ(m->memory().peek(0xFEE00360, 4) & 0x1FFFF, 0x0400u);  // LINT1: NMI, unmasked
}

TEST_F(BiosBoot, Boot_ShowsTheBannerOnTheScreenOnly) {
  std::string serial;
  MachineConfig c = config_with_disk("banner", PROGRAM(boot_state));
  c.serial_out[0] = [&serial](uint8_t b) { serial.push_back(char(b)); };
  std::unique_ptr<Machine> m = create(c);
  ASSERT_TRUE(m);
  run_to_exit(*m);
  EXPECT_EQ(m->screen_text().at(0).substr(0, 14), "virtscope BIOS");
  EXPECT_EQ(serial, "");  // COM1 belongs to the guest
}

TEST_F(BiosBoot, NoDisk_SaysSoAndHaltsForGood) {
  std::unique_ptr<Machine> m = create(config());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->run(kBudget), MachineStop::Idle);
  EXPECT_EQ(m->screen_text().at(1).substr(0, 17), "No bootable disk.");
  EXPECT_EQ(debugcon_, "No bootable disk.\n");
}

TEST_F(BiosBoot, NoBootSignature_SaysSoAndHaltsForGood) {
  std::vector<uint8_t> image(64 * kSector, 0);  // sector 0 without 55 AA
  MachineConfig c = config();
  c.drives[0] = write_file("unsigned.img", image);
  std::unique_ptr<Machine> m = create(c);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->run(kBudget), MachineStop::Idle);
  EXPECT_EQ(m->screen_text().at(1).substr(0, 17), "No bootable disk.");
  EXPECT_EQ(debugcon_, "No bootable disk.\n");
}

// ------------------------------------------------------------ INT 10h ----

TEST_F(BiosBoot, Video_WritesTheScreenAndKeepsTheHardwareCursorInStep) {
  std::unique_ptr<Machine> m = create(config_with_disk("teletype", PROGRAM(teletype)));
  ASSERT_TRUE(m);
  EXPECT_EQ(run_to_exit(*m),
            "cursor 0200 00A0\n"  // row 2 column 0 = cell 160
            "cell 4F2A\n"         // '*' in white on red
            "hw 019D\n"           // after "XYZ" at row 5 column 10: cell 5 * 80 + 13
            "mode 5003 00\n");    // mode 3, 80 columns, page 0
  const std::vector<std::string> rows = m->screen_text();
  ASSERT_GE(rows.size(), 13u);
  EXPECT_EQ(rows[1].substr(0, 11), "Hello, BIOS");
  EXPECT_EQ(rows[5].substr(0, 18), "          XYZ*****");
  EXPECT_EQ(rows[7].substr(0, 2), "B ");  // "A", backspace, "B"
  // "one/two/three" scrolled up one line, then down two, in rows 10-12.
  EXPECT_EQ(rows[10].find_first_not_of(' '), std::string::npos);
  EXPECT_EQ(rows[11].find_first_not_of(' '), std::string::npos);
  EXPECT_EQ(rows[12].substr(0, 4), "two ");
}

TEST_F(BiosBoot, Video_TeletypeScrollsAtTheBottom) {
  std::unique_ptr<Machine> m = create(config_with_disk("scroll", PROGRAM(scroll)));
  ASSERT_TRUE(m);
  EXPECT_EQ(run_to_exit(*m), "cursor 1800\n");  // row 24, column 0
  const std::vector<std::string> rows = m->screen_text();
  ASSERT_EQ(rows.size(), 25u);
  EXPECT_EQ(rows[0].substr(0, 8), "line 06 ");
  EXPECT_EQ(rows[23].substr(0, 8), "line 29 ");
  EXPECT_EQ(rows[24].find_first_not_of(' '), std::string::npos);
}

TEST_F(BiosBoot, Video_CursorShapeAndPagesReachTheCrtc) {
  std::unique_ptr<Machine> m = create(config_with_disk("pages", PROGRAM(video_pages)));
  ASSERT_TRUE(m);
  EXPECT_EQ(run_to_exit(*m),
            "shape 00 0E 20 00 \n"  // CGA 0-7 scaled to the 16-line cell; bit 5 hides it
            "page 01 0800\n"        // page 1 shown from cell 800h
            "cursor 0008\n"         // after "page one"; AH=13h mode 2 left it there
            "cell 2F69\n");         // 'i' in 2Fh from the string's own attributes
  const std::vector<std::string> rows = m->screen_text();
  ASSERT_GE(rows.size(), 4u);
  EXPECT_EQ(rows[0].substr(0, 9), "page one ");  // the banner is on page 0, not shown
  EXPECT_EQ(rows[3].substr(0, 3), "Hi ");
}

// ------------------------------------------------------------ INT 13h ----

TEST_F(BiosBoot, Disk_ReportsGeometryTypeAndExtensions) {
  // Master: 4096 sectors = 4 cylinders of 16 x 63. Slave: 1,100,000 sectors
  // (a sparse file): 1091 cylinders, which INT 13h AH=08h caps at 1024.
  MachineConfig c = config_with_disk("info", PROGRAM(disk_info));
  c.drives[1] = write_file("info_slave.img", {});
  std::filesystem::resize_file(c.drives[1], uint64_t(1'100'000) * kSector);
  std::unique_ptr<Machine> m = create(c);
  ASSERT_TRUE(m);
  EXPECT_EQ(run_to_exit(*m),
            "80 geom 00 00 033F 0F02\n"
            "80 type 00 03 00000FC0\n"
            "80 ext 00 21 AA55 0001\n"
            "80 edd 00 00 001E 0002 00000004 00000010 0000003F 0000000000001000 0200 FFFFFFFF\n"
            "81 geom 00 00 FFFF 0F02\n"
            "81 type 00 03 000FC000\n"
            "81 ext 00 21 AA55 0001\n"
            "81 edd 00 00 001E 0002 00000443 00000010 0000003F 000000000010C8E0 0200 FFFFFFFF\n"
            "82 type 00 00 \n"      // no such drive: AH=00h, CF clear
            "00 read 01 01 \n");    // no diskette drive
}

TEST_F(BiosBoot, Disk_ChsAndLbaReadsMatchTheImage) {
  EXPECT_EQ(run_program("read", PROGRAM(disk_read)),
            "chs3 00 00 ok\n"
            "chs1138 00 00 ok\n"
            "lba60 00 00 04 ok\n"
            "past 01 04 01\n"    // LBA 4095 read, 4096 not found
            "status 01 04 \n"    // AH=01h: the last status
            "sector0 01 01 \n");
}

TEST_F(BiosBoot, Disk_WritesReachTheImageAndReadBack) {
  MachineConfig c = config_with_disk("write", PROGRAM(disk_write));
  std::unique_ptr<Machine> m = create(c);
  ASSERT_TRUE(m);
  EXPECT_EQ(run_to_exit(*m), "write100 00 00 write200 00 00 read 00 00 00 00 same\n");
  m.reset();
  const std::vector<uint8_t> image = read_file(c.drives[0]);
  ASSERT_EQ(image.size(), 4096u * kSector);
  for (uint32_t lba : {100u, 200u, 201u, 202u}) {
    const uint8_t* s = &image[size_t(lba) * kSector];
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(s)), "WRITTEN") << lba;
    uint32_t stored;
    std::memcpy(&stored, s + 8, 4);
    EXPECT_EQ(stored, lba);
    EXPECT_EQ(s[511], uint8_t(lba));
  }
  // Neighbours untouched.
  uint32_t n;
  std::memcpy(&n, &image[99 * kSector], 4);
  EXPECT_EQ(n, 99u);
  std::memcpy(&n, &image[203 * kSector], 4);
  EXPECT_EQ(n, 203u);
}

// ------------------------------------------------------------ INT 15h ----

std::string hex(uint64_t v, int digits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%0*llX", digits, static_cast<unsigned long long>(v));
  return buf;
}
std::string e820_line(uint64_t base, uint64_t length, int type) {
  return "e820 " + hex(base, 16) + " " + hex(length, 16) + " " + hex(type, 2) + " 14\n";
}

class BiosMemoryMap : public BiosBoot, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(BiosMemoryMap, Sizes_FollowTheRamSize) {
  const uint32_t ram = GetParam();
  std::unique_ptr<Machine> m = create(config_with_disk("memory", PROGRAM(memory_map), 4096, ram));
  ASSERT_TRUE(m);
  const uint64_t above_1m = ram - (1u << 20);
  const uint32_t ext_kib = uint32_t(std::min<uint64_t>(above_1m / 1024, 0xFFFF));
  const uint32_t high_64k = ram > (16u << 20) ? (ram - (16u << 20)) / 65536 : 0;
  const std::string e801_low = hex(std::min<uint32_t>(ext_kib, 0x3C00), 4);
  // No RAM above 1 MiB: no entry for it (E820h never reports empty ranges).
  const std::string high_ram = above_1m ? e820_line(0x100000, above_1m, 1) : "";
  EXPECT_EQ(run_to_exit(*m), e820_line(0, 0x9FC00, 1) + e820_line(0x9FC00, 0x400, 2) +
                                 e820_line(0xF0000, 0x10000, 2) + high_ram +
                                 e820_line(0xFEC00000, 0x1000, 2) + e820_line(0xFEE00000, 0x1000, 2) +
                                 e820_line(0xFFFF0000, 0x10000, 2) + "e801 " + e801_low + " " + hex(high_64k, 4) +
                                 " " + e801_low + " " + hex(high_64k, 4) + "\n88 " + hex(ext_kib, 4) +
                                 "\nc0 01 86\n");
}

INSTANTIATE_TEST_SUITE_P(Ram, BiosMemoryMap, ::testing::Values(1u << 20, 8u << 20, 64u << 20, 256u << 20));

TEST_F(BiosBoot, A20_GateFunctionsAndBlockMoveWork) {
  EXPECT_EQ(run_program("a20", PROGRAM(a20)),
            "on 00 00 01 1111\n"     // A20 on at boot: 0x100600 is its own memory
            "off 00 00 00 3333\n"    // off: FFFF:0610 wraps to 0000:0600
            "again 00 00 01 2222\n"
            "support 0003\n"
            "move 00 00 00 00 same\n");
}

// ------------------------------------------------------------ INT 16h ----

TEST_F(BiosBoot, Keyboard_TypedKeysReachInt16) {
  std::unique_ptr<Machine> m = create(config_with_disk("keyboard", PROGRAM(keyboard)));
  ASSERT_TRUE(m);
  // Type only once the program has seen the empty buffer.
  for (int i = 0; i < 100 && debugcon_.find("keys") == std::string::npos; ++i)
    ASSERT_EQ(m->run(100'000), MachineStop::Budget);
  m->queue_keyboard_input("aB1\r\x03 ");
  EXPECT_EQ(run_to_exit(*m),
            "peek 01\n"
            "keys 1E61 3042 0231 1C0D 2E03\n"  // a, Shift+B, 1, Enter, Ctrl+C
            "wait 3920 3920\n"                   // Space, peeked then read
            "flags 00\n");
}

// ------------------------------------------------------------ time ----

TEST_F(BiosBoot, Clock_TicksAndRtcFollowVirtualTime) {
  std::unique_ptr<Machine> m = create(config_with_disk("timer", PROGRAM(timer)));
  ASSERT_TRUE(m);
  const std::string out = run_to_exit(*m);
  // 1 s of INT 15h AH=86h: 18.2 ticks, plus the wait for the first tick edge.
  const size_t ticks_at = out.find("ticks ");
  ASSERT_NE(ticks_at, std::string::npos) << out;
  const unsigned long ticks = std::stoul(out.substr(ticks_at + 6, 8), nullptr, 16);
  EXPECT_GE(ticks, 18u);
  EXPECT_LE(ticks, 20u);
  // The RTC starts at 2026-01-01 00:00:00 and has counted one second.
  EXPECT_NE(out.find("wait 00\n"), std::string::npos) << out;
  EXPECT_NE(out.find("time 00000100\n"), std::string::npos) << out;
  EXPECT_NE(out.find("date 20260101\n"), std::string::npos) << out;
  EXPECT_GE(m->now(), 100'000'000u);               // a virtual second
  EXPECT_LT(m->instructions(), 50'000'000u);       // mostly slept through (HLT)
}

// ------------------------------------------------------------ the rest ----

TEST_F(BiosBoot, Services_StoreKeysSetClocksAndResetDisks) {
  const std::string out = run_program("services", PROGRAM(services));
  EXPECT_EQ(out.substr(0, out.find("\nticks")), "push 00 00 1234");  // AH=05h, AH=01h (ZF clear), AH=00h
  // A tick may land between setting and reading the count.
  EXPECT_TRUE(out.find("ticks 00123456\n") != std::string::npos ||
              out.find("ticks 00123457\n") != std::string::npos) << out;
  EXPECT_EQ(out.substr(out.find("time ")),
            "time 23595800\n"
            "date 20300615\n"
            "reset 00 00 \n"
            "verify 00 00 02\n"
            "wait 00 00 \n"
            "nosmap 01 86 \n");
}

// ------------------------------------------------- a third-party BIOS ----

// The same boot sectors under the Bochs project's BIOS (Debian's bochsbios;
// `-bios` with a ROM virtscope did not write). Where the services are
// specified tightly (the bytes a read returns, the A20 functions), both
// BIOSes must print the same; where BIOSes differ by design (error codes
// for a partial read, the E820 layout) nothing is compared. It boots the
// board's disk through INT 13h on virtscope's ATA controller, so it checks
// the platform (CMOS boot order and disk bytes, IDENTIFY, the 8259 and PIT
// a real BIOS POST expects) as much as the built-in BIOS.
class ThirdPartyBios : public BiosBoot {
 protected:
  static constexpr const char* kRom = "/usr/share/bochs/BIOS-bochs-legacy";
  void SetUp() override {
    if (!std::filesystem::exists(kRom)) GTEST_SKIP() << kRom << " is not installed (Debian package bochsbios)";
  }
  std::string run_under_bochs_bios(const std::string& name, std::span<const uint8_t> boot) {
    MachineConfig c = config_with_disk(name, boot);
    c.bios_image.clear();
    c.bios = kRom;
    std::unique_ptr<Machine> m = create(c);
    if (!m) return {};
    // Its POST waits three virtual seconds for a boot-menu key.
    const MachineStop stop = m->run(1'000'000'000);
    EXPECT_EQ(stop, MachineStop::GuestExit) << vmm::machine_stop_name(stop) << "; debugcon: " << debugcon_;
    EXPECT_EQ(m->exit_status(), kPass);
    return debugcon_;
  }
  static std::string first_lines(const std::string& text, unsigned n) {
    size_t at = 0;
    for (unsigned i = 0; i < n && at != std::string::npos; ++i) at = text.find('\n', at + (i ? 1 : 0));
    return at == std::string::npos ? text : text.substr(0, at + 1);
  }
};

TEST_F(ThirdPartyBios, BootsTheDiskAndReadsTheSameSectorsAsTheBuiltInBios) {
  const std::string bochs = run_under_bochs_bios("read_bochs", PROGRAM(disk_read));
  debugcon_.clear();
  const std::string ours = run_program("read_ours", PROGRAM(disk_read));
  EXPECT_EQ(first_lines(bochs, 3), "chs3 00 00 ok\nchs1138 00 00 ok\nlba60 00 00 04 ok\n");
  EXPECT_EQ(first_lines(bochs, 3), first_lines(ours, 3));
}

TEST_F(ThirdPartyBios, A20AndBlockMoveAgreeWithTheBuiltInBios) {
  const std::string bochs = run_under_bochs_bios("a20_bochs", PROGRAM(a20));
  debugcon_.clear();
  EXPECT_EQ(bochs, run_program("a20_ours", PROGRAM(a20)));
}

TEST_F(ThirdPartyBios, ReportsTheSameDiskGeometry) {
  const std::string bochs = run_under_bochs_bios("info_bochs", PROGRAM(disk_info));
  debugcon_.clear();
  const std::string ours = run_program("info_ours", PROGRAM(disk_info));
  // AH=08h: the geometry of disk 80h, from IDENTIFY (the Bochs BIOS) or
  // from the controller's default translation (ours): the same numbers.
  EXPECT_EQ(first_lines(bochs, 1), "80 geom 00 00 033F 0F01\n");
  EXPECT_EQ(first_lines(bochs, 1), first_lines(ours, 1));
}

}  // namespace
}  // namespace vs::firmware

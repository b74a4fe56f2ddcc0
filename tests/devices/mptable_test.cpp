// MP floating pointer and configuration table (MP spec v1.4 chapter 4),
// checked with an independent parser that reads them the way xv6's mp.c
// does: scan for "_MP_" on 16-byte boundaries, verify both checksums, walk
// the entries by type.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "virtscope/devices/mptable.h"

namespace vs::devices {
namespace {

uint8_t sum(const uint8_t* p, size_t n) {
  uint8_t s = 0;
  for (size_t i = 0; i < n; ++i) s = uint8_t(s + p[i]);
  return s;
}
uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | uint32_t(p[3]) << 24; }

// What an OS learns from the tables.
struct Parsed {
  bool found = false;
  uint32_t lapic = 0, ioapic_address = 0;
  uint8_t imcrp = 0, ioapic_id = 0xFF, version = 0;
  std::vector<uint8_t> cpu_ids;
  std::vector<std::string> buses;
  int isa_irq_to_pin[16];
  std::vector<std::pair<uint8_t, uint8_t>> local;  // (interrupt type, LINTIN#)
  bool bad_entry = false;
};

// `rom` models physical memory [base, base + rom.size()).
Parsed parse_like_xv6(const std::vector<uint8_t>& rom, uint32_t base) {
  Parsed out;
  std::fill(std::begin(out.isa_irq_to_pin), std::end(out.isa_irq_to_pin), -1);
  const uint8_t* mp = nullptr;
  for (size_t off = 0; off + 16 <= rom.size(); off += 16)
    if (std::memcmp(&rom[off], "_MP_", 4) == 0 && sum(&rom[off], 16) == 0) {
      mp = &rom[off];
      break;
    }
  if (!mp) return out;
  out.imcrp = mp[12] >> 7;
  const uint32_t phys = le32(mp + 4);
  if (phys < base || phys - base + 44 > rom.size()) return out;
  const uint8_t* conf = &rom[phys - base];
  if (std::memcmp(conf, "PCMP", 4) != 0) return out;
  out.version = conf[6];
  const uint16_t length = le16(conf + 4);
  if (phys - base + length > rom.size() || sum(conf, length) != 0) return out;
  out.found = true;
  out.lapic = le32(conf + 36);
  unsigned count = 0;
  for (const uint8_t* p = conf + 44; p < conf + length; ++count) {
    switch (p[0]) {
      case 0:  // processor
        if (p[3] & 1) out.cpu_ids.push_back(p[1]);
        p += 20;
        break;
      case 1:  // bus
        out.buses.emplace_back(reinterpret_cast<const char*>(p + 2), 6);
        p += 8;
        break;
      case 2:  // I/O APIC
        out.ioapic_id = p[1];
        out.ioapic_address = le32(p + 4);
        p += 8;
        break;
      case 3:  // I/O interrupt: INT from ISA bus 0 to our I/O APIC
        if (p[1] == 0 && p[4] == 0 && p[6] == out.ioapic_id && p[5] < 16) out.isa_irq_to_pin[p[5]] = p[7];
        p += 8;
        break;
      case 4:  // local interrupt
        out.local.emplace_back(p[1], p[7]);
        p += 8;
        break;
      default:
        out.bad_entry = true;
        return out;
    }
  }
  if (count != le16(conf + 34)) out.bad_entry = true;
  return out;
}

TEST(MpTable, FloatingPointer_ChecksumAndFields) {
  const MpTables t = build_mp_tables(0xF5A30);
  ASSERT_GE(t.bytes.size(), 16u);
  EXPECT_EQ(t.address, 0xF5A30u);
  EXPECT_EQ(std::memcmp(t.bytes.data(), "_MP_", 4), 0);
  EXPECT_EQ(sum(t.bytes.data(), 16), 0);
  EXPECT_EQ(le32(&t.bytes[4]), 0xF5A40u);
  EXPECT_EQ(t.config_address, 0xF5A40u);
  EXPECT_EQ(t.bytes[8], 1);   // one paragraph
  EXPECT_EQ(t.bytes[9], 4);   // spec 1.4
  EXPECT_EQ(t.bytes[11], 0);  // configuration table present
  EXPECT_EQ(t.bytes[12], 0);  // no IMCR
}

TEST(MpTable, ConfigurationTable_ChecksumLengthAndHeader) {
  const MpTables t = build_mp_tables(0xF0000);
  const uint8_t* conf = &t.bytes[16];
  EXPECT_EQ(std::memcmp(conf, "PCMP", 4), 0);
  const uint16_t length = le16(conf + 4);
  EXPECT_EQ(size_t(length) + 16, t.bytes.size());
  EXPECT_EQ(sum(conf, length), 0);
  EXPECT_EQ(conf[6], 4);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(conf + 8), 8), "VIRTSCOP");
  EXPECT_EQ(le32(conf + 36), 0xFEE00000u);
  EXPECT_EQ(le16(conf + 34), 20);  // CPU, bus, I/O APIC, 15 ISA IRQs, 2 LINTs
  EXPECT_EQ(length, 44 + 20 + 19 * 8);
}

TEST(MpTable, FoundInBiosRomByScan_ContentsAsXv6SeesThem) {
  std::vector<uint8_t> rom(0x10000, 0xFF);  // 0xF0000-0xFFFFF
  const MpTables t = build_mp_tables(0xF7C20);
  std::memcpy(&rom[t.address - 0xF0000], t.bytes.data(), t.bytes.size());
  const Parsed p = parse_like_xv6(rom, 0xF0000);
  ASSERT_TRUE(p.found);
  EXPECT_FALSE(p.bad_entry);
  EXPECT_EQ(p.version, 4);
  EXPECT_EQ(p.lapic, 0xFEE00000u);
  ASSERT_EQ(p.cpu_ids.size(), 1u);
  EXPECT_EQ(p.cpu_ids[0], 0);
  ASSERT_EQ(p.buses.size(), 1u);
  EXPECT_EQ(p.buses[0], "ISA   ");
  EXPECT_EQ(p.ioapic_id, 1);
  EXPECT_EQ(p.ioapic_address, 0xFEC00000u);
  EXPECT_EQ(p.isa_irq_to_pin[0], 2);  // the timer override
  EXPECT_EQ(p.isa_irq_to_pin[2], -1); // the cascade has no entry
  for (int irq : {1, 3, 4, 8, 12, 14, 15}) EXPECT_EQ(p.isa_irq_to_pin[irq], irq) << irq;
  ASSERT_EQ(p.local.size(), 2u);
  EXPECT_EQ(p.local[0], std::make_pair(uint8_t(3), uint8_t(0)));  // ExtINT -> LINT0
  EXPECT_EQ(p.local[1], std::make_pair(uint8_t(1), uint8_t(1)));  // NMI -> LINT1
  EXPECT_EQ(p.imcrp, 0);
}

TEST(MpTable, ProcessorEntry_SignatureFeaturesAndFlags) {
  const MpTables t = build_mp_tables(0xF0000);
  const uint8_t* cpu = &t.bytes[16 + 44];
  EXPECT_EQ(cpu[0], 0);
  EXPECT_EQ(cpu[2], 0x14);
  EXPECT_EQ(cpu[3], 0x03);  // enabled, bootstrap processor
  EXPECT_EQ((le32(cpu + 4) >> 8) & 0xF, 6u);  // family 6
  EXPECT_TRUE(le32(cpu + 8) & cpu::cpuid_edx::APIC);
}

TEST(MpTable, ConfigOptions_AreReflectedAndUnalignedAddressRoundsUp) {
  MpConfig c;
  c.ioapic_id = 2;
  c.imcr_present = true;
  const MpTables t = build_mp_tables(0xF0005, c);
  EXPECT_EQ(t.address, 0xF0010u);
  EXPECT_EQ(t.bytes[12], 0x80);
  EXPECT_EQ(sum(t.bytes.data(), 16), 0);
  std::vector<uint8_t> rom(0x10000, 0);
  std::memcpy(&rom[t.address - 0xF0000], t.bytes.data(), t.bytes.size());
  const Parsed p = parse_like_xv6(rom, 0xF0000);
  ASSERT_TRUE(p.found);
  EXPECT_EQ(p.ioapic_id, 2);
  EXPECT_EQ(p.isa_irq_to_pin[14], 14);  // entries name the configured I/O APIC
  EXPECT_EQ(p.imcrp, 1);
}

TEST(MpTable, IsaIrqPin_AgreesWithTable) {
  EXPECT_EQ(isa_irq_pin(0), 2u);
  EXPECT_EQ(isa_irq_pin(1), 1u);
  EXPECT_EQ(isa_irq_pin(14), 14u);
}

}  // namespace
}  // namespace vs::devices

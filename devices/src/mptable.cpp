// MP floating pointer and configuration table (Intel MultiProcessor
// Specification v1.4, Chapter 4: Table 4-1 floating pointer, Table 4-2
// header, Tables 4-4 to 4-8 base entries).
#include "virtscope/devices/mptable.h"

#include <string_view>

namespace vs::devices {

namespace {

constexpr uint8_t kSpecRev = 4;  // MP spec 1.4
enum EntryType : uint8_t { kProcessor = 0, kBus = 1, kIoApicEntry = 2, kIoInterrupt = 3, kLocalInterrupt = 4 };
enum InterruptType : uint8_t { kINT = 0, kNMI = 1, kSMI = 2, kExtINT = 3 };
constexpr uint8_t kCpuEnabled = 0x01, kCpuBootstrap = 0x02;
constexpr uint8_t kIoApicEnabled = 0x01;
constexpr uint16_t kConformsToBus = 0x0000;  // polarity and trigger "conform to the bus"
constexpr uint8_t kAllLocalApics = 0xFF;
constexpr uint8_t kIsaBus = 0;

class Bytes {
 public:
  explicit Bytes(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { for (int i = 0; i < 2; ++i) u8(uint8_t(v >> (8 * i))); }
  void u32(uint32_t v) { for (int i = 0; i < 4; ++i) u8(uint8_t(v >> (8 * i))); }
  // A fixed-width text field, space-padded (§4.2: OEM and product IDs, bus type).
  void text(std::string_view s, size_t width) {
    for (size_t i = 0; i < width; ++i) u8(i < s.size() ? uint8_t(s[i]) : ' ');
  }
  void zeros(size_t n) { out_.insert(out_.end(), n, 0); }

 private:
  std::vector<uint8_t>& out_;
};

// The byte that makes [first, first + length) sum to zero (mod 256).
uint8_t checksum(const std::vector<uint8_t>& b, size_t first, size_t length) {
  uint8_t sum = 0;
  for (size_t i = first; i < first + length; ++i) sum = uint8_t(sum + b[i]);
  return uint8_t(-sum);
}

void processor_entry(Bytes& out, const MpConfig& c) {  // Table 4-4
  out.u8(kProcessor);
  out.u8(c.lapic_id);
  out.u8(c.lapic_version);
  out.u8(kCpuEnabled | kCpuBootstrap);
  out.u32(c.cpu_signature);
  out.u32(c.cpu_features);
  out.zeros(8);
}

void bus_entry(Bytes& out) {  // Table 4-5, bus type strings Table 4-6
  out.u8(kBus);
  out.u8(kIsaBus);
  out.text("ISA", 6);
}

void ioapic_entry(Bytes& out, const MpConfig& c) {  // Table 4-7
  out.u8(kIoApicEntry);
  out.u8(c.ioapic_id);
  out.u8(c.ioapic_version);
  out.u8(kIoApicEnabled);
  out.u32(c.ioapic_address);
}

// Table 4-8 (I/O interrupt) and 4-10 (local interrupt) share one layout.
void interrupt_entry(Bytes& out, uint8_t entry_type, uint8_t int_type, uint8_t src_irq, uint8_t dest_id,
                     uint8_t dest_pin) {
  out.u8(entry_type);
  out.u8(int_type);
  out.u16(kConformsToBus);
  out.u8(kIsaBus);
  out.u8(src_irq);
  out.u8(dest_id);
  out.u8(dest_pin);
}

}  // namespace

MpTables build_mp_tables(uint32_t address, const MpConfig& c) {
  MpTables t;
  t.address = (address + 15) & ~15u;
  t.config_address = t.address + kMpFloatingSize;
  std::vector<uint8_t>& b = t.bytes;
  Bytes out(b);

  // Floating pointer (Table 4-1).
  out.text("_MP_", 4);
  out.u32(t.config_address);
  out.u8(1);  // length in 16-byte paragraphs
  out.u8(kSpecRev);
  out.u8(0);  // checksum, below
  out.u8(0);  // feature byte 1: 0 = a configuration table is present
  out.u8(c.imcr_present ? 0x80 : 0x00);  // feature byte 2: IMCRP
  out.zeros(3);  // feature bytes 3-5, reserved
  b[10] = checksum(b, 0, kMpFloatingSize);

  // Configuration table header (Table 4-2); length, count and checksum later.
  const size_t h = b.size();
  out.text("PCMP", 4);
  out.u16(0);  // base table length
  out.u8(kSpecRev);
  out.u8(0);   // checksum
  out.text("VIRTSCOP", 8);       // OEM ID
  out.text("VIRTSCOPE PC", 12);  // product ID
  out.u32(0);  // OEM table pointer: none
  out.u16(0);  // OEM table size
  out.u16(0);  // entry count
  out.u32(c.lapic_address);
  out.u16(0);  // extended table length: none
  out.u8(0);   // extended table checksum
  out.u8(0);   // reserved

  // Base entries, sorted by type (§4.3).
  processor_entry(out, c);
  bus_entry(out);
  ioapic_entry(out, c);
  for (uint8_t irq = 0; irq < 16; ++irq) {
    if (irq == 2) continue;  // the cascade
    interrupt_entry(out, kIoInterrupt, kINT, irq, c.ioapic_id, uint8_t(isa_irq_pin(irq)));
  }
  interrupt_entry(out, kLocalInterrupt, kExtINT, 0, kAllLocalApics, 0);
  interrupt_entry(out, kLocalInterrupt, kNMI, 0, kAllLocalApics, 1);
  const uint16_t entries = 3 + 15 + 2;  // processor, bus, I/O APIC; 15 ISA IRQs; LINT0, LINT1

  const size_t length = b.size() - h;
  b[h + 4] = uint8_t(length);
  b[h + 5] = uint8_t(length >> 8);
  b[h + 34] = uint8_t(entries);
  b[h + 35] = uint8_t(entries >> 8);
  b[h + 7] = checksum(b, h, length);
  return t;
}

}  // namespace vs::devices

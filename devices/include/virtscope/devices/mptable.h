// The MultiProcessor Specification tables (Intel MP Spec v1.4, order
// 242016, Chapter 4): the 16-byte MP floating pointer structure ("_MP_") and
// the MP configuration table ("PCMP") that tell an OS where its local APIC
// and I/O APIC are and how the ISA interrupts reach the I/O APIC's pins.
// xv6 (mp.c) and Linux find the floating pointer by scanning the EBDA, the
// last KiB of base memory and the BIOS ROM 0xF0000-0xFFFFF on 16-byte
// boundaries and checking its checksum.
//
// build_mp_tables() returns bytes only; the BIOS/Machine copies them into the
// ROM image or RAM at the address it chose. The configuration table follows
// the floating pointer directly.
//
// Contents (one processor, one ISA bus, one I/O APIC), in the entry order
// §4.3 requires (by entry type):
//  - processor: the BSP, enabled, its APIC ID and version, CPUID signature
//    and features;
//  - bus 0, "ISA   ";
//  - the I/O APIC: its ID, version 0x11, enabled, address;
//  - I/O interrupt assignments: ISA IRQ 0 -> pin 2 (the PC/AT's timer
//    override), IRQs 1 and 3-15 to the pin of the same number (isa_irq_pin).
//    IRQ 2 is the 8259 cascade, never raised by a device, and has no entry.
//    Polarity and trigger "conform to the bus" (ISA: active high, edge);
//  - local interrupt assignments: ExtINT to LINT0 and NMI to LINT1 of every
//    local APIC (virtual wire, §3.6.2.2).
// No extended table, no OEM table. The IMCR flag defaults to clear (virtual
// wire mode: the 8259 reaches the CPU through LINT0, there is no IMCR).
#pragma once

#include <cstdint>
#include <vector>

#include "virtscope/cpu/cpu.h"

namespace vs::devices {

// Where ISA IRQ `irq` enters the I/O APIC on this board: the board's
// IrqSink and the MP table must agree.
constexpr unsigned isa_irq_pin(unsigned irq) { return irq == 0 ? 2 : irq; }

struct MpConfig {
  uint8_t lapic_id = 0;
  uint8_t lapic_version = 0x14;
  uint32_t lapic_address = 0xFEE00000;
  uint32_t cpu_signature = 0x00000610;  // CPUID.1 EAX: family 6, model 1, stepping 0 (cpu/src/system.cpp)
  uint32_t cpu_features = cpu::CpuConfig{}.cpuid_features | cpu::cpuid_edx::APIC;  // CPUID.1 EDX
  uint8_t ioapic_id = 1;
  uint8_t ioapic_version = 0x11;
  uint32_t ioapic_address = 0xFEC00000;
  bool imcr_present = false;  // feature byte 2 bit 7 (IMCRP): PIC mode with an IMCR at 0x22/0x23
};

struct MpTables {
  uint32_t address = 0;         // where bytes[0] goes: the floating pointer, 16-byte aligned
  uint32_t config_address = 0;  // where the configuration table starts (address + 16)
  std::vector<uint8_t> bytes;   // floating pointer followed by the configuration table
};

// Sizes from the MP spec (Table 4-1, 4-2, 4-3 to 4-8).
constexpr uint32_t kMpFloatingSize = 16;
constexpr uint32_t kMpConfigHeaderSize = 44;
constexpr uint32_t kMpProcessorEntrySize = 20;
constexpr uint32_t kMpEntrySize = 8;  // bus, I/O APIC, I/O and local interrupt entries

// Builds both structures for placement at `address` (rounded up to 16 bytes
// if it is not aligned; MpTables::address says where they go).
MpTables build_mp_tables(uint32_t address, const MpConfig& config = {});

}  // namespace vs::devices

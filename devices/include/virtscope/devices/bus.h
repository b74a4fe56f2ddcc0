// The PC's two address spaces as the CPU sees them: the port-I/O bus and the
// physical memory map (RAM, ROM, MMIO). Devices are registered by range under
// their name; the UI lists the ranges, and peek() reads any address without
// side effects.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "virtscope/cpu/bus.h"
#include "virtscope/devices/device.h"

namespace vs::devices {

// One registered range, for listings (`virtscope run --info`, the UI).
struct Mapping {
  uint32_t first = 0, last = 0;  // inclusive
  std::string what;              // device name, "ram" or "rom:<name>"
  Device* device = nullptr;      // null for RAM and ROM
};

class PortBus final : public cpu::IoBus {
 public:
  PortBus();
  // Register [first, last] to `device`. Overlapping an existing range is a
  // wiring bug: map() returns false and changes nothing.
  bool map(uint16_t first, uint16_t last, Device& device);
  // Unmapped ports read as all ones and ignore writes (an ISA bus with
  // nothing answering).
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;
  uint32_t peek(uint16_t port, unsigned size) const;
  Device* device_at(uint16_t port) const { return table_[port]; }
  const std::vector<Mapping>& mappings() const { return mappings_; }

 private:
  std::vector<Device*> table_;  // 65536 entries, one per port
  std::vector<Mapping> mappings_;
};

// Physical memory: RAM from address 0, ROM images and MMIO windows laid over
// it (the PC's 640 KiB-1 MiB hole, the BIOS at the top of 4 GiB, the APICs).
// Everything is page-granular (4 KiB) except MMIO, whose accesses reach the
// device with their exact address.
class PhysicalMemory final : public cpu::MemoryBus {
 public:
  explicit PhysicalMemory(uint32_t ram_bytes);

  uint32_t ram_size() const { return ram_size_; }
  uint8_t* ram() { return ram_.get(); }
  const uint8_t* ram() const { return ram_.get(); }

  // A read-only copy of `image` at `base` (page-aligned, whole pages; the
  // last page is padded with 0xFF). Guest writes to it are dropped.
  bool map_rom(uint32_t base, std::span<const uint8_t> image, std::string name);
  // Accesses in [base, base + size) go to `device` (page-aligned window).
  bool map_mmio(uint32_t base, uint32_t size, Device& device);

  uint8_t* map_page(uint32_t phys, bool for_write) override;
  uint32_t read(uint32_t phys, unsigned size) override;
  void write(uint32_t phys, unsigned size, uint32_t value) override;
  uint32_t peek(uint32_t phys, unsigned size) override;

  // Host-side access for loaders and snapshots: copies into/out of RAM,
  // false if the range is not entirely RAM (or ROM, for reads).
  bool load(uint32_t phys, std::span<const uint8_t> bytes);
  bool copy_out(uint32_t phys, std::span<uint8_t> out) const;

  const std::vector<Mapping>& mappings() const { return mappings_; }

 private:
  struct Overlay {
    uint32_t first = 0, last = 0;     // inclusive, page-aligned first
    const uint8_t* rom = nullptr;     // ROM bytes (first..last), or
    Device* device = nullptr;         // an MMIO device
  };
  const Overlay* overlay_at(uint32_t phys) const;
  bool overlaps(uint32_t first, uint32_t last) const;
  void note_overlay(uint32_t first);
  void publish_plain_window();
  // [1 MiB, plain_ram_end_) is RAM with no overlay: most lookups (page
  // walks, the CPU's TLB fills) land there and need no search; it is
  // MemoryBus's plain window.
  uint32_t plain_ram_end_ = 0;

  uint32_t ram_size_;
  std::unique_ptr<uint8_t[]> ram_;
  std::vector<std::vector<uint8_t>> rom_images_;
  std::vector<Overlay> overlays_;
  std::vector<Mapping> mappings_;
};

}  // namespace vs::devices

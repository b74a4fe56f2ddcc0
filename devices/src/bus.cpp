#include "virtscope/devices/bus.h"

#include <algorithm>
#include <cstring>

namespace vs::devices {

namespace {
uint32_t all_ones(unsigned size) { return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }
}  // namespace

// ------------------------------------------------------------- port bus ----

PortBus::PortBus() : table_(65536, nullptr) {}

bool PortBus::map(uint16_t first, uint16_t last, Device& device) {
  if (last < first) return false;
  for (uint32_t p = first; p <= last; ++p)
    if (table_[p]) return false;
  for (uint32_t p = first; p <= last; ++p) table_[p] = &device;
  mappings_.push_back(Mapping{first, last, device.name(), &device});
  std::sort(mappings_.begin(), mappings_.end(), [](const Mapping& a, const Mapping& b) { return a.first < b.first; });
  return true;
}

uint32_t PortBus::in(uint16_t port, unsigned size) {
  Device* d = table_[port];
  return d ? d->read(port, size) & all_ones(size) : all_ones(size);
}

void PortBus::out(uint16_t port, unsigned size, uint32_t value) {
  if (Device* d = table_[port]) d->write(port, size, value & all_ones(size));
}

uint32_t PortBus::peek(uint16_t port, unsigned size) const {
  const Device* d = table_[port];
  return d ? d->peek(port, size) & all_ones(size) : all_ones(size);
}

// ------------------------------------------------------- physical memory ----

PhysicalMemory::PhysicalMemory(uint32_t ram_bytes)
    : ram_size_(ram_bytes & ~0xFFFu), ram_(new uint8_t[ram_bytes & ~0xFFFu]()) {
  if (ram_size_) mappings_.push_back(Mapping{0, ram_size_ - 1, "ram", nullptr});
  plain_ram_end_ = ram_size_;
  publish_plain_window();
}

// Below 1 MiB sit the VGA window and the BIOS ROMs; an overlay above it ends
// the plain range there.
void PhysicalMemory::note_overlay(uint32_t first) {
  if (first >= 0x100000 && first < plain_ram_end_) plain_ram_end_ = first;
  publish_plain_window();
}

void PhysicalMemory::publish_plain_window() {
  const uint32_t size = plain_ram_end_ > 0x100000 ? plain_ram_end_ - 0x100000 : 0;
  set_plain_window(ram_.get(), 0x100000, size);
}

bool PhysicalMemory::overlaps(uint32_t first, uint32_t last) const {
  for (const Overlay& o : overlays_)
    if (first <= o.last && o.first <= last) return true;
  return false;
}

const PhysicalMemory::Overlay* PhysicalMemory::overlay_at(uint32_t phys) const {
  for (const Overlay& o : overlays_)
    if (phys >= o.first && phys <= o.last) return &o;
  return nullptr;
}

bool PhysicalMemory::map_rom(uint32_t base, std::span<const uint8_t> image, std::string name) {
  if ((base & 0xFFF) || image.empty()) return false;
  const uint64_t size = (uint64_t(image.size()) + 0xFFF) & ~uint64_t(0xFFF);
  if (uint64_t(base) + size > (uint64_t(1) << 32)) return false;
  const uint32_t last = uint32_t(base + size - 1);
  if (overlaps(base, last)) return false;
  std::vector<uint8_t> copy(size, 0xFF);
  std::memcpy(copy.data(), image.data(), image.size());
  rom_images_.push_back(std::move(copy));
  overlays_.push_back(Overlay{base, last, rom_images_.back().data(), nullptr});
  note_overlay(base);
  mappings_.push_back(Mapping{base, last, "rom:" + name, nullptr});
  return true;
}

bool PhysicalMemory::map_mmio(uint32_t base, uint32_t size, Device& device) {
  if ((base & 0xFFF) || size == 0 || (size & 0xFFF)) return false;
  if (uint64_t(base) + size > (uint64_t(1) << 32)) return false;
  const uint32_t last = base + (size - 1);
  if (overlaps(base, last)) return false;
  overlays_.push_back(Overlay{base, last, nullptr, &device});
  note_overlay(base);
  mappings_.push_back(Mapping{base, last, device.name(), &device});
  return true;
}

uint8_t* PhysicalMemory::map_page(uint32_t phys, bool for_write) {
  const uint32_t page = phys & ~0xFFFu;
  if (page >= 0x100000 && page < plain_ram_end_) return ram_.get() + page;
  if (const Overlay* o = overlay_at(page)) {
    // ROM pages are readable through host pointers; writes must reach
    // write() to be dropped, so they get none. MMIO never has one.
    if (o->rom && !for_write) return const_cast<uint8_t*>(o->rom + (page - o->first));
    return nullptr;
  }
  return page < ram_size_ ? ram_.get() + page : nullptr;
}

uint32_t PhysicalMemory::read(uint32_t phys, unsigned size) {
  if (const Overlay* o = overlay_at(phys)) {
    if (o->device) return o->device->read(phys, size);
  }
  return peek(phys, size);
}

void PhysicalMemory::write(uint32_t phys, unsigned size, uint32_t value) {
  if (const Overlay* o = overlay_at(phys)) {
    if (o->device) o->device->write(phys, size, value);
    return;  // ROM: dropped
  }
  if (phys < ram_size_ && size <= ram_size_ - phys)
    for (unsigned i = 0; i < size; ++i) ram_[phys + i] = uint8_t(value >> (8 * i));
  // Beyond RAM: nothing answers (dropped).
}

uint32_t PhysicalMemory::peek(uint32_t phys, unsigned size) {
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint32_t a = phys + i;
    uint32_t b = 0xFF;  // open bus
    if (const Overlay* o = overlay_at(a)) {
      if (o->device) return o->device->peek(phys, size);
      b = o->rom[a - o->first];
    } else if (a < ram_size_) {
      b = ram_[a];
    }
    v |= b << (8 * i);
  }
  return v;
}

bool PhysicalMemory::load(uint32_t phys, std::span<const uint8_t> bytes) {
  if (bytes.empty()) return true;
  const uint64_t end = uint64_t(phys) + bytes.size();
  if (end > ram_size_ || overlaps(phys, uint32_t(end - 1))) return false;
  std::memcpy(ram_.get() + phys, bytes.data(), bytes.size());
  return true;
}

bool PhysicalMemory::copy_out(uint32_t phys, std::span<uint8_t> out) const {
  for (size_t i = 0; i < out.size(); ++i) {
    const uint64_t a = uint64_t(phys) + i;
    if (a >= (uint64_t(1) << 32)) return false;
    if (const Overlay* o = overlay_at(uint32_t(a))) {
      if (!o->rom) return false;
      out[i] = o->rom[a - o->first];
    } else if (a < ram_size_) {
      out[i] = ram_[a];
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace vs::devices

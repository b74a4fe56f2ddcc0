// Sparse page-granular guest memory shared by every oracle (see oracle.h).
#include "virtscope/conformance/oracle.h"

namespace vs::conformance {

void MemoryImage::map(uint32_t base, uint32_t len) {
  if (len == 0) return;
  uint64_t first = base & ~uint64_t(kPageSize - 1);
  uint64_t end = uint64_t(base) + len;
  for (uint64_t p = first; p < end; p += kPageSize) {
    auto& page = pages[uint32_t(p)];
    if (page.empty()) page.assign(kPageSize, 0);
  }
}

void MemoryImage::write(uint32_t addr, const uint8_t* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    uint32_t a = addr + uint32_t(i);
    auto& page = pages[a & ~(kPageSize - 1)];
    if (page.empty()) page.assign(kPageSize, 0);
    page[a & (kPageSize - 1)] = data[i];
  }
}

uint8_t MemoryImage::read8(uint32_t addr) const {
  auto it = pages.find(addr & ~(kPageSize - 1));
  return it == pages.end() ? 0 : it->second[addr & (kPageSize - 1)];
}

}  // namespace vs::conformance

#include "guest_memory.h"

#include <cstring>

#include "virtscope/cpu/state.h"

namespace vs::vmm {

GuestPhysical::GuestPhysical(uint8_t* host_ram, uint32_t base, uint32_t size)
    : ram_(host_ram), base_(base), size_(size) {
  set_plain_window(host_ram + base, 0, size);
}

uint8_t* GuestPhysical::map_page(uint32_t gpa, bool) {
  return gpa < size_ ? ram_ + base_ + (gpa & ~0xFFFu) : nullptr;
}

GuestLinear::GuestLinear(GuestPhysical& memory, trace::EventLog& log)
    : memory_(memory), walker_(memory, log, {}, mmu::MmuConfig{0}) {}

mmu::WalkResult GuestLinear::walk(uint32_t linear, const GuestPaging& paging, mmu::AccessQuery query) const {
  if (!paging.enabled()) {
    mmu::WalkResult r;
    r.translated = memory_.contains(linear);
    r.fault = !r.translated;
    r.phys = linear;
    r.writable = r.user = true;
    return r;
  }
  return walker_.walk(linear, paging.cr3, paging.cr4, query);
}

void GuestLinear::set_accessed_dirty(const mmu::WalkResult& w, bool write) {
  for (unsigned i = 0; i < w.levels; ++i) {
    const mmu::WalkStep& s = w.steps[i];
    const uint32_t bits = mmu::entry::A | (write && s.maps_page ? mmu::entry::D : 0);
    if ((s.entry & bits) == bits) continue;
    if (uint8_t* page = memory_.host_page(s.entry_address, true)) {
      uint32_t v;
      std::memcpy(&v, page + (s.entry_address & 0xFFF), 4);
      v |= bits;
      std::memcpy(page + (s.entry_address & 0xFFF), &v, 4);
    }
  }
}

uint8_t* GuestLinear::host(uint32_t linear, const GuestPaging& paging, bool write) const {
  mmu::AccessQuery q;
  q.access = write ? cpu::Access::Write : cpu::Access::Read;
  const mmu::WalkResult w = walk(linear, paging, q);
  if (!w.translated) return nullptr;
  uint8_t* page = memory_.host_page(w.phys, write);
  return page ? page + (w.phys & 0xFFF) : nullptr;
}

bool GuestLinear::read(uint32_t linear, void* out, uint32_t n, const GuestPaging& paging) const {
  uint8_t* dst = static_cast<uint8_t*>(out);
  while (n > 0) {
    const uint32_t chunk = std::min<uint32_t>(n, 0x1000 - (linear & 0xFFF));
    const uint8_t* src = host(linear, paging, false);
    if (!src) return false;
    std::memcpy(dst, src, chunk);
    dst += chunk, linear += chunk, n -= chunk;
  }
  return true;
}

bool GuestLinear::write(uint32_t linear, const void* in, uint32_t n, const GuestPaging& paging) {
  const uint8_t* src = static_cast<const uint8_t*>(in);
  while (n > 0) {
    const uint32_t chunk = std::min<uint32_t>(n, 0x1000 - (linear & 0xFFF));
    uint8_t* dst = host(linear, paging, true);
    if (!dst) return false;
    std::memcpy(dst, src, chunk);
    src += chunk, linear += chunk, n -= chunk;
  }
  return true;
}

}  // namespace vs::vmm

// Segment descriptors as a VMM edits them on their way from the guest's
// tables into the real GDT (trap: ring compression; pv: set_gdt), decoded
// with the CPU's own decoder (cpu::segment_from_descriptor).
#pragma once

#include <cstdint>
#include <cstring>

#include "virtscope/cpu/state.h"

namespace vs::vmm {

// Cuts the limit of the code or data descriptor `d` so that the segment
// ends below `top` (the VMM's hole), page granular (G set). False when the
// segment starts at or above `top`: no limit can keep it out.
inline bool limit_below(uint64_t& d, uint32_t top) {
  const cpu::Segment s = cpu::segment_from_descriptor(0, d);
  if (s.base >= top) return false;
  if (uint64_t(s.base) + s.limit < top) return true;
  const uint32_t pages = (top - s.base) / 0x1000;  // whole pages below top
  if (pages == 0) return false;
  const uint32_t raw = pages - 1;
  d = (d & ~uint64_t(0x000F00000000FFFF)) | (raw & 0xFFFF) | uint64_t((raw >> 16) & 0xF) << 48 | uint64_t(1) << 55;
  return true;
}

// The segment cache for `selector` (its RPL replaced by the descriptor's
// DPL: the real GDT's rings are the VMM's) from a real GDT of `bytes` at
// `gdt`, with the accessed bit set. False for the null selector, one beyond
// the table, or an absent descriptor.
inline bool segment_in_table(const uint8_t* gdt, uint32_t bytes, uint16_t selector, cpu::Segment& out) {
  const uint32_t index = selector >> 3;
  if (index == 0 || index * 8 + 7 >= bytes) return false;
  uint64_t d;
  std::memcpy(&d, gdt + index * 8, 8);
  if (!((d >> 47) & 1)) return false;
  out = cpu::segment_from_descriptor(uint16_t((selector & ~3u) | ((d >> 45) & 3)), d);
  out.attr |= 0x01;
  return true;
}

}  // namespace vs::vmm

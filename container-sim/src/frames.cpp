#include "frames.h"

#include <cstring>

#include "virtscope/cpu/cpu.h"

namespace vs::container_sim {

Frames::Frames(uint8_t* ram, uint32_t ram_bytes, uint32_t first, cpu::Cpu& cpu) : ram_(ram), cpu_(cpu) {
  for (uint32_t phys = ram_bytes & ~(kPageSize - 1); phys > first;) {
    phys -= kPageSize;
    free_.push_back(phys);  // pushed highest first: the lowest frame is on top
  }
  total_ = free_.size();
}

uint32_t Frames::alloc() {
  if (free_.empty()) return 0;
  const uint32_t phys = free_.back();
  free_.pop_back();
  std::memset(ram_ + phys, 0, kPageSize);
  // The frame may have held another process's code: the CPU must not run
  // blocks it decoded from the old bytes.
  cpu_.invalidate_code(phys, kPageSize);
  if (++in_use_ > peak_) peak_ = in_use_;
  return phys;
}

void Frames::release(uint32_t phys) {
  free_.push_back(phys);
  --in_use_;
}

void Frames::written(uint32_t phys, uint32_t n) { cpu_.invalidate_code(phys, n); }

}  // namespace vs::container_sim

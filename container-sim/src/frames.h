// Physical memory as the kernel model hands it out: 4 KiB frames of the
// emulated RAM, one free list, every frame zeroed before use. The page
// tables the MMU walks and the pages user code touches all live in these
// frames, so what a process costs in memory is a count of frames.
//
// Where a memory cgroup will charge (memory.current, memory.max): alloc()
// and release() are the only doors, so a per-cgroup counter goes here.
#pragma once

#include <cstdint>
#include <vector>

namespace vs::cpu {
class Cpu;
}

namespace vs::container_sim {

constexpr uint32_t kPageSize = 4096;

class Frames {
 public:
  // Frames from `first` (page-aligned) to the end of `ram`, handed out lowest first.
  Frames(uint8_t* ram, uint32_t ram_bytes, uint32_t first, cpu::Cpu& cpu);

  // A zeroed frame's physical address, or 0 when memory is exhausted.
  uint32_t alloc();
  void release(uint32_t phys);

  uint8_t* host(uint32_t phys) { return ram_ + phys; }
  // The kernel wrote [phys, phys + n) behind the CPU's back: drop code the
  // CPU decoded from it (Cpu::invalidate_code).
  void written(uint32_t phys, uint32_t n);

  uint64_t in_use() const { return in_use_; }
  uint64_t peak() const { return peak_; }
  uint64_t total() const { return total_; }
  uint64_t demand_zero = 0;  // pages zeroed and mapped because a region was touched (AddressSpace::fault)

 private:
  uint8_t* ram_;
  cpu::Cpu& cpu_;
  std::vector<uint32_t> free_;  // a stack: the top is the next frame handed out
  uint64_t in_use_ = 0, peak_ = 0, total_ = 0;
};

}  // namespace vs::container_sim

// Physical memory as the kernel model hands it out: 4 KiB frames of the
// emulated RAM, one free list, every frame zeroed before use. The page
// tables the MMU walks and the pages user code touches all live in these
// frames, so what a process costs in memory is a count of frames.
//
// The memory cgroup charges here (cgroup_memory.h; docs/container-sim/
// cgroup-memory.md): alloc() and release() are the only doors, so every
// frame an address space takes — its pages and its page tables — is
// charged to a cgroup on the way out and uncharged on the way back. The
// owner is remembered per frame (Linux's page->memcg_data), so the uncharge
// hits the cgroup that was charged even after the process migrated or the
// cgroup was removed. Before a charge the kernel may reclaim or OOM-kill
// to make room (MemoryCharger, memory_pressure.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "cgroup_memory.h"

namespace vs::cpu {
class Cpu;
}

namespace vs::container_sim {

constexpr uint32_t kPageSize = 4096;

class AddressSpace;

// The kernel's side of a charge (memory_pressure.cpp).
class MemoryCharger {
 public:
  virtual ~MemoryCharger() = default;
  // Before one more frame is charged to `memcg` for `space`: bring every
  // cgroup from memcg up under its memory.max (reclaim, then the memcg OOM
  // killer). False: the allocation fails (the faulting process has been
  // chosen as the victim, or nothing could be freed).
  virtual bool make_room(Cgroup& memcg, AddressSpace& space) = 0;
  // After the charge: memory.high (reclaim, the throttle; never a kill).
  virtual void charged(Cgroup& memcg, AddressSpace& space) = 0;
  // A frame charged to `memcg` went back (events only).
  virtual void uncharged(Cgroup& memcg) = 0;
  // The cgroup a new address space charges its frames to.
  virtual std::shared_ptr<Cgroup> new_space_owner() = 0;
};

// What the kernel knows about a frame in use.
struct FrameInfo {
  std::shared_ptr<Cgroup> memcg;  // charged to (keeps a removed cgroup alive, as a page pins its memcg)
  AddressSpace* space = nullptr;  // the space it belongs to
  uint32_t va = 0;                // a page: where it is mapped
  uint32_t pte = 0;               // a page: the physical address of the PTE that maps it (0: none yet)
  uint64_t mapped_at = 0;         // virtual time (instructions) it was handed out
  MemUse use = kUseAnon;
  bool in_use = false;
};

class Frames {
 public:
  // Frames from `first` (page-aligned) to the end of `ram`, handed out lowest first.
  Frames(uint8_t* ram, uint32_t ram_bytes, uint32_t first, cpu::Cpu& cpu);

  // A zeroed frame's physical address, charged to `memcg` (when not null)
  // as `use`, or 0 when memory is exhausted or the cgroup has no room.
  uint32_t alloc(const std::shared_ptr<Cgroup>& memcg, MemUse use, AddressSpace* space, uint32_t va = 0);
  void release(uint32_t phys);  // uncharged from the cgroup it was charged to

  FrameInfo& info(uint32_t phys) { return info_[phys / kPageSize]; }
  // Moves a charged frame to another memory.stat kind (the charge stays).
  void set_use(uint32_t phys, MemUse use) const;
  // File pages the MMU has since written (D set in their PTE) hold anonymous
  // data now (Linux would have copied them on write): recounted as anon.
  // Run before memory.stat is read and before reclaim picks pages.
  // (const: the accounting only catches up with what the MMU already did.)
  void notice_dirty() const;
  // How many frame numbers there are (info() of k * kPageSize for k below it): reclaim's clock face.
  uint32_t frame_count() const { return uint32_t(info_.size()); }

  uint8_t* host(uint32_t phys) { return ram_ + phys; }
  // The kernel wrote [phys, phys + n) behind the CPU's back: drop code the
  // CPU decoded from it (Cpu::invalidate_code).
  void written(uint32_t phys, uint32_t n);
  uint64_t now() const;  // virtual time, for FrameInfo::mapped_at

  void set_charger(MemoryCharger* c) { charger_ = c; }
  MemoryCharger* charger() const { return charger_; }

  uint64_t in_use() const { return in_use_; }
  uint64_t peak() const { return peak_; }
  uint64_t total() const { return total_; }
  uint64_t demand_zero = 0;  // pages zeroed and mapped because a region was touched (AddressSpace::fault)
  uint64_t major_faults = 0;  // reclaimed image pages read back from the executable
  uint64_t reclaimed = 0;     // pages reclaim freed (all cgroups)

 private:
  uint8_t* ram_;
  cpu::Cpu& cpu_;
  MemoryCharger* charger_ = nullptr;
  std::vector<uint32_t> free_;  // a stack: the top is the next frame handed out
  mutable std::vector<FrameInfo> info_;  // by frame number (phys / kPageSize)
  uint64_t in_use_ = 0, peak_ = 0, total_ = 0;
};

}  // namespace vs::container_sim

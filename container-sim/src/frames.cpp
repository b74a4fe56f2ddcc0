#include "frames.h"

#include <cstring>

#include "cgroup.h"
#include "virtscope/cpu/cpu.h"
#include "virtscope/mmu/paging.h"

namespace vs::container_sim {

Frames::Frames(uint8_t* ram, uint32_t ram_bytes, uint32_t first, cpu::Cpu& cpu) : ram_(ram), cpu_(cpu) {
  for (uint32_t phys = ram_bytes & ~(kPageSize - 1); phys > first;) {
    phys -= kPageSize;
    free_.push_back(phys);  // pushed highest first: the lowest frame is on top
  }
  total_ = free_.size();
  info_.resize(ram_bytes / kPageSize);
}

uint32_t Frames::alloc(const std::shared_ptr<Cgroup>& memcg, MemUse use, AddressSpace* space, uint32_t va) {
  if (free_.empty()) return 0;
  // mem_cgroup_charge(): room under memory.max first (this may reclaim or
  // OOM-kill, which gives frames back), then the frame.
  if (memcg && charger_ && space && !charger_->make_room(*memcg, *space)) return 0;
  if (free_.empty()) return 0;
  const uint32_t phys = free_.back();
  free_.pop_back();
  std::memset(ram_ + phys, 0, kPageSize);
  // The frame may have held another process's code: the CPU must not run
  // blocks it decoded from the old bytes.
  cpu_.invalidate_code(phys, kPageSize);
  if (++in_use_ > peak_) peak_ = in_use_;
  info(phys) = FrameInfo{memcg, space, va, 0, now(), use, true};
  if (memcg) {
    memcg_account(*memcg, use, 1);
    if (charger_ && space) charger_->charged(*memcg, *space);
  }
  return phys;
}

void Frames::release(uint32_t phys) {
  FrameInfo& f = info(phys);
  if (f.memcg) {
    memcg_account(*f.memcg, f.use, -1);  // the cgroup charged, wherever the process is now
    if (charger_) charger_->uncharged(*f.memcg);
  }
  f = FrameInfo{};
  free_.push_back(phys);
  --in_use_;
}

void Frames::set_use(uint32_t phys, MemUse use) const {
  FrameInfo& f = info_[phys / kPageSize];
  if (f.use == use) return;
  if (f.memcg) {
    memcg_account(*f.memcg, f.use, -1);
    memcg_account(*f.memcg, use, 1);
  }
  f.use = use;
}

void Frames::notice_dirty() const {
  for (uint32_t i = 0; i < info_.size(); ++i) {
    const FrameInfo& f = info_[i];
    if (!f.in_use || f.use != kUseFile || !f.pte) continue;
    uint32_t entry;
    std::memcpy(&entry, ram_ + f.pte, 4);
    if (entry & mmu::entry::D) set_use(i * kPageSize, kUseAnon);
  }
}

void Frames::written(uint32_t phys, uint32_t n) { cpu_.invalidate_code(phys, n); }

uint64_t Frames::now() const { return cpu_.instructions(); }

}  // namespace vs::container_sim

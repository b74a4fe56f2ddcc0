// A VM's memory as its guest sees it, for the VMM: guest-physical addresses
// are a window of host RAM, [base, base + size), and guest-linear addresses
// go through the guest's own page tables (its virtual CR0/CR3/CR4), walked
// with the MMU library's side-effect-free walk (mmu::Mmu::walk).
#pragma once

#include <cstdint>

#include "virtscope/cpu/bus.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/vmm/vm_state.h"

namespace vs::vmm {

// Guest-physical space: host RAM from `base`, `size` bytes; nothing else.
class GuestPhysical final : public cpu::MemoryBus {
 public:
  GuestPhysical(uint8_t* host_ram, uint32_t base, uint32_t size);
  uint8_t* map_page(uint32_t gpa, bool for_write) override;  // beyond RAM: nullptr
  uint32_t read(uint32_t, unsigned size) override { return size == 4 ? ~0u : (1u << (8 * size)) - 1; }
  void write(uint32_t, unsigned, uint32_t) override {}
  uint32_t size() const { return size_; }
  bool contains(uint32_t gpa) const { return gpa < size_; }
  uint32_t base() const { return base_; }  // host-physical of guest-physical 0

 private:
  uint8_t* ram_;  // host RAM at host-physical 0
  uint32_t base_, size_;
};

// Guest-linear accesses made by the VMM on the guest's behalf (reading the
// instruction to emulate, the guest's IDT, GDT and TSS, pushing an interrupt
// frame). They use supervisor rights; a linear address the guest has not
// mapped fails.
class GuestLinear {
 public:
  GuestLinear(GuestPhysical& memory, trace::EventLog& log);

  // The guest walk for `linear` (no side effects). With guest paging off the
  // linear address is the guest-physical one.
  mmu::WalkResult walk(uint32_t linear, const GuestPaging& paging, mmu::AccessQuery query) const;
  // Sets A on every entry the walk used and D on the one that maps the page
  // for a write, as the processor would have (SDM Vol. 3A §4.8).
  void set_accessed_dirty(const mmu::WalkResult& walk, bool write);

  bool read(uint32_t linear, void* out, uint32_t n, const GuestPaging& paging) const;
  bool write(uint32_t linear, const void* in, uint32_t n, const GuestPaging& paging);
  bool read32(uint32_t linear, uint32_t& v, const GuestPaging& paging) const { return read(linear, &v, 4, paging); }

 private:
  uint8_t* host(uint32_t linear, const GuestPaging& paging, bool write) const;
  GuestPhysical& memory_;
  mutable mmu::Mmu walker_;
};

}  // namespace vs::vmm

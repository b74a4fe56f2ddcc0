// One process's address space: a real 32-bit page directory and page tables
// in emulated RAM (Intel SDM Vol. 3A §4.3, 4 KiB pages only), walked by the
// software MMU while the process runs, and by this class when the kernel
// reads or writes user memory on the process's behalf.
//
// The layout is the teaching kernel's (docs/kernel.md "Memory"), so one
// binary behaves the same under both kernels:
//
//   0x08000000  USER_BASE: the ELF image (mapped at exec), then the heap (brk)
//   0x40000000  MMAP_BASE: anonymous mmap regions, first fit
//   0xBF800000  the stack, 8 MiB, growing down from
//   0xC0000000  USER_TOP
//
// Below USER_BASE and from USER_TOP up nothing is mapped: the kernel model is
// C++ on the host, not code in the guest's address space, so unlike a real
// kernel it needs no mapping of itself in every directory.
//
// Heap, stack and mmap regions are demand-zero: a page gets a zeroed frame at
// the first touch (a #PF, or a user copy by the kernel). fork copies every
// present page eagerly (no copy-on-write, like the teaching kernel).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frames.h"

namespace vs::container_sim {

constexpr uint32_t kUserBase = 0x08000000u;
constexpr uint32_t kUserTop = 0xC0000000u;
constexpr uint32_t kStackMax = 8u << 20;
constexpr uint32_t kMmapBase = 0x40000000u;

constexpr uint32_t page_down(uint32_t a) { return a & ~(kPageSize - 1); }
constexpr uint32_t page_up(uint32_t a) { return (a + kPageSize - 1) & ~(kPageSize - 1); }

enum class RegionKind : uint8_t { Image, Mmap };
struct Region {
  uint32_t start = 0, end = 0;  // [start, end), page-aligned
  RegionKind kind = RegionKind::Mmap;
};

class AddressSpace {
 public:
  explicit AddressSpace(Frames& frames);
  ~AddressSpace();  // every frame goes back: pages, tables, the directory
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  bool ok() const { return directory_ != 0; }  // false: no frame for the directory
  uint64_t id = 0;  // unique per space for the kernel's life (a directory frame can be reused)
  uint32_t directory() const { return directory_; }  // what CR3 holds while this space runs
  uint32_t frames() const { return frames_owned_; }  // directory + tables + pages

  // --- regions and the break ---
  std::vector<Region> regions;
  uint32_t brk_base = 0, brk = 0;
  // Is `addr` inside the image, the heap, the stack or an mmap region?
  bool valid(uint32_t addr) const;
  // The lowest gap of `len` bytes from MMAP_BASE up between mmap regions, or 0.
  uint32_t mmap_gap(uint32_t len) const;

  // --- mappings ---
  // A zeroed page at `va` unless one is there; false when out of memory.
  bool map_zero(uint32_t va);
  // Unmaps and frees the pages of [start, end); returns how many were present.
  uint32_t unmap(uint32_t start, uint32_t end);
  // A user page fault at `va`: 0 = mapped (retry the access), -EFAULT =
  // outside every region, -ENOMEM = no frame.
  int fault(uint32_t va);
  // fork: this space becomes a copy of `parent` (pages copied now).
  bool copy_from(const AddressSpace& parent);

  // --- the kernel reading and writing user memory (-EFAULT on a bad pointer) ---
  // The range must lie in user space and in valid regions; demand-zero
  // pages are mapped first, so a bad pointer is -EFAULT, never a fault.
  int copy_in(void* dst, uint32_t va, uint32_t n);
  int copy_out(uint32_t va, const void* src, uint32_t n);
  // A NUL-terminated string of at most max - 1 characters; -E2BIG if longer.
  int copy_string(std::string& out, uint32_t va, uint32_t max);

 private:
  uint32_t* table_entry(uint32_t va, bool create);  // the PTE for va (host pointer), or null
  int user_range(uint32_t va, uint32_t n);
  uint32_t phys_of(uint32_t va);                    // of a present page

  Frames& frames_;
  uint32_t directory_ = 0;
  uint32_t frames_owned_ = 0;
};

}  // namespace vs::container_sim

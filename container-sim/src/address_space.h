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
//
// Memory cgroup (docs/container-sim/cgroup-memory.md): every frame the space
// takes — the directory, the tables, the pages — is charged to memcg(), the
// cgroup of the process that owns the space (set when the space is made,
// changed when the process migrates; frames already taken stay where they
// were charged). Image pages that still hold the executable's bytes are
// *file* pages: reclaim may drop a clean one (evict) and the next touch
// reads it back from the executable (a major fault). When the image is
// loaded its pages' bytes are kept as the space's backing copy of the file
// (`image_`, shared with forked children), standing in for the page cache
// and the disk behind it. Everything else is anonymous memory and, with no
// swap, cannot be reclaimed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
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

  // --- memory cgroup (memory_pressure.cpp drives these) ---
  const std::shared_ptr<Cgroup>& memcg() const { return memcg_; }
  void set_memcg(std::shared_ptr<Cgroup> cg) { memcg_ = std::move(cg); }  // the owner migrated
  // Reclaim: drops the page at `va` if it is a clean file page (re-read on
  // the next touch); a file page found written becomes anonymous. True if freed.
  bool evict(uint32_t va);
  // The accessed bit of the page at `va`, cleared (reclaim's second chance).
  bool test_and_clear_accessed(uint32_t va);
  // A kernel copy or fork is reading or writing this space's pages: reclaim
  // must leave them alone until it ends (get_user_pages() pins them too).
  bool pinned() const { return pinned_ > 0; }
  bool in_cpu_fault() const { return in_cpu_fault_; }  // inside fault(), called for a #PF of the CPU
  // The instruction at `eip` faults (the kernel tells, from the CPU's
  // state). The pages its faults bring in stay out of reclaim's reach until
  // a fault comes from another instruction: it has run by then. Without
  // this, an instruction that needs two pages could lose each to the
  // other's fault for ever.
  void faulting_instruction(uint32_t eip);
  bool needed_by_faulting_instruction(uint32_t va) const;
  uint32_t high_pages = 0;  // pages charged above memory.high since the last throttle
  bool throttled = false;   // held back by memory.high (memory_pressure.cpp)

  // --- the kernel reading and writing user memory (-EFAULT on a bad pointer) ---
  // The range must lie in user space and in valid regions; demand-zero
  // pages are mapped first, so a bad pointer is -EFAULT, never a fault.
  int copy_in(void* dst, uint32_t va, uint32_t n);
  int copy_out(uint32_t va, const void* src, uint32_t n);
  // A NUL-terminated string of at most max - 1 characters; -E2BIG if longer.
  int copy_string(std::string& out, uint32_t va, uint32_t max);
  // A path argument (path_resolution(7)): at most PATH_MAX (4096) bytes
  // with its NUL, else -ENAMETOOLONG. 0 or -errno.
  int copy_path(std::string& out, uint32_t va);

 private:
  uint32_t* table_entry(uint32_t va, bool create);  // the PTE for va (host pointer), or null
  int user_range(uint32_t va, uint32_t n);
  uint32_t phys_of(uint32_t va);                    // of a present page
  int fault_in(uint32_t va);                        // fault()'s work, for the CPU and for kernel copies
  // A new frame of kind `use` at `va` (zeroed, or a copy of `bytes`); false when out of memory.
  bool map_new(uint32_t va, MemUse use, const uint8_t* bytes, uint32_t flags);
  uint32_t pte_phys(const uint32_t* pte) { return uint32_t(reinterpret_cast<const uint8_t*>(pte) - frames_.host(0)); }
  // The image is loaded (the first touch outside it, by build_stack): its
  // pages become file pages and their bytes the backing copy.
  void seal_image();

  Frames& frames_;
  uint32_t directory_ = 0;
  uint32_t frames_owned_ = 0;
  std::shared_ptr<Cgroup> memcg_;
  std::shared_ptr<const std::map<uint32_t, std::vector<uint8_t>>> image_;  // page address -> the file's bytes
  bool sealed_ = false;
  uint32_t pinned_ = 0;
  bool in_cpu_fault_ = false;
  uint32_t fault_eip_ = 0;           // the instruction the last CPU faults came from
  uint32_t fault_pages_[8] = {};     // pages they brought in (an instruction touches at most a few)
  uint32_t fault_count_ = 0;
  friend struct Pin;
};

}  // namespace vs::container_sim

// The pv VMM's page-frame types (Barham et al. 2003 §3.3; Xen's
// page_info type and counts): every machine frame of the domain is plain
// memory, a pinned page table (L1) or a pinned page directory (L2). A frame
// becomes a table only if nothing maps it writable, and while it is one no
// entry may map it writable: so the guest reads its tables directly but
// changes them only through mmu_update, which this class validates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vs::vmm {

class FrameTable {
 public:
  enum class Type : uint8_t { Writable, L1, L2 };
  // The domain's machine frames: [base, base + bytes) of host RAM at `ram`.
  FrameTable(uint8_t* ram, uint32_t base, uint32_t bytes, uint32_t hypervisor_pde);

  // Each returns 0 or a negative errno (EINVAL, EPERM, EBUSY) with
  // error() saying why in one line.
  int pin(uint32_t machine, Type type);
  int unpin(uint32_t machine, uint32_t loaded_directory);
  int update(uint32_t entry_machine, uint32_t value);  // one mmu_update request
  bool is(uint32_t machine, Type type) const;
  const std::string& error() const { return error_; }

  static constexpr unsigned kHypervisorSlot = 1023;  // directory entry of the top 4 MiB

 private:
  struct Frame {
    Type type = Type::Writable;
    uint32_t writable_maps = 0;   // writable entries in pinned L1s that map this frame
    uint32_t directory_refs = 0;  // entries in pinned L2s that point to this L1
  };
  Frame* frame(uint32_t machine);
  uint32_t* entries(uint32_t machine) { return reinterpret_cast<uint32_t*>(ram_ + (machine & ~0xFFFu)); }
  int check_entry(Type table, uint32_t self, unsigned index, uint32_t value);
  void reference(Type table, uint32_t value, int delta);
  int fail(int err, std::string why);

  uint8_t* ram_;
  uint32_t base_, bytes_;
  uint32_t hypervisor_pde_;
  std::vector<Frame> frames_;
  std::string error_;
};

}  // namespace vs::vmm

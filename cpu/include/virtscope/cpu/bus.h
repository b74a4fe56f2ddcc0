// The CPU's view of the outside world: a physical-memory bus and a port-I/O
// bus, plus the linear-to-physical translation hook that paging plugs into.
// The platform (devices/, mmu/) implements these; a flat RAM and an empty port
// space (FlatMemory, NullIo) are enough for the CPU's own tests.
#pragma once

#include <cstdint>
#include <vector>

namespace vs::cpu {

// Physical memory. RAM (and ROM) pages are reached through host pointers so
// the interpreter's fast path never makes a virtual call; everything else
// (MMIO, unmapped) goes through read/write.
class MemoryBus {
 public:
  virtual ~MemoryBus() = default;
  // Host pointer to the 4 KiB physical page containing `phys`, or nullptr if
  // that page is not plain memory. `for_write` asks for a writable page: ROM
  // returns nullptr then, so writes to it reach write() and are dropped there.
  // Pages in the plain-RAM window are answered here without a virtual call
  // (every TLB miss asks several times: the walk's entries, the CPU's fill).
  uint8_t* host_page(uint32_t phys, bool for_write) {
    if (phys - plain_first_ < plain_size_) return plain_base_ + (phys & ~0xFFFu);
    return map_page(phys, for_write);
  }
  // host_page() for pages outside the window.
  virtual uint8_t* map_page(uint32_t phys, bool for_write) = 0;
  // Slow path for anything host_page() refused. size is 1, 2 or 4 and the
  // access never crosses a 4 KiB page (the CPU splits it).
  virtual uint32_t read(uint32_t phys, unsigned size) = 0;
  virtual void write(uint32_t phys, unsigned size, uint32_t value) = 0;
  // Side-effect-free read for debuggers and the UI (never acknowledges anything).
  virtual uint32_t peek(uint32_t phys, unsigned size) { return read(phys, size); }

 protected:
  // Declares [first, first + size) plain, writable RAM whose page `p` is at
  // base + p: host_page() answers it directly. Both 4 KiB aligned; the
  // implementation shrinks the window whenever an overlay would cover part
  // of it. Size 0 (the default) sends every page to map_page().
  void set_plain_window(uint8_t* base, uint32_t first, uint32_t size) {
    plain_base_ = base;
    plain_first_ = first;
    plain_size_ = size;
  }

 private:
  uint8_t* plain_base_ = nullptr;
  uint32_t plain_first_ = 0;
  uint32_t plain_size_ = 0;
};

// Port I/O (SDM Vol. 1 §19). size is 1, 2 or 4.
class IoBus {
 public:
  virtual ~IoBus() = default;
  virtual uint32_t in(uint16_t port, unsigned size) = 0;
  virtual void out(uint16_t port, unsigned size, uint32_t value) = 0;
};

// What a memory access is for; paging (mmu/) needs it for the #PF error code.
enum class Access : uint8_t { Read, Write, Execute };

// Linear-to-physical translation. With paging off it is the identity; the MMU
// (issue: platform) implements it with page walks, a TLB model and #PF.
struct Translation {
  uint32_t phys = 0;
  bool fault = false;        // a #PF: the CPU raises it with error_code and CR2
  uint32_t error_code = 0;   // SDM Vol. 3 §4.7, Figure 4-12
  bool cacheable = true;     // false: the CPU must not keep this mapping in its own TLB
  // A write to this page by the same privilege would succeed and change
  // nothing in the paging structures (writable, dirty already set): the CPU
  // may then allow writes from its own TLB after a read translation.
  bool write_ok = false;
  // Nested paging (VMX non-root, docs/hvm-hardware.md): the second stage
  // refused a guest-physical address. The CPU turns this into an EPT-violation
  // VM exit, never a #PF. Then `phys` holds the guest-physical address refused
  // and `error_code` the exit qualification (vmx.h exit_qual::kEpt*): the
  // record stays 16 bytes, returned in registers on every TLB miss.
  bool nested_fault = false;
};

class Translator {
 public:
  virtual ~Translator() = default;
  // `user` is true for CPL 3 accesses (not for implicit supervisor accesses
  // such as descriptor-table reads). cr0/cr3/cr4 come from the CPU.
  virtual Translation translate(uint32_t linear, Access access, bool user,
                                uint32_t cr0, uint32_t cr3, uint32_t cr4) = 0;
  // INVLPG and CR3/CR0/CR4 writes, so the MMU's TLB model sees them.
  virtual void invalidate_page(uint32_t linear) {}
  virtual void flush(bool including_global) {}
};

// Plain RAM at physical 0 with nothing else: the CPU tests' memory.
class FlatMemory final : public MemoryBus {
 public:
  // The size is rounded up to whole 4 KiB pages.
  explicit FlatMemory(uint32_t size) : bytes_((uint64_t(size) + 0xFFF) & ~uint64_t(0xFFF), 0) {
    set_plain_window(bytes_.data(), 0, uint32_t(bytes_.size()));
  }
  uint8_t* map_page(uint32_t phys, bool) override {
    return phys < bytes_.size() ? bytes_.data() + (phys & ~0xFFFu) : nullptr;
  }
  uint32_t read(uint32_t, unsigned) override { return 0xFFFFFFFF; }  // open bus
  void write(uint32_t, unsigned, uint32_t) override {}
  uint8_t* data() { return bytes_.data(); }
  uint32_t size() const { return uint32_t(bytes_.size()); }

 private:
  std::vector<uint8_t> bytes_;
};

// No devices: reads float high, writes vanish.
class NullIo final : public IoBus {
 public:
  uint32_t in(uint16_t, unsigned size) override { return size == 4 ? 0xFFFFFFFF : (1u << (8 * size)) - 1; }
  void out(uint16_t, unsigned, uint32_t) override {}
};

}  // namespace vs::cpu

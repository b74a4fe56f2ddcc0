// A flat RAM with hand-built 32-bit page tables and an MMU over it, for the
// MMU unit tests. The page directory is at kDir; the page table for
// directory slot i is at kTables + i * 4 KiB.
#pragma once

#include <cstdint>
#include <cstring>

#include "virtscope/cpu/bus.h"
#include "virtscope/cpu/state.h"
#include "virtscope/mmu/mmu.h"
#include "virtscope/trace/event.h"

namespace vs::mmu::testing {

using cpu::Access;
namespace e = entry;

constexpr uint32_t kDir = 0x1000;
constexpr uint32_t kTables = 0x100000;  // 1 MiB .. 2 MiB holds all 1024 possible tables
constexpr uint32_t kPg = cpu::cr0::PG | cpu::cr0::PE;
constexpr uint32_t kWp = cpu::cr0::WP;
constexpr uint32_t kPse = cpu::cr4::PSE, kPge = cpu::cr4::PGE;

struct Paging {
  explicit Paging(unsigned tlb_entries = 64)
      : mmu(ram, log, [this] { return icount; }, MmuConfig{tlb_entries}) {}

  cpu::FlatMemory ram{4u << 20};
  trace::EventLog log;
  uint64_t icount = 0;
  Mmu mmu;
  uint32_t cr0 = kPg, cr3 = kDir, cr4 = kPse | kPge;

  uint32_t get(uint32_t phys) {
    uint32_t v;
    std::memcpy(&v, ram.data() + phys, 4);
    return v;
  }
  void put(uint32_t phys, uint32_t v) { std::memcpy(ram.data() + phys, &v, 4); }

  static uint32_t pde_address(uint32_t lin) { return kDir + (lin >> 22) * 4; }
  static uint32_t table_of(uint32_t lin) { return kTables + (lin >> 22) * 0x1000; }
  static uint32_t pte_address(uint32_t lin) { return table_of(lin) + ((lin >> 12) & 0x3FF) * 4; }

  uint32_t pde(uint32_t lin) { return get(pde_address(lin)); }
  uint32_t pte(uint32_t lin) { return get(pte_address(lin)); }

  // A 4 KiB mapping; the PDE gets `pde_flags` (present is added to neither).
  void map(uint32_t lin, uint32_t phys, uint32_t pte_flags, uint32_t pde_flags = e::P | e::RW | e::US) {
    put(pde_address(lin), table_of(lin) | pde_flags);
    put(pte_address(lin), (phys & e::kFrame) | pte_flags);
  }
  // A 4 MiB mapping (PS is added).
  void map_large(uint32_t lin, uint32_t phys, uint32_t flags) {
    put(pde_address(lin), (phys & e::kFrameLarge) | e::PS | flags);
  }

  cpu::Translation tr(uint32_t lin, Access a = Access::Read, bool user = false) {
    return mmu.translate(lin, a, user, cr0, cr3, cr4);
  }
  // The error code of a faulting access, or -1 if it did not fault.
  int64_t fault(uint32_t lin, Access a = Access::Read, bool user = false) {
    const cpu::Translation t = tr(lin, a, user);
    return t.fault ? int64_t(t.error_code) : -1;
  }
};

}  // namespace vs::mmu::testing

// `compare` (DESIGN.md §5): one workload of guest/user, run on the teaching
// kernel in each virtualization mode, measured the same way: guest
// instructions, VMM exits by reason, hypercalls, system calls, page faults
// (guest and hidden), shadow syncs and modelled cycles. Every figure here
// comes from virtual time and the event stream, so the same workload gives
// the same row on every run; host seconds are the caller's to measure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "virtscope/vmm/cost_model.h"
#include "virtscope/vmm/machine.h"

namespace vs::vmm {

enum class Mode : uint8_t { Native, Trap, Bt, Pv, Hvm, HvmShadow, Kvm, Container };

struct ModeInfo {
  Mode mode;
  const char* name;     // as on the command line
  const char* summary;  // one line for students
};
const std::vector<ModeInfo>& all_modes();
std::optional<Mode> mode_from_name(std::string_view name);
const char* mode_name(Mode);

struct Workload {
  std::string kernel;              // the teaching kernel (vs_kernel.elf)
  std::string kernel_pv;           // its paravirtual build (vs_kernel_pv.elf), for pv
  std::string initrd;              // its initrd (initrd.cpio)
  std::vector<std::string> argv;   // e.g. {"cpu", "1000000"}
  uint32_t ram_bytes = 64u << 20;
  // Model the VMMs as hosted (type-2): every I/O request takes the hop
  // through the host kernel to a user-space device model. native and pv
  // (a bare-metal design) run as they are.
  bool hosted = false;
  uint64_t max_instructions = 20'000'000'000ull;
};

struct ModeResult {
  Mode mode = Mode::Native;
  // Why this mode could not run here ("" when it ran).
  std::string unavailable;
  MachineStop stop = MachineStop::Budget;
  int exit_status = -1;            // isa-debug-exit status: (pid 1's status << 1) | 1
  std::string console;             // everything the guest printed after the kernel's banner
  uint64_t instructions = 0;       // guest instructions retired
  std::map<std::string, uint64_t> exits;  // VMM exits (traps) by reason
  uint64_t hypercalls = 0;
  uint64_t syscalls = 0;           // int 0x80 from user mode
  uint64_t guest_page_faults = 0;  // #PF the guest kernel handled
  uint64_t hidden_page_faults = 0; // #PF the VMM handled itself
  uint64_t shadow_syncs = 0;
  uint64_t io_requests = 0;        // I/O requests the VM's device models served
  uint64_t nested_references = 0;  // nested-table entries read by two-dimensional walks (hvm)
  int io_path = 0;                 // their path (IoRequest events): 1 guest -> VMM, 2 ... -> host kernel -> device model
  uint64_t modelled_cycles = 0;

  bool ran() const { return unavailable.empty(); }
  uint64_t total_exits() const;
  uint64_t exit_count(const std::string& reason) const;  // 0 when none of that reason
};

// The disk every compare run has (for the `disk N` workload): 2048
// sectors (1 MiB), byte i = (i / 512 * 7 + i % 512 * 3 + 1) mod 256.
std::vector<uint8_t> compare_disk_image();

// Runs `w` in `mode`. A mode that cannot run (not built yet, or the host
// lacks what it needs) comes back with `unavailable` saying why.
ModeResult run_workload(Mode mode, const Workload& w, const CostModel& costs);

}  // namespace vs::vmm

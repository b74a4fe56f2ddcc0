#include "virtscope/vmm/compare.h"

#include <memory>

#include "trap/trap_monitor.h"
#include "virtscope/mmu/mmu.h"

namespace vs::vmm {

namespace {

// The vector of Linux's i386 system-call gate (`int $0x80`).
constexpr uint32_t kSyscallVector = 0x80;

}  // namespace

const std::vector<ModeInfo>& all_modes() {
  static const std::vector<ModeInfo> modes = {
      {Mode::Native, "native", "no VMM: the teaching kernel at ring 0 on the bare emulated PC"},
      {Mode::Trap, "trap", "trap-and-emulate: the unmodified kernel deprivileged to ring 1, shadow page tables"},
      {Mode::Bt, "bt", "trap-and-emulate plus binary translation of guest kernel code"},
      {Mode::Pv, "pv", "paravirtualization: the kernel's privileged operations become hypercalls"},
      {Mode::Hvm, "hvm", "simulated VT-x: non-root mode, exits by reason, nested paging"},
      {Mode::HvmShadow, "hvm-shadow", "simulated VT-x with shadow paging instead of nested paging"},
      {Mode::Kvm, "kvm", "the host's real /dev/kvm"},
      {Mode::Container, "container", "no guest kernel: container-sim serves the workload's system calls"},
  };
  return modes;
}

std::optional<Mode> mode_from_name(std::string_view name) {
  for (const ModeInfo& m : all_modes())
    if (name == m.name) return m.mode;
  return std::nullopt;
}

const char* mode_name(Mode mode) {
  for (const ModeInfo& m : all_modes())
    if (m.mode == mode) return m.name;
  return "?";
}

uint64_t ModeResult::exit_count(const std::string& reason) const {
  const auto it = exits.find(reason);
  return it == exits.end() ? 0 : it->second;
}

uint64_t ModeResult::total_exits() const {
  uint64_t n = 0;
  for (const auto& [reason, count] : exits) n += count;
  return n;
}

namespace {

// The kernel's command line: `run=PROGRAM ARGS...` (docs/kernel.md).
std::string command_line(const Workload& w) {
  std::string line = "run=";
  for (size_t i = 0; i < w.argv.size(); ++i) line += (i ? " " : "") + w.argv[i];
  return line;
}

// What a VMM adds to the guest's own instructions, by the cost model.
uint64_t vmm_cycles(Mode mode, const TrapStats& t, bool hosted, const CostModel& costs) {
  uint64_t exits = 0, hw_exits = 0;  // hw_exits: hardware exits costed by reason (hvm, hvm-shadow, kvm)
  for (const auto& [reason, count] : t.exits) {
    exits += count;
    hw_exits += count * costs.exit_cycles(exit_reason_name(reason));
  }
  // A hosted VMM's I/O request also crosses into the host kernel and its
  // user-space device model and back (docs/compare.md).
  const uint64_t io_hops = hosted ? t.io_requests * costs.cycles("hw_exit_to_user") : 0;
  switch (mode) {
    case Mode::Hvm:
    case Mode::Kvm: return hw_exits + io_hops;
    case Mode::HvmShadow:
      // A traced PTE write is charged as Adams & Agesen measured it, its
      // #PF and #DB exits included.
      return hw_exits - 2 * t.traced_writes * costs.exit_cycles("EXCEPTION_NMI") +
             t.traced_writes * costs.cycles("shadow_sync_hw") + io_hops;
    case Mode::Pv:  // no emulation, no shadow: a bounce through the VMM or a hypercall
      return exits * costs.cycles("trap") + t.total_hypercalls() * costs.cycles("hypercall");
    default:  // trap, bt: a binary-translation call-out replaces a trap by an in-line call
      return (exits - t.callouts) * costs.cycles("trap") + t.callouts * costs.cycles("bt_callout") +
             t.emulated * costs.cycles("emulate") + t.hidden_page_faults * costs.cycles("hidden_fault") +
             t.translated * costs.cycles("bt_translate") + t.traced_writes * costs.cycles("shadow_sync_bt") + io_hops;
  }
}

// Native and the VMM modes share the run: the same kernel, command line and
// counting; a VMM mode adds its exits and its costs.
ModeResult run_machine(Mode mode, const Workload& w, const CostModel& costs) {
  ModeResult r;
  r.mode = mode;
  MachineConfig c;
  if (mode == Mode::Trap) c.vmm = MachineConfig::Vmm::Trap;
  if (mode == Mode::Bt) c.vmm = MachineConfig::Vmm::Bt;
  if (mode == Mode::Hvm) c.vmm = MachineConfig::Vmm::Hvm;
  if (mode == Mode::HvmShadow) c.vmm = MachineConfig::Vmm::HvmShadow;
  if (mode == Mode::Pv) c.vmm = MachineConfig::Vmm::Pv;
  if (mode == Mode::Kvm) c.vmm = MachineConfig::Vmm::Kvm;
  c.ram_bytes = w.ram_bytes;
  c.hosted = w.hosted && mode != Mode::Native && mode != Mode::Pv;
  c.kernel = mode == Mode::Pv ? w.kernel_pv : w.kernel;
  if (c.kernel.empty()) {
    r.unavailable = "no paravirtual kernel given (vs_kernel_pv.elf)";
    return r;
  }
  c.kernel_name = "vs_kernel.elf";
  c.initrd = {w.initrd};
  c.append = command_line(w);
  c.debug_exit = true;
  c.disk_image = compare_disk_image();
  std::string* console = &r.console;
  c.serial_out[0] = [console](uint8_t b) { console->push_back(char(b)); };
  std::string error;
  std::unique_ptr<Machine> m = Machine::create(c, error);
  if (!m) {
    r.unavailable = error;
    return r;
  }
  m->log().subscribe(trace::KindSet::of({trace::EventKind::Interrupt, trace::EventKind::PageFault}),
                     [&r](const trace::Event& e) {
                       if (e.kind == trace::EventKind::PageFault) ++r.guest_page_faults;
                       // Interrupt fields: vector, source (1 = software INT n).
                       else if (e.arg[0] == kSyscallVector && e.arg[1] == 1) ++r.syscalls;
                     });
  r.stop = m->run(w.max_instructions);
  r.exit_status = m->exit_status();
  r.instructions = m->instructions();
  r.modelled_cycles = r.instructions * costs.cycles("instruction");
  if (const TrapStats* t = m->trap_stats()) {
    // Under the trap VMM the guest's #PF and system calls are reflected
    // events (the CPU's own PageFault events are the shadow's faults).
    // Under hvm the guest takes its own faults and calls natively; under
    // hvm-shadow the VMM tells its hidden faults from the guest's and counts
    // the calls once when the shadow interrupted their delivery.
    if (mode != Mode::Hvm) {
      r.guest_page_faults = t->guest_page_faults;
      r.hidden_page_faults = t->hidden_page_faults;
      r.syscalls = t->syscalls;
      r.shadow_syncs = t->shadow_syncs;
    }
    for (const auto& [reason, count] : t->exits) r.exits[exit_reason_name(reason)] = count;
    r.hypercalls = t->total_hypercalls();
    r.io_requests = t->io_requests;
    r.io_path = c.hosted || mode == Mode::Kvm ? 2 : 1;
    r.modelled_cycles += vmm_cycles(mode, *t, c.hosted || mode == Mode::Kvm, costs);
    // Nested paging's price: the second dimension of every TLB miss's walk.
    r.nested_references = m->mmu_stats().nested_walk_references;
    r.modelled_cycles += r.nested_references * costs.cycles("nested_walk_ref");
  }
  if (r.stop == MachineStop::Unsupported && m->unsupported()) r.unavailable = m->unsupported();
  // The banner is the kernel's own line (it names the RAM size); what
  // follows is the workload's.
  if (const size_t nl = r.console.find('\n'); nl != std::string::npos) r.console.erase(0, nl + 1);
  return r;
}

}  // namespace

std::vector<uint8_t> compare_disk_image() {
  std::vector<uint8_t> image(2048 * 512);
  for (size_t i = 0; i < image.size(); ++i) image[i] = uint8_t(i / 512 * 7 + i % 512 * 3 + 1);
  return image;
}

ModeResult run_workload(Mode mode, const Workload& w, const CostModel& costs) {
  switch (mode) {
    case Mode::Native:
    case Mode::Trap:
    case Mode::Bt:
    case Mode::Pv:
    case Mode::Kvm:
    case Mode::Hvm:
    case Mode::HvmShadow: return run_machine(mode, w, costs);
    case Mode::Container: {
      ModeResult r;
      r.mode = mode;
      r.unavailable = "container mode runs in container-sim: call container_sim::run_workload (container-sim links vmm, not the other way round)";
      return r;
    }
    default: {
      ModeResult r;
      r.mode = mode;
      r.unavailable = std::string("the ") + mode_name(mode) + " VMM is not built yet (issue 5 is in progress)";
      return r;
    }
  }
}

}  // namespace vs::vmm

#include "virtscope/container_sim/compare.h"

#include "virtscope/container_sim/container_host.h"

namespace vs::container_sim {

vmm::ModeResult run_workload(const vmm::Workload& w, const vmm::CostModel& costs) {
  vmm::ModeResult r;
  r.mode = vmm::Mode::Container;
  HostConfig config;
  config.ram_bytes = w.ram_bytes;
  ContainerHost host(config);
  std::string error;
  if (!host.add_initrd(w.initrd, error)) {
    r.unavailable = error;
    return r;
  }
  // The machine's disk (the `disk N` workload reads it): the teaching
  // kernel reaches it through its ATA driver at /dev/disk; here the same
  // bytes are the block device /dev/disk (8:0, blockdev.h).
  if (!host.set_disk(vmm::compare_disk_image(), error)) {
    r.unavailable = error;
    return r;
  }
  std::string* console = &r.console;
  host.set_console([console](std::string_view s) { console->append(s); });
  host.close_input();  // no input: a read of the console is end of file, never a hang
  const uint32_t pid = host.spawn(w.argv, error);
  if (!pid) {
    r.unavailable = "cannot run " + (w.argv.empty() ? std::string("nothing") : w.argv[0]) + ": " + error;
    return r;
  }
  const HostStop stop = host.run(w.max_instructions);
  r.stop = stop == HostStop::AllExited ? vmm::MachineStop::GuestExit
           : stop == HostStop::Idle    ? vmm::MachineStop::Idle
           : stop == HostStop::Budget  ? vmm::MachineStop::Budget
                                       : vmm::MachineStop::Requested;
  if (const std::optional<int> status = host.exit_status(pid)) {
    // The teaching kernel powers off with pid 1's exit code, or 128 + the signal.
    const int code = (*status & 0x7F) ? 128 + (*status & 0x7F) : (*status >> 8) & 0xFF;
    r.exit_status = (code << 1) | 1;
  }
  const HostCounters& c = host.counters();
  r.instructions = c.instructions;
  r.syscalls = c.syscalls;
  r.guest_page_faults = c.page_faults;
  // The shared kernel is C++ here, not emulated: its work is charged per
  // system call and per fault, at the teaching kernel's own measured cost,
  // so this row and native's price the kernel's work alike.
  const uint64_t intercept = costs.cycles("container_intercept");
  r.modelled_cycles = r.instructions * costs.cycles("instruction") +
                      r.syscalls * (costs.cycles("kernel_syscall") + intercept) +
                      r.guest_page_faults * (costs.cycles("kernel_page_fault") + intercept);
  return r;
}

}  // namespace vs::container_sim

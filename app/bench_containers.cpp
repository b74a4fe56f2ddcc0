// `virtscope bench containers` (docs/container-sim.md "Density"): N
// containers started together on one emulated machine against one VM
// booting the teaching kernel, each up to the same shell prompt. Every
// figure is virtual (instructions, frames), so the table is the same on
// every run; host seconds are the one exception and are shown apart.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "bare_machine.h"
#include "options.h"
#include "virtscope/container_sim/density.h"
#include "virtscope/vmm/machine.h"

namespace vs::app {

int run_bench_containers(int argc, char** argv) {
  uint32_t count = 100, vm_ram = 16u << 20;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--count" && i + 1 < argc) {
      const std::optional<uint64_t> n = parse_count(argv[++i]);
      if (!n || *n == 0 || *n > 1000) return report_usage_error("bench containers", "--count is 1..1000", "");
      count = uint32_t(*n);
    } else if (a == "--vm-ram" && i + 1 < argc) {
      const std::optional<uint32_t> m = parse_memory_size(argv[++i]);
      if (!m) return report_usage_error("bench containers", "--vm-ram wants a size such as 16M", "");
      vm_ram = *m;
    } else {
      std::fprintf(stderr, "usage: virtscope bench containers [--count N] [--vm-ram SIZE]\n");
      return 2;
    }
  }
  const std::string sh_path = beside_this_program("guest/user/user_sh.elf");
  std::ifstream in(sh_path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "virtscope bench containers: cannot read %s (build the project)\n", sh_path.c_str());
    return 1;
  }
  const std::vector<uint8_t> sh{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};

  container_sim::DensityFigures c;
  std::string error;
  const auto t0 = std::chrono::steady_clock::now();
  // RAM enough for page tables and pages of every shell (about 40 KiB each).
  const uint32_t ram = std::max<uint32_t>(64u << 20, count * (256u << 10));
  if (!container_sim::measure_container_density(count, sh, ram, c, error)) {
    std::fprintf(stderr, "virtscope bench containers: %s\n", error.c_str());
    return 1;
  }
  const double container_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // One VM: the teaching kernel boots and starts the same shell; the
  // machine stops when the shell's prompt appears on the serial console.
  vmm::MachineConfig mc;
  mc.ram_bytes = vm_ram;
  mc.kernel = beside_this_program("guest/kernel/vs_kernel.elf");
  mc.kernel_name = "vs_kernel.elf";
  mc.initrd = {beside_this_program("guest/kernel/initrd.cpio")};
  mc.append = "run=sh";
  mc.debug_exit = true;
  std::string console;
  vmm::Machine* machine = nullptr;
  mc.serial_out[0] = [&console, &machine](uint8_t b) {
    console.push_back(char(b));
    if (machine && console.size() >= 2 && console.compare(console.size() - 2, 2, "$ ") == 0) machine->request_stop();
  };
  const auto t1 = std::chrono::steady_clock::now();
  std::unique_ptr<vmm::Machine> m = vmm::Machine::create(mc, error);
  if (!m) {
    std::fprintf(stderr, "virtscope bench containers: %s\n", error.c_str());
    return 1;
  }
  machine = m.get();
  const vmm::MachineStop stop = m->run(1'000'000'000);
  const double vm_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  if (stop != vmm::MachineStop::Requested) {
    std::fprintf(stderr, "virtscope bench containers: the VM's shell never prompted (%s)\n",
                 vmm::machine_stop_name(stop));
    return 1;
  }
  struct {
    uint64_t instructions;
  } vm{m->instructions()};

  std::printf("%u containers started together on one machine, each a shell at its prompt:\n", count);
  std::printf("  instructions, all of them      %12llu   (%.0f per container; the kernel is not emulated: it is C++)\n",
              (unsigned long long)c.instructions, c.instructions_per_container());
  std::printf("  system calls, page faults      %12llu   %llu\n", (unsigned long long)c.syscalls,
              (unsigned long long)c.page_faults);
  std::printf("  emulated RAM in use            %12llu B (%.0f B = %.1f pages per container: page tables + touched pages)\n",
              (unsigned long long)(c.frames * 4096), c.bytes_per_container(), c.bytes_per_container() / 4096);
  std::printf("  image bytes unpacked           %12llu B once, shared by every container (%llu unpacked, %llu shared)\n",
              (unsigned long long)c.layer_bytes, (unsigned long long)c.layers_unpacked,
              (unsigned long long)c.layers_shared);
  std::printf("one VM booting the teaching kernel to the same shell:\n");
  std::printf("  instructions                   %12llu   (boot, then the shell up to its prompt)\n",
              (unsigned long long)vm.instructions);
  std::printf("  RAM the VM holds               %12u B (-m; the smallest the teaching kernel boots with is in docs)\n",
              vm_ram);
  std::printf("ratios: a VM start = %.0f container starts; a VM's RAM = %.0f containers' RAM\n",
              vm.instructions / std::max(1.0, c.instructions_per_container()),
              vm_ram / std::max(1.0, c.bytes_per_container()));
  std::printf("host seconds (vary from run to run): containers %.3f, VM %.3f\n", container_seconds, vm_seconds);
  return 0;
}

}  // namespace vs::app
